/**
 * Just enough of the Prometheus text format for the benchmark: sample lines as
 * `{name, labels, value}`, histogram bucket deltas between two scrapes, and quantiles
 * interpolated within a bucket the way `histogram_quantile()` does.
 */

export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

export function parsePrometheusText(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = LINE.exec(line);
    if (match === null) continue;
    const labels: Record<string, string> = {};
    for (const label of (match[2] ?? '').matchAll(LABEL)) labels[label[1] as string] = label[2] as string;
    const raw = match[3] as string;
    const value = raw === '+Inf' ? Number.POSITIVE_INFINITY : raw === '-Inf' ? Number.NEGATIVE_INFINITY : Number(raw);
    samples.push({ name: match[1] as string, labels, value });
  }
  return samples;
}

/** Cumulative bucket counts of one histogram series: `[upperBound, count]` sorted by bound (+Inf last). */
export type Buckets = ReadonlyArray<readonly [number, number]>;

/** The buckets of `name` whose labels include `match`, summed over the other labels (e.g. over workers). */
export function histogramBuckets(samples: readonly Sample[], name: string, match: Readonly<Record<string, string>> = {}): Buckets {
  const byBound = new Map<number, number>();
  for (const sample of samples) {
    if (sample.name !== `${name}_bucket`) continue;
    if (!Object.entries(match).every(([key, value]) => sample.labels[key] === value)) continue;
    const le = sample.labels['le'];
    if (le === undefined) continue;
    const bound = le === '+Inf' ? Number.POSITIVE_INFINITY : Number(le);
    byBound.set(bound, (byBound.get(bound) ?? 0) + sample.value);
  }
  return [...byBound.entries()].sort((a, b) => a[0] - b[0]);
}

/** later − earlier, bucket by bucket (both from the same series). */
export function bucketDelta(later: Buckets, earlier: Buckets): Buckets {
  const before = new Map(earlier);
  return later.map(([bound, count]) => [bound, count - (before.get(bound) ?? 0)] as const);
}

export interface BucketQuantile {
  /** Linear interpolation inside the bucket (Prometheus `histogram_quantile`), seconds. */
  readonly value: number;
  /** Upper bound of the bucket the quantile falls in, seconds (+Inf possible). */
  readonly bucketUpperBound: number;
}

/** Quantile `q` (0..1) of cumulative buckets; undefined when empty. */
export function bucketQuantile(buckets: Buckets, q: number): BucketQuantile | undefined {
  const total = buckets.at(-1)?.[1] ?? 0;
  if (total <= 0) return undefined;
  const rank = q * total;
  let lowerBound = 0;
  let lowerCount = 0;
  for (const [bound, count] of buckets) {
    if (count >= rank) {
      if (bound === Number.POSITIVE_INFINITY) return { value: lowerBound, bucketUpperBound: bound };
      const inBucket = count - lowerCount;
      const value = inBucket <= 0 ? bound : lowerBound + ((bound - lowerBound) * (rank - lowerCount)) / inBucket;
      return { value, bucketUpperBound: bound };
    }
    lowerBound = bound;
    lowerCount = count;
  }
  return undefined;
}

/** Value of the first sample named `name` whose labels include `match`. */
export function sampleValue(samples: readonly Sample[], name: string, match: Readonly<Record<string, string>> = {}): number | undefined {
  return samples.find((sample) => sample.name === name && Object.entries(match).every(([key, value]) => sample.labels[key] === value))?.value;
}
