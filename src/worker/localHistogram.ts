import type { Metric, Registry } from 'prom-client';

/** What prom-client registries read from a metric (the shape `Histogram.get()` resolves to). */
export interface HistogramExport {
  readonly name: string;
  readonly help: string;
  readonly type: 'histogram';
  readonly values: readonly { readonly labels: Record<string, string | number>; readonly value: number; readonly metricName: string }[];
  readonly aggregator: 'sum';
}

export interface LocalHistogramOptions<L extends string> {
  readonly name: string;
  readonly help: string;
  /** The one label, and every value it can take (all exported from zero). */
  readonly labelName: string;
  readonly labelValues: readonly L[];
  /** Upper bounds, ascending; `+Inf` is implicit. */
  readonly buckets: readonly number[];
  readonly registers: readonly Registry[];
}

/**
 * A histogram for the per-frame path: `observe()` is an array scan and two additions, with
 * no label hashing or validation (prom-client's `Histogram.observe` costs several times as
 * much, thousands of times a second per worker). It exports exactly what a prom-client
 * `Histogram` with the same name, label and buckets would (`get()` is what registries and
 * `AggregatorRegistry` read), so scrapes and dashboards cannot tell the difference.
 */
export class LocalHistogram<L extends string> {
  readonly name: string;
  readonly help: string;
  readonly type = 'histogram' as const;
  readonly aggregator = 'sum' as const;
  readonly #labelName: string;
  readonly #labelValues: readonly L[];
  readonly #indexOf: ReadonlyMap<L, number>;
  readonly #bounds: Float64Array;
  /** Per label value: a count per bucket (not cumulative), the last one for `+Inf`. */
  readonly #counts: Float64Array[];
  readonly #sums: Float64Array;

  constructor(options: LocalHistogramOptions<L>) {
    this.name = options.name;
    this.help = options.help;
    this.#labelName = options.labelName;
    this.#labelValues = options.labelValues;
    this.#indexOf = new Map(options.labelValues.map((value, index) => [value, index]));
    this.#bounds = Float64Array.from(options.buckets);
    this.#counts = options.labelValues.map(() => new Float64Array(options.buckets.length + 1));
    this.#sums = new Float64Array(options.labelValues.length);
    // A registry takes any object with a name and get(); the type asks for prom-client's class.
    for (const registry of options.registers) registry.registerMetric(this as unknown as Metric<string>);
  }

  observe(labelValue: L, value: number): void {
    const index = this.#indexOf.get(labelValue);
    if (index === undefined) throw new RangeError(`${this.name}: unknown ${this.#labelName} ${labelValue}`);
    const bounds = this.#bounds;
    let bucket = 0;
    while (bucket < bounds.length && value > bounds[bucket]!) bucket++;
    this.#counts[index]![bucket]! += 1;
    this.#sums[index]! += value;
  }

  get(): Promise<HistogramExport> {
    const values: HistogramExport['values'][number][] = [];
    const name = this.name;
    for (const [index, labelValue] of this.#labelValues.entries()) {
      const counts = this.#counts[index]!;
      let cumulative = 0;
      for (let bucket = 0; bucket < counts.length; bucket++) {
        cumulative += counts[bucket]!;
        const le = bucket < this.#bounds.length ? this.#bounds[bucket]! : '+Inf';
        values.push({ labels: { le, [this.#labelName]: labelValue }, value: cumulative, metricName: `${name}_bucket` });
      }
      const labels = { [this.#labelName]: labelValue };
      values.push({ labels, value: this.#sums[index]!, metricName: `${name}_sum` });
      values.push({ labels, value: cumulative, metricName: `${name}_count` });
    }
    return Promise.resolve({ name, help: this.help, type: this.type, values, aggregator: this.aggregator });
  }

  reset(): void {
    for (const counts of this.#counts) counts.fill(0);
    this.#sums.fill(0);
  }
}
