import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * Reading `grafana/rtms-connector.json` the way the tests need it: data panels (row panels
 * and their collapsed children flattened), their PromQL targets, the vector selectors in an
 * expression, and Grafana's variables substituted for evaluation against Prometheus.
 */

export const DASHBOARD_PATH = fileURLToPath(new URL('../../../grafana/rtms-connector.json', import.meta.url));

export interface DashboardTarget {
  readonly refId: string;
  readonly expr: string;
  readonly legendFormat?: string;
  readonly datasource?: { type?: string; uid?: string };
  readonly instant?: boolean;
  readonly range?: boolean;
}

export interface DashboardPanel {
  readonly id: number;
  readonly type: string;
  readonly title?: string;
  readonly description?: string;
  readonly gridPos: { h: number; w: number; x: number; y: number };
  readonly datasource?: { type?: string; uid?: string };
  readonly fieldConfig?: { defaults?: { unit?: string } };
  readonly targets?: DashboardTarget[];
  readonly panels?: DashboardPanel[];
  readonly collapsed?: boolean;
}

export interface DashboardVariable {
  readonly name: string;
  readonly type: string;
  readonly query?: string | { query?: string };
  readonly definition?: string;
  readonly datasource?: { type?: string; uid?: string };
  readonly includeAll?: boolean;
  readonly allValue?: string;
}

export interface Dashboard {
  readonly uid: string;
  readonly title: string;
  readonly schemaVersion: number;
  readonly panels: DashboardPanel[];
  readonly templating: { list: DashboardVariable[] };
}

export function loadDashboard(): Dashboard {
  return JSON.parse(readFileSync(DASHBOARD_PATH, 'utf8')) as Dashboard;
}

/** Every panel, row panels included, in order; children of collapsed rows follow their row. */
export function allPanels(dashboard: Dashboard): DashboardPanel[] {
  return dashboard.panels.flatMap((panel) => [panel, ...(panel.panels ?? [])]);
}

/** Panels that show data (everything but rows). */
export function dataPanels(dashboard: Dashboard): DashboardPanel[] {
  return allPanels(dashboard).filter((panel) => panel.type !== 'row');
}

/** Row titles in order, each with the data panels under it. */
export function sections(dashboard: Dashboard): Array<{ title: string; panels: DashboardPanel[] }> {
  const result: Array<{ title: string; panels: DashboardPanel[] }> = [];
  for (const panel of allPanels(dashboard)) {
    if (panel.type === 'row') result.push({ title: panel.title ?? '', panels: [] });
    else result.at(-1)?.panels.push(panel);
  }
  return result;
}

export function variableQuery(variable: DashboardVariable): string {
  return typeof variable.query === 'string' ? variable.query : (variable.query?.query ?? '');
}

/** A vector selector in a PromQL expression: the metric name and its `{…}` matchers, if any. */
export interface VectorSelector {
  readonly name: string;
  readonly matchers: string | undefined;
}

const NOT_METRICS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'and', 'or', 'unless', 'offset', 'inf', 'nan']);

/**
 * The vector selectors of `expr`, by a small scanner good enough for dashboard queries: it
 * drops `by (…)`-style label lists, range and subquery brackets, and identifiers followed by
 * `(` (functions and aggregations); what remains are metric names with optional matchers.
 */
export function vectorSelectors(expr: string): VectorSelector[] {
  // Every replacement keeps the length, so positions in `stripped` are positions in `expr`.
  const blank = (text: string): string => ' '.repeat(text.length);
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, (literal) => `"${'x'.repeat(literal.length - 2)}"`)
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, blank)
    .replace(/\[[^\]]*\]/g, blank);
  const selectors: VectorSelector[] = [];
  const token = /(?<![\w$.])([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(\{[^}]*\})?(\s*\()?/g;
  for (const match of stripped.matchAll(token)) {
    const [, name = '', braces, call] = match;
    if (call !== undefined && braces === undefined) continue; // function or aggregation
    if (NOT_METRICS.has(name.toLowerCase()) && braces === undefined) continue;
    const start = (match.index ?? 0) + match[0].indexOf('{');
    // The matchers from the original text (string contents were neutralised in `stripped`).
    selectors.push({ name, matchers: braces === undefined ? undefined : expr.slice(start + 1, start + braces.length - 1) });
  }
  return selectors;
}

/** Metric names a histogram or summary family exposes besides its own name. */
const SERIES_SUFFIXES = ['_bucket', '_sum', '_count'] as const;

/**
 * The family a series name belongs to, given the families a scrape declared (`# TYPE`):
 * `x_bucket`, `x_sum`, `x_count` map to `x` when `x` is a histogram or summary.
 */
export function familyOf(name: string, families: ReadonlyMap<string, string>): string {
  if (families.has(name)) return name;
  for (const suffix of SERIES_SUFFIXES) {
    if (!name.endsWith(suffix)) continue;
    const base = name.slice(0, -suffix.length);
    const type = families.get(base);
    if (type === 'histogram' || type === 'summary') return base;
  }
  return name;
}

/** `# TYPE name type` lines of a Prometheus text exposition, as name → type. */
export function exposedFamilies(exposition: string): Map<string, string> {
  const families = new Map<string, string>();
  for (const line of exposition.split('\n')) {
    const match = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (\w+)/.exec(line);
    if (match !== null) families.set(match[1]!, match[2]!);
  }
  return families;
}

/**
 * Replaces Grafana's variables in `expr`. Longer names first, so `$__rate_interval` is not
 * read as `$__rate` or `$__interval`; both `$name` and `${name}` forms.
 */
export function substituteVariables(expr: string, values: Readonly<Record<string, string>>): string {
  const names = Object.keys(values).sort((a, b) => b.length - a.length);
  let result = expr;
  for (const name of names) {
    const value = values[name]!;
    result = result.split(`\${${name}}`).join(value).split(`$${name}`).join(value);
  }
  return result;
}
