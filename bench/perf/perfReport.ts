import type { RssSample, RssVerdict } from '../rssSampler.ts';
import type { ProfileSummary } from './cpuProfileSummary.ts';
import type { ClientKind, PerfOptions } from './perfOptions.ts';

/**
 * The shape of a perf run's results: one measured window per client (or per ramp step), the
 * goals they meet, and the whole report written as JSON to bench/results/perf-<timestamp>.json.
 */

export interface LatencySummary {
  readonly frames: number;
  readonly p50Ms: number | undefined;
  readonly p99Ms: number | undefined;
  /** Upper bound of the histogram bucket (connector's buckets) holding p99. */
  readonly p99BucketMs: number | undefined;
  /**
   * p99 interpolated within the connector's histogram buckets (5, 10, 25, 50, 100 ms …), for
   * both clients, so the two are compared with the same instrument.
   */
  readonly p99InConnectorBucketsMs: number | undefined;
  /** Share of frames slower than 50 ms, percent (exact: 50 ms is a bucket bound). */
  readonly above50MsPercent: number | undefined;
  readonly method: string;
}

export interface WindowReport {
  readonly client: ClientKind;
  readonly streams: number;
  readonly withVideo: number;
  readonly windowSeconds: number;
  readonly cpu: {
    /** utime + stime of the client process over the window, s. */
    readonly seconds: number;
    /** Of which user mode (JavaScript, V8, libuv) … */
    readonly userSeconds: number;
    /** … and kernel mode (socket and file syscalls). */
    readonly systemSeconds: number;
    /** Cores busy on average. */
    readonly cores: number;
    /** Per 1,000 media frames the simulator delivered in the window. */
    readonly perThousandFramesMs: number;
    /** CPU per thread name over the window, s (threads of one name summed; ≥ 0.05 s). */
    readonly threads: Readonly<Record<string, { readonly total: number; readonly user: number; readonly system: number }>>;
  };
  readonly frames: {
    /** Media messages the simulator wrote to this client's sockets in the window, by kind. */
    readonly sent: Readonly<Record<string, number>>;
    readonly sentTotal: number;
    /** Received by the client in the window (connector: from GET /streams, refreshed each second). */
    readonly received: Readonly<Record<string, number>>;
    readonly receivedTotal: number;
    /** Connector only. */
    readonly written: Readonly<Record<string, number>> | undefined;
    /** Dropped in the window, by reason (client and simulator). */
    readonly dropped: Readonly<Record<string, number>>;
    readonly droppedTotal: number;
    /** Transcript lines per stream per second the simulator produced. */
    readonly transcriptsPerStreamPerSecond: number;
  };
  readonly latency: { readonly audio: LatencySummary; readonly video: LatencySummary | undefined };
  readonly rss: {
    readonly idleBytes: number | undefined;
    readonly windowMeanBytes: number | undefined;
    readonly windowMaxBytes: number | undefined;
    /** (window mean − idle) / streams. */
    readonly perStreamBytes: number | undefined;
    readonly samples: readonly RssSample[];
    /** Minute 2 against the last minute (bench/rssSampler.ts, shared with the chaos soak). */
    readonly flatness: RssVerdict;
    /**
     * The second half of the window: its first minute against the last minute (windows of
     * 4 minutes or more). Tells a plateau reached after warm-up from steady growth.
     */
    readonly secondHalf: { readonly fromBytes: number; readonly toBytes: number; readonly changePercent: number } | undefined;
  };
  /** Event-loop lag p99 per thread over the window (delay above the 10 ms sampling interval), ms. */
  readonly eventLoopLagP99Ms: Readonly<Record<string, number>>;
  readonly streamsLive: number;
  /** Connector: bytes received and not yet on disk at the end of the window, all streams. */
  readonly bufferedBytesEnd: number | undefined;
  readonly simulator: {
    readonly cpuSeconds: number;
    readonly cores: number;
    readonly rssBytes: number | undefined;
    /** Audio packets written / (ready streams × window / packet interval). */
    readonly audioSentVsExpected: number;
    readonly keptRealTime: boolean;
    readonly backlogAudioEnd: number;
    readonly keepAliveMissesInWindow: number;
    readonly eventLoopLagP99Ms: number;
  };
  readonly machine: {
    readonly loadAverageStart: readonly number[];
    readonly loadAverageEnd: readonly number[];
    /** Whole machine busy over the window, percent of all cores. */
    readonly busyPercent: number;
  };
  readonly verdict: {
    readonly realTime: boolean;
    readonly zeroDrops: boolean;
    readonly latencyOk: boolean;
    readonly pass: boolean;
    readonly why: readonly string[];
  };
}

export interface PerfReport {
  readonly benchmark: 'perf';
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly machine: { readonly cpus: number; readonly cpuModel: string; readonly memoryGiB: number; readonly node: string; readonly kernel: string };
  readonly options: Omit<PerfOptions, 'progress'>;
  readonly runs: readonly WindowReport[];
  /** connector ÷ baseline CPU per frame, when both ran at the same K. */
  readonly cpuRatio: number | undefined;
  /** Ramp mode: per client, every step and the largest K that passed. */
  readonly ramp:
    | ReadonlyArray<{
        readonly client: ClientKind;
        readonly steps: readonly WindowReport[];
        readonly largestPassingStreams: number | undefined;
        /** Set when a step could not even start its streams (machine saturated). */
        readonly stoppedBecause: string | undefined;
      }>
    | undefined;
  readonly profile: readonly ProfileSummary[] | undefined;
  readonly goals: readonly Goal[];
  readonly ok: boolean;
}

export interface Goal {
  readonly goal: string;
  readonly measured: string;
  readonly verdict: 'met' | 'not met' | 'n/a';
}
