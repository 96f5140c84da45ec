/**
 * What one perf run is asked to do (`PerfOptions`, filled by `perfArgs.ts`), and what each
 * load variant means for the streams: media, audio packet interval, how many carry video,
 * and whether the latency goal applies.
 */

export const VARIANTS = ['audio20', 'audio100', 'video'] as const;
export type Variant = (typeof VARIANTS)[number];
export type ClientKind = 'connector' | 'baseline';

export interface PerfOptions {
  /** Concurrent streams (default 200). */
  readonly streams: number;
  /** Measured window, s (default 60). */
  readonly seconds: number;
  /** After every stream is ready, before the window, s (default 15). */
  readonly warmupSeconds: number;
  readonly variant: Variant;
  /** With `video`: how many of the streams also carry H.264 at 25 fps (default 10). */
  readonly videoStreams: number;
  /** With `video`: pad each frame to this many bytes (720p-like byte rate); undefined = the 160x90 fixture as is. */
  readonly videoFrameBytes: number | undefined;
  /** Ramp pass criteria: real time + zero drops + latency (default), or real time + zero drops only. */
  readonly rampCriteria: 'latency' | 'realtime';
  /** Ramp mode: add streams in steps until a step fails, for each client in `clients`. */
  readonly ramp: boolean;
  readonly rampStart: number;
  readonly rampStep: number;
  readonly rampMax: number;
  /** Which clients to run (default both, connector first). */
  readonly clients: readonly ClientKind[];
  /** WORKER_THREADS of the connector (default: unset = cores). */
  readonly workerThreads: number | undefined;
  /** Profile the connector with --cpu-prof into this directory (summarised for the window). */
  readonly cpuProfDir: string | undefined;
  /** Profile the load simulator with --cpu-prof into this directory (not summarised; see cpuProfileSummary.ts). */
  readonly simCpuProfDir: string | undefined;
  /** Profile the baseline client with --cpu-prof into this directory (not summarised). */
  readonly baselineCpuProfDir: string | undefined;
  readonly seed: number;
  /** Spread stream starts over this long, s (default min(10, K / 100)). */
  readonly spreadSeconds: number | undefined;
  /** Extra node flags for the connector process (`--node-arg=--trace-gc`, repeatable) and, with `baselineNodeArgs`, for the baseline. */
  readonly connectorNodeArgs: readonly string[];
  readonly baselineNodeArgs: readonly string[];
  /** Extra connector environment (`--env KEY=VALUE`, repeatable), e.g. STATS_INTERVAL_MS. */
  readonly connectorEnv: Readonly<Record<string, string>>;
  /** The connector's `RECORDING` (`--recording`): pair runs with `on` and `off` to price the synced recording. */
  readonly recording: 'auto' | 'on' | 'off';
  /** RSS sampling period during the window, ms (default 2000). */
  readonly rssIntervalMs: number;
  readonly keepOutput: boolean;
  readonly progress: (line: string) => void;
}

export interface VariantSettings {
  readonly media: readonly ('audio' | 'video' | 'transcript')[];
  readonly sendRateMs: number;
  readonly withVideo: (streams: number) => number;
}

export function variantSettings(options: Pick<PerfOptions, 'variant' | 'videoStreams'>): VariantSettings {
  switch (options.variant) {
    case 'audio20':
      return { media: ['audio', 'transcript'], sendRateMs: 20, withVideo: () => 0 };
    case 'audio100':
      return { media: ['audio', 'transcript'], sendRateMs: 100, withVideo: () => 0 };
    case 'video':
      return { media: ['audio', 'video', 'transcript'], sendRateMs: 20, withVideo: (streams) => Math.min(streams, options.videoStreams) };
  }
}

/**
 * The latency goal, p99 < 50 ms, is stated for 20 ms audio (a packet's timestamp is
 * its first sample, so 20 ms of it is packetisation). 100 ms packets cannot meet it by
 * construction; for them latency is reported without a verdict (undefined).
 */
export function latencyGoalMs(sendRateMs: number): number | undefined {
  return sendRateMs === 20 ? 50 : undefined;
}
