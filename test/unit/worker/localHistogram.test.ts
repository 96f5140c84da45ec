import { AggregatorRegistry, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { LocalHistogram } from '../../../src/worker/localHistogram.ts';

const BUCKETS = [0.005, 0.01, 0.05, 0.1, 1];
const KINDS = ['audio', 'video'] as const;

/** The same observations through prom-client's Histogram and through LocalHistogram. */
function both(observations: readonly [(typeof KINDS)[number], number][]): {
  reference: Registry;
  local: Registry;
  histogram: LocalHistogram<(typeof KINDS)[number]>;
} {
  const reference = new Registry();
  const local = new Registry();
  const promHistogram = new Histogram({ name: 'latency_seconds', help: 'help text', labelNames: ['media_type'], buckets: BUCKETS, registers: [reference] });
  for (const media_type of KINDS) promHistogram.zero({ media_type });
  const histogram = new LocalHistogram({
    name: 'latency_seconds',
    help: 'help text',
    labelName: 'media_type',
    labelValues: KINDS,
    buckets: BUCKETS,
    registers: [local],
  });
  for (const [kind, value] of observations) {
    promHistogram.observe({ media_type: kind }, value);
    histogram.observe(kind, value);
  }
  return { reference, local, histogram };
}

// Values on, between and beyond the bounds, including exactly a bound (le is inclusive).
const OBSERVATIONS: [(typeof KINDS)[number], number][] = [
  ['audio', 0],
  ['audio', 0.005],
  ['audio', 0.0051],
  ['audio', 0.07],
  ['audio', 1],
  ['audio', 3.5],
  ['video', 0.2],
  ['video', 0.2],
];

describe('LocalHistogram', () => {
  it('exports exactly what a prom-client Histogram with the same observations exports', async () => {
    const { reference, local } = both(OBSERVATIONS);
    expect(await local.metrics()).toBe(await reference.metrics());
    // The JSON the supervisor merges: same series and values (prom-client adds `exemplar: null`).
    const series = async (registry: Registry): Promise<unknown> =>
      (await registry.getMetricsAsJSON()).map(({ values, ...metric }) => ({
        ...metric,
        values: values.map((entry) => ({ labels: entry.labels, value: entry.value, metricName: (entry as { metricName?: string }).metricName })),
      }));
    expect(await series(local)).toEqual(await series(reference));
  });

  it('merges across registries like prom-client (AggregatorRegistry, as the supervisor does)', async () => {
    const first = both(OBSERVATIONS.slice(0, 4));
    const second = both(OBSERVATIONS.slice(4));
    const merged = AggregatorRegistry.aggregate([await first.local.getMetricsAsJSON(), await second.local.getMetricsAsJSON()]);
    const expected = AggregatorRegistry.aggregate([await first.reference.getMetricsAsJSON(), await second.reference.getMetricsAsJSON()]);
    expect(await merged.metrics()).toBe(await expected.metrics());
    expect(await merged.metrics()).toContain('latency_seconds_count{media_type="audio"} 6');
  });

  it('rejects a label value it was not declared with, and resets to zero', async () => {
    const { local, histogram } = both(OBSERVATIONS);
    expect(() => histogram.observe('chat' as 'audio', 1)).toThrow(RangeError);
    histogram.reset();
    expect(await local.metrics()).toBe(await both([]).reference.metrics());
  });
});
