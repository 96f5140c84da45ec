import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { dataPanels, loadDashboard, sections, variableQuery, vectorSelectors, type DashboardPanel } from './dashboardModel.ts';

/**
 * The Grafana dashboard's shape, without Prometheus: variables, a title, description, unit
 * and datasource on every panel, every selector filtered by `$job` and `$instance`, rate
 * windows from `$__rate_interval`, a sane grid. test/integration/ops/dashboard.test.ts runs
 * every query against a real Prometheus.
 */

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const dashboard = loadDashboard();
const panels = dataPanels(dashboard);
const DATASOURCE = { type: 'prometheus', uid: '${datasource}' };

describe('grafana/rtms-connector.json', () => {
  it('is a classic dashboard model with a stable uid', () => {
    expect(dashboard.uid).toBe('rtms-connector');
    expect(dashboard.title).toBeTruthy();
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(36);
    expect(panels.length).toBeGreaterThan(20);
  });

  it('has one datasource variable and job / instance variables read from rtms_build_info', () => {
    const variables = dashboard.templating.list;
    const datasources = variables.filter((variable) => variable.type === 'datasource');
    expect(datasources).toHaveLength(1);
    expect(datasources[0]).toMatchObject({ name: 'datasource', query: 'prometheus' });
    const byName = new Map(variables.map((variable) => [variable.name, variable]));
    expect(byName.get('job')).toMatchObject({ type: 'query', datasource: DATASOURCE });
    expect(variableQuery(byName.get('job')!)).toBe('label_values(rtms_build_info, job)');
    expect(byName.get('instance')).toMatchObject({ type: 'query', datasource: DATASOURCE });
    expect(variableQuery(byName.get('instance')!)).toBe('label_values(rtms_build_info{job=~"$job"}, instance)');
  });

  it('has the sections overview, ingest, reliability, webhooks, Redis output, live consumers, object storage, runtime and front door, none empty', () => {
    const found = sections(dashboard);
    expect(found.map((section) => section.title)).toEqual([
      'Overview',
      'Ingest',
      'Reliability',
      'Webhooks',
      'Redis output',
      'Live consumers',
      'Object storage',
      'Runtime',
      'Front door',
    ]);
    for (const section of found) expect({ section: section.title, panels: section.panels.length }).not.toEqual({ section: section.title, panels: 0 });
  });

  it('gives every panel a title, a description, a unit, the datasource variable and at least one query', () => {
    const problems: string[] = [];
    for (const panel of panels) {
      const name = panel.title ?? `panel ${panel.id}`;
      if (!panel.title?.trim()) problems.push(`panel ${panel.id}: no title`);
      if (!panel.description?.trim()) problems.push(`${name}: no description`);
      if (!panel.fieldConfig?.defaults?.unit) problems.push(`${name}: no fieldConfig.defaults.unit`);
      if (JSON.stringify(panel.datasource) !== JSON.stringify(DATASOURCE)) problems.push(`${name}: datasource is not \${datasource}`);
      if ((panel.targets ?? []).length === 0) problems.push(`${name}: no targets`);
      for (const target of panel.targets ?? []) {
        if (JSON.stringify(target.datasource) !== JSON.stringify(DATASOURCE)) problems.push(`${name} ${target.refId}: datasource is not \${datasource}`);
        if (!target.expr?.trim()) problems.push(`${name} ${target.refId}: empty expr`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('filters every selector by $job and $instance and takes every rate window from $__rate_interval', () => {
    const problems: string[] = [];
    for (const panel of panels) {
      for (const target of panel.targets ?? []) {
        const where = `${panel.title} ${target.refId}`;
        const selectors = vectorSelectors(target.expr);
        if (selectors.length === 0) problems.push(`${where}: no metric selector`);
        for (const selector of selectors) {
          const matchers = selector.matchers ?? '';
          if (!matchers.includes('job=~"$job"') || !matchers.includes('instance=~"$instance"')) {
            problems.push(`${where}: ${selector.name} is not filtered by job=~"$job", instance=~"$instance"`);
          }
        }
        for (const window of target.expr.matchAll(/\[([^\]]*)\]/g)) {
          if (window[1] !== '$__rate_interval') problems.push(`${where}: range [${window[1]}] instead of [$__rate_interval]`);
        }
        if (/\b(?:i?rate|increase)\((?![^)]*\[)/.test(target.expr)) problems.push(`${where}: rate() without a range`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('lays panels on a 24-column grid without overlaps, with unique ids', () => {
    const all: DashboardPanel[] = dashboard.panels;
    const ids = all.flatMap((panel) => [panel.id, ...(panel.panels ?? []).map((child) => child.id)]);
    expect(new Set(ids).size).toBe(ids.length);
    const cells = new Map<string, string>();
    const clashes: string[] = [];
    for (const panel of all) {
      const { x, y, w, h } = panel.gridPos;
      if (x < 0 || w <= 0 || h <= 0 || x + w > 24) clashes.push(`${panel.title}: outside the grid`);
      for (let row = y; row < y + h; row += 1) {
        for (let column = x; column < x + w; column += 1) {
          const other = cells.get(`${row}:${column}`);
          if (other !== undefined) clashes.push(`${panel.title} overlaps ${other}`);
          cells.set(`${row}:${column}`, panel.title ?? String(panel.id));
        }
      }
    }
    expect([...new Set(clashes)]).toEqual([]);
  });
});

describe('grafana provisioning and docker-compose.example.yml', () => {
  const read = (path: string): string => readFileSync(`${ROOT}${path}`, 'utf8');

  it('provisions a Prometheus datasource and loads the dashboard from the folder compose mounts', () => {
    const datasource = read('grafana/provisioning/datasources/prometheus.yml');
    expect(datasource).toMatch(/^\s*type:\s*prometheus\s*$/m);
    expect(datasource).toMatch(/^\s*url:\s*http:\/\/prometheus:9090\s*$/m);

    const provider = read('grafana/provisioning/dashboards/rtms-connector.yml');
    const path = /^\s*path:\s*(\S+)\s*$/m.exec(provider)?.[1];
    expect(path).toBeTruthy();

    const compose = read('docker-compose.example.yml');
    for (const service of ['connector', 'prometheus', 'grafana', 'redis']) expect(compose).toMatch(new RegExp(`^  ${service}:\\s*$`, 'm'));
    // The dashboard file lands in the folder the provider reads; provisioning and scrape config are mounted.
    expect(compose).toContain(`./grafana/rtms-connector.json:${path}/rtms-connector.json`);
    expect(compose).toContain('./grafana/provisioning:/etc/grafana/provisioning');
    expect(compose).toContain('./deploy/prometheus.yml:/etc/prometheus/prometheus.yml');
  });

  it('scrapes the connector as job rtms-connector in the example Prometheus config', () => {
    const config = read('deploy/prometheus.yml');
    expect(config).toMatch(/job_name:\s*['"]?rtms-connector['"]?/);
    expect(config).toMatch(/connector:8080/);
  });
});
