import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { promtool } from '../../integration/ops/prometheusServer.ts';

/**
 * deploy/alerts.yml with the real promtool: the rules are valid, the cases in
 * alerts.promtool.yml pass, and each alert has a case that needs it to fire (renaming the
 * alert makes the cases fail). The metric names are checked against a live `/metrics` in
 * test/integration/ops/metricNames.test.ts.
 */

const RULES = fileURLToPath(new URL('../../../deploy/alerts.yml', import.meta.url));
const CASES = fileURLToPath(new URL('./alerts.promtool.yml', import.meta.url));

let rules = '';
let cases = '';
let scratch = '';

beforeAll(async () => {
  [rules, cases] = await Promise.all([readFile(RULES, 'utf8'), readFile(CASES, 'utf8')]);
  scratch = await mkdtemp(join(tmpdir(), 'rtms-alerts-'));
});

afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

/** Alert names in rule-file order. */
function alertNames(text: string): string[] {
  return [...text.matchAll(/^\s*- alert: (\S+)\s*$/gm)].map((match) => match[1]!);
}

/** Runs the cases against `rulesText` in a directory of its own under the scratch directory. */
async function testRules(rulesText: string, name: string): Promise<{ code: number | null; output: string }> {
  const dir = join(scratch, name);
  await mkdir(dir);
  await writeFile(join(dir, 'alerts.yml'), rulesText);
  await writeFile(join(dir, 'cases.yml'), cases.replace('../../../deploy/alerts.yml', 'alerts.yml'));
  return promtool(['test', 'rules', join(dir, 'cases.yml')]);
}

describe('deploy/alerts.yml', () => {
  it('passes promtool check rules', async () => {
    const result = await promtool(['check', 'rules', RULES]);
    expect(result.code, result.output).toBe(0);
    expect(result.output).toContain(`SUCCESS: ${alertNames(rules).length} rules found`);
  });

  it('covers failing streams, drops, worker restarts, capacity, webhook rejections and Redis output lag', () => {
    expect(alertNames(rules)).toEqual(
      expect.arrayContaining([
        'RtmsStreamsFailing',
        'RtmsFramesDropped',
        'RtmsWorkerRestarts',
        'RtmsCapacityHigh',
        'RtmsStreamsRefused',
        'RtmsWebhooksRejected',
        'RtmsRedisConsumerLag',
      ]),
    );
  });

  it("is loaded by the example stack's Prometheus (deploy/prometheus.yml, mounted beside it by compose)", async () => {
    const config = fileURLToPath(new URL('../../../deploy/prometheus.yml', import.meta.url));
    const result = await promtool(['check', 'config', config]);
    expect(result.code, result.output).toBe(0);
    expect(result.output).toContain('SUCCESS: 1 rule files found');
    expect(result.output).toContain(`SUCCESS: ${alertNames(rules).length} rules found`);
    const compose = await readFile(fileURLToPath(new URL('../../../docker-compose.example.yml', import.meta.url)), 'utf8');
    expect(compose).toContain('./deploy/prometheus.yml:/etc/prometheus/prometheus.yml:ro');
    expect(compose).toContain('./deploy/alerts.yml:/etc/prometheus/alerts.yml:ro');
  });

  it('passes its promtool test rules cases', async () => {
    const result = await promtool(['test', 'rules', CASES]);
    expect(result.code, result.output).toBe(0);
    expect(result.output).toContain('SUCCESS');
  });

  // One promtool process per alert, all at once: seconds on a busy machine, above the unit default.
  it('has, for every alert, a case that fails when the alert does not fire', { timeout: 20_000 }, async () => {
    const names = alertNames(rules);
    expect(names.length).toBeGreaterThan(0);
    const outcomes = await Promise.all(
      names.map(async (name) => {
        const silenced = rules.replace(new RegExp(`^(\\s*- alert: )${name}\\s*$`, 'm'), `$1${name}Renamed`);
        expect(silenced).not.toBe(rules);
        return { name, code: (await testRules(silenced, name)).code };
      }),
    );
    expect(outcomes.filter((outcome) => outcome.code === 0).map((outcome) => outcome.name)).toEqual([]);
  });
});
