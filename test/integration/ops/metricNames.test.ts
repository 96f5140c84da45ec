import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRig, type Rig } from '../connectorHarness.ts';
import { exposedFamilies, familyOf, vectorSelectors } from '../../unit/ops/dashboardModel.ts';

/**
 * The names an operator reads and writes against what a real connector's `/metrics`
 * exposes: the metric table of docs/metrics.md (name, type, labels) both ways, and every metric the alert
 * rules in deploy/alerts.yml query.
 */

const METRICS_DOC = fileURLToPath(new URL('../../../docs/metrics.md', import.meta.url));
const ALERTS = fileURLToPath(new URL('../../../deploy/alerts.yml', import.meta.url));

interface TableRow {
  readonly type: string;
  readonly labels: string[];
}

/** docs/metrics.md's `| \`rtms_…\` | type | labels | meaning |` rows, by metric name. */
function documentedMetricTable(markdown: string): Map<string, TableRow> {
  const rows = new Map<string, TableRow>();
  for (const match of markdown.matchAll(/^\| `(rtms_[a-z0-9_]+)` \|\s*(\w+)\s*\|([^|]*)\|/gm)) {
    const labels = [...match[3]!.matchAll(/`([a-z_]+)`/g)].map((label) => label[1]!).sort();
    rows.set(match[1]!, { type: match[2]!, labels });
  }
  return rows;
}

/** Label names seen on the samples of each family (histogram `le` left out). */
function sampleLabels(exposition: string, families: ReadonlyMap<string, string>): Map<string, Set<string>> {
  const labels = new Map<string, Set<string>>();
  for (const line of exposition.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{([^}]*)\})? /.exec(line);
    if (match === null) continue;
    const family = familyOf(match[1]!, families);
    const names = labels.get(family) ?? new Set<string>();
    for (const pair of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="/g)) if (pair[1] !== 'le') names.add(pair[1]!);
    labels.set(family, names);
  }
  return labels;
}

let rig: Rig | undefined;
let exposition = '';

beforeAll(async () => {
  rig = await startRig();
  const response = await fetch(`${rig.connector.baseUrl}/metrics`);
  expect(response.status).toBe(200);
  exposition = await response.text();
});

afterAll(async () => {
  await rig?.close();
});

describe('metric names in docs/metrics.md and deploy/alerts.yml', () => {
  it('the metric table of docs/metrics.md lists exactly the rtms_* metrics /metrics exposes, with their types and labels', async () => {
    const families = exposedFamilies(exposition);
    const table = documentedMetricTable(await readFile(METRICS_DOC, 'utf8'));
    expect(table.size).toBeGreaterThan(0);
    const exposed = [...families.keys()].filter((name) => name.startsWith('rtms_')).sort();
    expect({ missingFromDocs: exposed.filter((name) => !table.has(name)) }).toEqual({ missingFromDocs: [] });
    expect({ notExposed: [...table.keys()].filter((name) => !families.has(name)).sort() }).toEqual({ notExposed: [] });

    const labels = sampleLabels(exposition, families);
    const mismatches: string[] = [];
    for (const [name, row] of table) {
      if (row.type !== families.get(name)) mismatches.push(`${name}: docs/metrics.md says ${row.type}, /metrics says ${families.get(name)}`);
      // Families without a sample yet (set only once Zoom or Redis reports) show no labels.
      const seen = [...(labels.get(name) ?? [])].sort();
      if (seen.length > 0 && seen.join(',') !== row.labels.join(',')) {
        mismatches.push(`${name}: docs/metrics.md labels ${row.labels.join(', ') || '(none)'}, /metrics labels ${seen.join(', ')}`);
      }
    }
    expect(mismatches).toEqual([]);
  });

  it('deploy/alerts.yml queries only metrics /metrics exposes', async () => {
    const families = exposedFamilies(exposition);
    const rules = await readFile(ALERTS, 'utf8');
    // Each `expr:` (one line or a `|` block) up to the next key.
    const exprs = [...rules.matchAll(/^(\s*)expr: (?:\|\n((?:\1 .*\n)+)|(.*)\n)/gm)].map((match) => (match[2] ?? match[3])!);
    expect(exprs.length).toBeGreaterThan(5);
    const queried = new Set<string>();
    for (const expr of exprs) for (const { name } of vectorSelectors(expr)) queried.add(familyOf(name, families));
    queried.delete('up'); // Prometheus's own per-target series
    expect([...queried].filter((name) => !families.has(name)).sort()).toEqual([]);
    expect(queried.size).toBeGreaterThan(10);
  });
});
