import type { ClientSnapshot } from './clientUnderTest.ts';
import type { LatencySummary } from './perfReport.ts';
import { type Buckets, bucketDelta, bucketQuantile } from './promText.ts';

/**
 * Frame latency over a window, measured with the same instrument for both clients: the
 * connector's histogram delta, or the baseline's exact 1 ms counts folded into the connector's
 * buckets.
 */

function exactQuantileMs(pairs: ReadonlyArray<readonly [number, number]>, q: number): number | undefined {
  const total = pairs.reduce((count, [, n]) => count + n, 0);
  if (total === 0) return undefined;
  const rank = q * total;
  let seen = 0;
  for (const [ms, n] of pairs) {
    seen += n;
    if (seen >= rank) return ms;
  }
  return pairs.at(-1)?.[0];
}

/** The connector's `rtms_frame_latency_seconds` bucket bounds, s (worker/workerMetrics.ts). */
const CONNECTOR_BUCKETS_S = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, Number.POSITIVE_INFINITY];

/** Exact 1 ms counts → cumulative buckets with the connector's bounds. */
function toConnectorBuckets(pairs: ReadonlyArray<readonly [number, number]>): Buckets {
  return CONNECTOR_BUCKETS_S.map((bound) => [bound, pairs.reduce((count, [ms, n]) => (ms / 1000 <= bound ? count + n : count), 0)] as const);
}

const roundMs = (seconds: number | undefined): number | undefined =>
  seconds === undefined ? undefined : seconds === Number.POSITIVE_INFINITY ? seconds : Math.round(seconds * 10_000) / 10;

function above50(buckets: Buckets): number | undefined {
  const total = buckets.at(-1)?.[1] ?? 0;
  const within = buckets.find(([bound]) => bound === 0.05)?.[1];
  return total === 0 || within === undefined ? undefined : Math.round(((total - within) / total) * 100_000) / 1000;
}

export function latencySummary(start: ClientSnapshot, end: ClientSnapshot, kind: 'audio' | 'video'): LatencySummary {
  if (end.baselineLatency !== undefined) {
    const pairs = end.baselineLatency[kind];
    const buckets = toConnectorBuckets(pairs);
    const p99 = bucketQuantile(buckets, 0.99);
    return {
      frames: pairs.reduce((count, [, n]) => count + n, 0),
      p50Ms: exactQuantileMs(pairs, 0.5),
      p99Ms: exactQuantileMs(pairs, 0.99),
      p99BucketMs: roundMs(p99?.bucketUpperBound),
      p99InConnectorBucketsMs: roundMs(p99?.value),
      above50MsPercent: above50(buckets),
      method: 'exact, 1 ms resolution: Date.now() at receipt − content.timestamp',
    };
  }
  const buckets = bucketDelta(end.latency?.[kind] ?? [], start.latency?.[kind] ?? []);
  const p50 = bucketQuantile(buckets, 0.5);
  const p99 = bucketQuantile(buckets, 0.99);
  return {
    frames: buckets.at(-1)?.[1] ?? 0,
    p50Ms: roundMs(p50?.value),
    p99Ms: roundMs(p99?.value),
    p99BucketMs: roundMs(p99?.bucketUpperBound),
    p99InConnectorBucketsMs: roundMs(p99?.value),
    above50MsPercent: above50(buckets),
    method: 'rtms_frame_latency_seconds (server timestamp → hand-over to the sink), window delta, interpolated within buckets',
  };
}
