import { readFile } from 'node:fs/promises';
import { parsePrometheusText } from './perf/promText.ts';

/** One resident-set-size reading. */
export interface RssSample {
  /** Seconds since sampling started. */
  readonly atS: number;
  /** VmRSS of the sampled process, bytes (undefined when it could not be read). */
  readonly rssBytes: number | undefined;
  /** V8 heap used over every isolate (main thread + workers), from the connector's `/metrics`. */
  readonly heapUsedBytes?: number | undefined;
  /** V8 heap committed over every isolate: used plus what V8 keeps for growth. */
  readonly heapTotalBytes?: number | undefined;
  /** Memory the isolates hold outside their heaps (buffers), likewise. */
  readonly externalBytes?: number | undefined;
}

/** VmRSS of a process from `/proc/<pid>/status`, bytes; undefined when unavailable (exited, not Linux). */
export async function readRss(pid: number): Promise<number | undefined> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return match?.[1] === undefined ? undefined : Number(match[1]) * 1024;
  } catch {
    return undefined;
  }
}

/**
 * The connector's JS memory from its `/metrics`: main-thread heap (used, committed) and external memory plus
 * every worker's (`rtms_worker_memory_bytes`). Tells a growing heap (a leak) from RSS the
 * allocator keeps; undefined when the scrape fails.
 */
export async function readConnectorMemory(metricsUrl: string): Promise<{ heapUsedBytes: number; heapTotalBytes: number; externalBytes: number } | undefined> {
  try {
    const samples = parsePrometheusText(await (await fetch(metricsUrl)).text());
    const totals = { heapUsedBytes: 0, heapTotalBytes: 0, externalBytes: 0 };
    const field = { heap_used: 'heapUsedBytes', heap_total: 'heapTotalBytes', external: 'externalBytes' } as const;
    const mainThread = {
      nodejs_heap_size_used_bytes: 'heap_used',
      nodejs_heap_size_total_bytes: 'heap_total',
      nodejs_external_memory_bytes: 'external',
    } as const;
    for (const sample of samples) {
      const type = sample.name === 'rtms_worker_memory_bytes' ? sample.labels['type'] : mainThread[sample.name as keyof typeof mainThread];
      if (type !== undefined && type in field) totals[field[type as keyof typeof field]] += sample.value;
    }
    return totals;
  } catch {
    return undefined;
  }
}

/**
 * Samples a process's RSS every `intervalMs` (first sample at once) until `stop()`; with
 * `metricsUrl`, the connector's JS heap and external memory too.
 */
export class RssSampler {
  readonly samples: RssSample[] = [];
  readonly #pid: number;
  readonly #intervalMs: number;
  readonly #metricsUrl: string | undefined;
  readonly #startedAt = Date.now();
  #timer: NodeJS.Timeout | undefined;

  constructor(pid: number, intervalMs: number, metricsUrl?: string) {
    this.#pid = pid;
    this.#intervalMs = intervalMs;
    this.#metricsUrl = metricsUrl;
  }

  start(): void {
    void this.#sample();
    this.#timer = setInterval(() => void this.#sample(), this.#intervalMs);
  }

  /** Takes a last sample and stops. */
  async stop(): Promise<void> {
    if (this.#timer === undefined) return;
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#sample();
  }

  async #sample(): Promise<void> {
    const atS = Math.round((Date.now() - this.#startedAt) / 100) / 10;
    const [rssBytes, memory] = await Promise.all([readRss(this.#pid), this.#metricsUrl === undefined ? undefined : readConnectorMemory(this.#metricsUrl)]);
    this.samples.push({ atS, rssBytes, ...memory });
  }
}

/** Mean RSS of the samples taken in [fromS, toS), bytes; undefined when there are none. */
export function meanRss(samples: readonly RssSample[], fromS: number, toS: number): number | undefined {
  const values = samples
    .filter((sample) => sample.atS >= fromS && sample.atS < toS && sample.rssBytes !== undefined)
    .map((sample) => sample.rssBytes as number);
  return values.length === 0 ? undefined : values.reduce((sum, value) => sum + value, 0) / values.length;
}

/** Verdict on memory growth: the mean of the last minute against the mean of minute 2. */
export interface RssVerdict {
  /** Mean RSS over [60 s, 120 s), bytes. */
  readonly minute2MeanBytes: number | undefined;
  /** Mean RSS over the last 60 s of the run, bytes. */
  readonly lastMinuteMeanBytes: number | undefined;
  /** (last − minute 2) / minute 2, percent. */
  readonly changePercent: number | undefined;
  /** 'n/a' for runs shorter than 3 minutes (minute 2 and the last minute would overlap or be warm-up). */
  readonly verdict: 'pass' | 'fail' | 'n/a';
}

/**
 * RSS is flat when the last minute's mean is within `tolerancePercent` of minute 2's
 * (minute 1 is warm-up: JIT, buffers, worker start-up). Meaningful only for runs of at
 * least 3 minutes.
 */
export function rssVerdict(samples: readonly RssSample[], runSeconds: number, tolerancePercent = 10): RssVerdict {
  const minute2MeanBytes = meanRss(samples, 60, 120);
  const lastMinuteMeanBytes = meanRss(samples, runSeconds - 60, runSeconds + 0.001);
  const changePercent =
    minute2MeanBytes === undefined || lastMinuteMeanBytes === undefined ? undefined : ((lastMinuteMeanBytes - minute2MeanBytes) / minute2MeanBytes) * 100;
  const verdict = runSeconds < 180 || changePercent === undefined ? 'n/a' : Math.abs(changePercent) <= tolerancePercent ? 'pass' : 'fail';
  return { minute2MeanBytes, lastMinuteMeanBytes, changePercent, verdict };
}
