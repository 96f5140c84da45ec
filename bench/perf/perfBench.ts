/**
 * Performance against the cost floor (docs/performance.md#cost-per-frame). The Zoom stand-in runs in its own process in
 * load mode (`loadSimulator.ts`); against the same load, one after the other, run
 *   (a) the connector (`src/main.ts`, real worker threads, file sinks on a temp dir), and
 *   (b) the bare baseline client (`baselineClient.ts`): handshake, keep-alives, JSON.parse,
 *       base64 decode, discard.
 * Per run, over a measured window after a warm-up: CPU seconds per 1,000 frames of the whole
 * client process (all threads, `/proc/<pid>/stat`), frames received / written / dropped,
 * audio (and video) latency p50 / p99 from the frame's server timestamp, RSS per stream above
 * the idle process, event-loop lag p99 per thread, and whether the simulator kept real time.
 * Prints a table and writes JSON to bench/results/perf-<timestamp>.json.
 *
 *   node bench/perf/perfBench.ts [--streams 200] [--seconds 60] [--variant audio20|audio100|video]
 *                                [--ramp [--ramp-start 100 --ramp-step 100 --ramp-max 1000]]
 *                                [--only connector|baseline] [--cpu-prof DIR] ...   (--help)
 *   npm run bench -- perf [same flags]
 */
import { type ChildProcess, fork, spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { cpus, release, tmpdir, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startBenchObjectStore } from './objectStoreSwitch.ts';
import type { Credentials } from '../../src/config.ts';
import { writeBenchResult } from '../benchResult.ts';
import { envPairs } from '../envPairs.ts';
import { RssSampler, type RssSample, type RssVerdict, meanRss, rssVerdict } from '../rssSampler.ts';
import { type ProfileSummary, formatProfileSummaries, summarizeProfileDir } from './cpuProfileSummary.ts';
import {
  type BaselineClientConfig,
  type BaselineMessage,
  type BaselineRequest,
  type BaselineStats,
  IpcClient,
  type LoadSimulatorConfig,
  type LoadSimulatorMessage,
  type LoadSimulatorRequest,
  type LoadSimulatorStats,
} from './perfIpc.ts';
import { loadAverage, machineCpuTicks, processCpu, processCpuSeconds, processRssBytes, threadCpu } from './procStats.ts';
import { type Buckets, bucketDelta, bucketQuantile, histogramBuckets, parsePrometheusText, sampleValue } from './promText.ts';

const HERE = dirname(fileURLToPath(import.meta.url));
const ADMIN_TOKEN = 'perf-bench-admin-token-0123456789abcdef';
const MAIN = resolve(HERE, '../../src/main.ts');
/** monitorEventLoopDelay({ resolution: 10 }) measures the timer interval itself; lag is what exceeds it. */
const LOOP_RESOLUTION_S = 0.01;

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

interface VariantSettings {
  readonly media: readonly ('audio' | 'video' | 'transcript')[];
  readonly sendRateMs: number;
  readonly withVideo: (streams: number) => number;
}

function variantSettings(options: Pick<PerfOptions, 'variant' | 'videoStreams'>): VariantSettings {
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
function latencyGoalMs(sendRateMs: number): number | undefined {
  return sendRateMs === 20 ? 50 : undefined;
}

// ── reports ──────────────────────────────────────────────────────────────────────────────

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

// ── child processes ─────────────────────────────────────────────────────────────────────

/** Every child started and not yet reaped; killed on exit, whatever happened. */
const children = new Set<ChildProcess>();

function killAll(): void {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}
process.once('exit', killAll);

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

async function stopChild(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited(child);
  clearTimeout(timer);
  children.delete(child);
}

function waitForMessage<M extends { type: string }>(child: ChildProcess, type: string, timeoutMs: number): Promise<M> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no '${type}' from child within ${timeoutMs} ms`)), timeoutMs);
    const onMessage = (message: M): void => {
      if (message.type !== type) return;
      clearTimeout(timer);
      child.off('message', onMessage);
      resolve(message);
    };
    child.on('message', onMessage);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`child exited with ${code} before '${type}'`));
    });
  });
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

class LoadSimulatorProcess {
  readonly child: ChildProcess;
  readonly ipc: IpcClient<LoadSimulatorRequest, LoadSimulatorMessage>;

  private constructor(child: ChildProcess) {
    this.child = child;
    this.ipc = new IpcClient(child);
  }

  static async start(config: LoadSimulatorConfig, cpuProfDir?: string): Promise<LoadSimulatorProcess> {
    const child = fork(join(HERE, 'loadSimulator.ts'), [], {
      env: { ...process.env, PERF_SIM_CONFIG: JSON.stringify(config), NODE_OPTIONS: cpuProfDir === undefined ? '' : `--cpu-prof --cpu-prof-dir=${cpuProfDir}` },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    children.add(child);
    await waitForMessage(child, 'listening', 20_000);
    return new LoadSimulatorProcess(child);
  }

  get pid(): number {
    return this.child.pid as number;
  }

  async startStreams(count: number, withVideo: number, spreadMs: number): Promise<{ ready: number; failed: number; errors: readonly string[] }> {
    const reply = await this.ipc.request({ type: 'start', count, withVideo, spreadMs, readyTimeoutMs: 120_000 + spreadMs }, 180_000 + spreadMs);
    if (reply.type !== 'reply' || !reply.ok) throw new Error(`load simulator: ${reply.type === 'reply' && !reply.ok ? reply.error : 'bad reply'}`);
    return { ready: reply.ready ?? 0, failed: reply.failed ?? 0, errors: reply.errors ?? [] };
  }

  async stats(): Promise<LoadSimulatorStats> {
    const reply = await this.ipc.request({ type: 'stats' });
    if (reply.type !== 'reply' || !reply.ok || reply.stats === undefined) throw new Error('load simulator: no stats');
    return reply.stats;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null) await this.ipc.request({ type: 'close' }, 15_000).catch(() => undefined);
    await stopChild(this.child, 15_000);
  }
}

/** What a client reports at a window edge; counters are cumulative. */
interface ClientSnapshot {
  readonly received: Record<string, number>;
  readonly written: Record<string, number> | undefined;
  readonly dropped: Record<string, number>;
  readonly latency: { readonly audio: Buckets; readonly video: Buckets } | undefined;
  readonly baselineLatency: BaselineStats['latency'] | undefined;
  readonly loopP99Seconds: Record<string, number>;
  readonly streamsLive: number;
  readonly bufferedBytes: number | undefined;
}

interface ClientUnderTest {
  readonly kind: ClientKind;
  readonly pid: number;
  readonly webhookUrl: string;
  /** At the window start: resets per-window gauges (event-loop delay, baseline latency). */
  begin(): Promise<ClientSnapshot>;
  end(): Promise<ClientSnapshot>;
  stop(): Promise<void>;
}

function credentials(): Credentials {
  return {
    clientId: `perf-${randomBytes(4).toString('hex')}`,
    clientSecret: randomBytes(16).toString('hex'),
    webhookSecretToken: randomBytes(16).toString('hex'),
  };
}

interface StreamsAnswer {
  readonly streams: ReadonlyArray<{
    readonly state: string;
    readonly bufferedBytes?: number;
    readonly media?: Readonly<Record<string, { framesReceived: number; framesWritten: number; framesDropped: Record<string, number> }>>;
  }>;
}

async function startConnector(options: PerfOptions, settings: VariantSettings, creds: Credentials, outputDir: string): Promise<ClientUnderTest> {
  const env: Record<string, string> = {
    PATH: process.env['PATH'] ?? '',
    ZM_RTMS_CLIENT: creds.clientId,
    ZM_RTMS_SECRET: creds.clientSecret,
    ZM_WEBHOOK_SECRET_TOKEN: creds.webhookSecretToken,
    ADMIN_TOKEN,
    OUTPUT_DIR: join(outputDir, 'data'),
    MAX_STREAMS: '5000',
    // The load simulator serves RTMS on 127.0.0.1, outside the default (Zoom's hosts only).
    RTMS_ALLOWED_HOSTS: '127.0.0.1',
    RTMS_MEDIA: settings.media.join(','),
    RTMS_AUDIO_SEND_RATE_MS: String(settings.sendRateMs),
    // info: ConnectorProcess reads the port from the start-up line; nothing is logged per frame.
    LOG_LEVEL: 'info',
    SHUTDOWN_GRACE_MS: '30000',
  };
  if (options.workerThreads !== undefined) env['WORKER_THREADS'] = String(options.workerThreads);
  Object.assign(env, options.connectorEnv);
  if (options.cpuProfDir !== undefined) env['NODE_OPTIONS'] = `--cpu-prof --cpu-prof-dir=${options.cpuProfDir}`;
  const child = spawn(process.execPath, [...options.connectorNodeArgs, MAIN], {
    env: { ...env, PORT: '0', HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  const log = createWriteStream(join(outputDir, 'connector.log'));
  child.stderr?.pipe(log, { end: false });
  // The port comes from the start-up line (PORT=0: no race for a free port).
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the connector did not start within 30 s')), 30_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the connector exited during start-up (${code}); see ${join(outputDir, 'connector.log')}`));
    });
    createInterface({ input: child.stdout }).on('line', (line) => {
      log.write(`${line}\n`);
      if (!line.includes('rtms-connector listening')) return;
      const entry = JSON.parse(line) as { port?: unknown };
      if (typeof entry.port === 'number') {
        clearTimeout(timer);
        resolve(entry.port);
      }
    });
  });
  const baseUrl = `http://127.0.0.1:${port}`;
  const pid = child.pid as number;
  const snapshot = async (): Promise<ClientSnapshot> => {
    const headers = { authorization: `Bearer ${ADMIN_TOKEN}` };
    const [metricsText, streams] = await Promise.all([
      fetch(`${baseUrl}/metrics`).then((response) => response.text()),
      fetch(`${baseUrl}/streams`, { headers }).then((response) => response.json() as Promise<StreamsAnswer>),
    ]);
    const samples = parsePrometheusText(metricsText);
    const loop: Record<string, number> = {};
    const main = sampleValue(samples, 'nodejs_eventloop_lag_p99_seconds');
    if (main !== undefined) loop['main'] = main;
    for (const sample of samples) {
      if (sample.name === 'rtms_worker_event_loop_lag_seconds') loop[`worker ${sample.labels['worker'] ?? '?'}`] = sample.value;
    }
    const received: Record<string, number> = {};
    const written: Record<string, number> = {};
    const dropped: Record<string, number> = {};
    let live = 0;
    let buffered = 0;
    for (const stream of streams.streams) {
      if (stream.state === 'live') live += 1;
      buffered += stream.bufferedBytes ?? 0;
      for (const [kind, counters] of Object.entries(stream.media ?? {})) {
        received[kind] = (received[kind] ?? 0) + counters.framesReceived;
        written[kind] = (written[kind] ?? 0) + counters.framesWritten;
        for (const [reason, count] of Object.entries(counters.framesDropped)) dropped[`${kind}/${reason}`] = (dropped[`${kind}/${reason}`] ?? 0) + count;
      }
    }
    return {
      received,
      written,
      dropped,
      latency: {
        audio: histogramBuckets(samples, 'rtms_frame_latency_seconds', { media_type: 'audio' }),
        video: histogramBuckets(samples, 'rtms_frame_latency_seconds', { media_type: 'video' }),
      },
      baselineLatency: undefined,
      loopP99Seconds: loop,
      streamsLive: live,
      bufferedBytes: buffered,
    };
  };
  return {
    kind: 'connector',
    pid,
    webhookUrl: `${baseUrl}/webhook`,
    begin: snapshot,
    end: snapshot,
    // SIGTERM: the connector closes its streams and finalises files (and writes its CPU profiles).
    stop: async () => {
      await stopChild(child, 90_000);
      log.end();
    },
  };
}

async function startBaseline(
  settings: VariantSettings,
  creds: Credentials,
  cpuProfDir: string | undefined,
  nodeArgs: readonly string[],
): Promise<ClientUnderTest> {
  const config: BaselineClientConfig = {
    clientId: creds.clientId,
    clientSecret: creds.clientSecret,
    media: settings.media,
    audioSendRateMs: settings.sendRateMs,
  };
  const child = fork(join(HERE, 'baselineClient.ts'), [], {
    env: {
      ...process.env,
      PERF_BASELINE_CONFIG: JSON.stringify(config),
      NODE_OPTIONS: cpuProfDir === undefined ? '' : `--cpu-prof --cpu-prof-dir=${cpuProfDir}`,
    },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    execArgv: [...process.execArgv, ...nodeArgs],
  });
  children.add(child);
  const { port } = await waitForMessage<Extract<BaselineMessage, { type: 'listening' }>>(child, 'listening', 20_000);
  const ipc = new IpcClient<BaselineRequest, BaselineMessage>(child);
  const stats = async (): Promise<ClientSnapshot> => {
    const reply = await ipc.request({ type: 'stats' });
    const s = reply.type === 'reply' ? reply.stats : undefined;
    if (s === undefined) throw new Error('baseline: no stats');
    return {
      received: { ...s.frames },
      written: undefined,
      dropped: s.malformed > 0 ? { malformed: s.malformed } : {},
      latency: undefined,
      baselineLatency: s.latency,
      loopP99Seconds: { main: s.eventLoopP99Seconds },
      streamsLive: s.streamsLive,
      bufferedBytes: undefined,
    };
  };
  return {
    kind: 'baseline',
    pid: child.pid as number,
    webhookUrl: `http://127.0.0.1:${port}/webhook`,
    begin: async () => {
      await ipc.request({ type: 'resetWindow' });
      return stats();
    },
    end: stats,
    stop: () => stopChild(child, 10_000),
  };
}

// ── measuring ───────────────────────────────────────────────────────────────────────────

function delta(later: Readonly<Record<string, number>>, earlier: Readonly<Record<string, number>>): Record<string, number> {
  const result: Record<string, number> = {};
  for (const [key, value] of Object.entries(later)) {
    const difference = value - (earlier[key] ?? 0);
    if (difference !== 0) result[key] = difference;
  }
  return result;
}

const sum = (values: Readonly<Record<string, number>>): number => Object.values(values).reduce((total, value) => total + value, 0);

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

function latencySummary(start: ClientSnapshot, end: ClientSnapshot, kind: 'audio' | 'video'): LatencySummary {
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

interface WindowContext {
  readonly options: PerfOptions;
  readonly settings: VariantSettings;
  readonly client: ClientUnderTest;
  readonly sim: LoadSimulatorProcess;
  readonly streams: number;
  readonly withVideo: number;
  readonly idleRssBytes: number | undefined;
}

/** The monotonic clock in µs, the clock of V8's profile timestamps. */
function monotonicUs(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

async function measureWindow(context: WindowContext): Promise<{ report: WindowReport; windowUs: [number, number] }> {
  const { options, settings, client, sim, streams, withVideo } = context;
  const clientStart = await client.begin();
  const simStart = await sim.stats();
  const load0 = loadAverage();
  const machine0 = machineCpuTicks();
  const cpuTimes0 = processCpu(client.pid) ?? { user: 0, system: 0 };
  const threads0 = threadCpu(client.pid);
  const simCpu0 = processCpuSeconds(sim.pid) ?? 0;
  const t0 = performance.now();
  const us0 = monotonicUs();
  const rss = new RssSampler(client.pid, options.rssIntervalMs);
  rss.start();

  const windowMs = options.seconds * 1000;
  const progressEvery = Math.max(10_000, Math.min(60_000, windowMs / 5));
  for (let elapsed = 0; elapsed < windowMs; elapsed += progressEvery) {
    await sleep(Math.min(progressEvery, windowMs - elapsed));
    if (elapsed + progressEvery < windowMs) {
      const now = processRssBytes(client.pid);
      options.progress(
        `  ${client.kind} K=${streams}: ${Math.round((elapsed + progressEvery) / 1000)} s of ${options.seconds} s, RSS ${now === undefined ? '?' : Math.round(now / 1048576)} MiB`,
      );
    }
  }

  const cpuTimes1 = processCpu(client.pid) ?? { user: 0, system: 0 };
  const threads1 = threadCpu(client.pid);
  const simCpu1 = processCpuSeconds(sim.pid) ?? 0;
  const machine1 = machineCpuTicks();
  const us1 = monotonicUs();
  const seconds = (performance.now() - t0) / 1000;
  await rss.stop();
  const load1 = loadAverage();
  const simRss = processRssBytes(sim.pid);
  const clientEnd = await client.end();
  const simEnd = await sim.stats();

  const sent = delta(simEnd.sent, simStart.sent);
  const sentTotal = sum(sent);
  const received = delta(clientEnd.received, clientStart.received);
  const written = clientEnd.written === undefined || clientStart.written === undefined ? undefined : delta(clientEnd.written, clientStart.written);
  const dropped = delta(clientEnd.dropped, clientStart.dropped);
  const simDropped = delta(simEnd.dropped, simStart.dropped);
  for (const [reason, count] of Object.entries(simDropped)) dropped[`simulator/${reason}`] = count;
  const droppedTotal = sum(dropped);

  const simSeconds = (simEnd.at - simStart.at) / 1000;
  const expectedAudio = (simStart.streamsReady * simSeconds * 1000) / settings.sendRateMs;
  const audioSentVsExpected = expectedAudio > 0 ? (sent['audio'] ?? 0) / expectedAudio : 0;
  const userSeconds = cpuTimes1.user - cpuTimes0.user;
  const systemSeconds = cpuTimes1.system - cpuTimes0.system;
  const cpuSeconds = userSeconds + systemSeconds;
  const round2 = (value: number): number => Math.round(value * 100) / 100;
  const threadDeltas = Object.entries(threads1)
    .map(([thread, value]) => {
      const before = threads0[thread] ?? { user: 0, system: 0 };
      const user = round2(value.user - before.user);
      const system = round2(value.system - before.system);
      return [thread, { total: round2(user + system), user, system }] as const;
    })
    .filter(([, value]) => value.total >= 0.05)
    .sort((a, b) => b[1].total - a[1].total);

  const rssValues = rss.samples.map((sample) => sample.rssBytes).filter((value): value is number => value !== undefined);
  const windowMean = rssValues.length === 0 ? undefined : rssValues.reduce((total, value) => total + value, 0) / rssValues.length;
  const loopLag: Record<string, number> = {};
  for (const [thread, p99] of Object.entries(clientEnd.loopP99Seconds)) loopLag[thread] = Math.round(Math.max(0, p99 - LOOP_RESOLUTION_S) * 10_000) / 10;

  const audio = latencySummary(clientStart, clientEnd, 'audio');
  const video = withVideo > 0 ? latencySummary(clientStart, clientEnd, 'video') : undefined;
  const goalMs = latencyGoalMs(settings.sendRateMs);
  const keptRealTime = audioSentVsExpected >= 0.99 && simEnd.backlog.audio <= streams * 2;
  const why: string[] = [];
  if (!keptRealTime)
    why.push(`simulator behind real time: audio sent ${(audioSentVsExpected * 100).toFixed(1)}% of expected, backlog ${simEnd.backlog.audio} packets`);
  if (droppedTotal > 0) why.push(`${droppedTotal} frames dropped`);
  // With the connector's buckets, "p99 < goal" is decidable only at a bucket bound: the bucket
  // holding p99 must end at or below the goal (at least 99 % of frames were at most that late).
  const within = (summary: LatencySummary | undefined): boolean =>
    goalMs === undefined || summary === undefined || summary.frames === 0 || (summary.p99BucketMs ?? Number.POSITIVE_INFINITY) <= goalMs;
  const latencyOk = audio.frames > 0 && within(audio) && within(video);
  if (!latencyOk)
    why.push(`latency p99 audio ${audio.p99Ms ?? '?'} ms${video ? `, video ${video.p99Ms ?? '?'} ms` : ''} (goal: p99 in a bucket ≤ ${goalMs} ms)`);
  if (clientEnd.streamsLive < streams) why.push(`${clientEnd.streamsLive} of ${streams} streams live`);

  const report: WindowReport = {
    client: client.kind,
    streams,
    withVideo,
    windowSeconds: Math.round(seconds * 10) / 10,
    cpu: {
      seconds: Math.round(cpuSeconds * 100) / 100,
      userSeconds: Math.round(userSeconds * 100) / 100,
      systemSeconds: Math.round(systemSeconds * 100) / 100,
      cores: Math.round((cpuSeconds / seconds) * 1000) / 1000,
      perThousandFramesMs: sentTotal > 0 ? Math.round(((cpuSeconds * 1000) / sentTotal) * 1000 * 1000) / 1000 : 0,
      threads: Object.fromEntries(threadDeltas),
    },
    frames: {
      sent,
      sentTotal,
      received,
      receivedTotal: sum(received),
      written,
      dropped,
      droppedTotal,
      transcriptsPerStreamPerSecond: Math.round(((sent['transcript'] ?? 0) / Math.max(1, simStart.streamsReady) / simSeconds) * 1000) / 1000,
    },
    latency: { audio, video },
    rss: {
      idleBytes: context.idleRssBytes,
      windowMeanBytes: windowMean === undefined ? undefined : Math.round(windowMean),
      windowMaxBytes: rssValues.length === 0 ? undefined : Math.max(...rssValues),
      perStreamBytes: windowMean === undefined || context.idleRssBytes === undefined ? undefined : Math.round((windowMean - context.idleRssBytes) / streams),
      samples: rss.samples,
      flatness: rssVerdict(rss.samples, seconds),
      secondHalf: secondHalfChange(rss.samples, seconds),
    },
    eventLoopLagP99Ms: loopLag,
    streamsLive: clientEnd.streamsLive,
    bufferedBytesEnd: clientEnd.bufferedBytes,
    simulator: {
      cpuSeconds: Math.round((simCpu1 - simCpu0) * 100) / 100,
      cores: Math.round(((simCpu1 - simCpu0) / seconds) * 1000) / 1000,
      rssBytes: simRss,
      audioSentVsExpected: Math.round(audioSentVsExpected * 10_000) / 10_000,
      keptRealTime,
      backlogAudioEnd: simEnd.backlog.audio,
      keepAliveMissesInWindow: simEnd.keepAliveMisses - simStart.keepAliveMisses,
      eventLoopLagP99Ms: Math.round(Math.max(0, simEnd.eventLoopP99Seconds - LOOP_RESOLUTION_S) * 10_000) / 10,
    },
    machine: {
      loadAverageStart: load0,
      loadAverageEnd: load1,
      busyPercent: machine1.total > machine0.total ? Math.round(((machine1.busy - machine0.busy) / (machine1.total - machine0.total)) * 1000) / 10 : 0,
    },
    verdict: { realTime: keptRealTime, zeroDrops: droppedTotal === 0, latencyOk, pass: why.length === 0, why },
  };
  return { report, windowUs: [us0, us1] };
}

function secondHalfChange(samples: readonly RssSample[], seconds: number): WindowReport['rss']['secondHalf'] {
  if (seconds < 240) return undefined;
  const fromBytes = meanRss(samples, seconds / 2, seconds / 2 + 60);
  const toBytes = meanRss(samples, seconds - 60, seconds + 1);
  if (fromBytes === undefined || toBytes === undefined) return undefined;
  return { fromBytes: Math.round(fromBytes), toBytes: Math.round(toBytes), changePercent: Math.round(((toBytes - fromBytes) / fromBytes) * 1000) / 10 };
}

async function idleRss(pid: number): Promise<number | undefined> {
  await sleep(3000);
  const values: number[] = [];
  for (let i = 0; i < 5; i += 1) {
    const value = processRssBytes(pid);
    if (value !== undefined) values.push(value);
    await sleep(200);
  }
  return values.length === 0 ? undefined : Math.round(values.reduce((total, value) => total + value, 0) / values.length);
}

function spreadMs(options: PerfOptions, count: number): number {
  return Math.round((options.spreadSeconds ?? Math.min(10, count / 100)) * 1000);
}

async function startClient(kind: ClientKind, options: PerfOptions, settings: VariantSettings, creds: Credentials, outputDir: string): Promise<ClientUnderTest> {
  return kind === 'connector'
    ? startConnector(options, settings, creds, outputDir)
    : startBaseline(settings, creds, options.baselineCpuProfDir, options.baselineNodeArgs);
}

/** Starts `count` streams and waits for the clients to be live; throws when the simulator could not start them. */
async function addStreams(options: PerfOptions, sim: LoadSimulatorProcess, count: number, withVideo: number): Promise<void> {
  const started = await sim.startStreams(count, withVideo, spreadMs(options, count));
  if (started.failed > 0) options.progress(`  ${started.failed} of ${count} streams did not become ready: ${started.errors.join('; ')}`);
  if (started.ready === 0) throw new Error(`no stream became ready: ${started.errors.join('; ')}`);
}

/** The stand-in in load mode, aimed at `client`. */
function startLoad(options: PerfOptions, creds: ReturnType<typeof credentials>, client: ClientUnderTest): Promise<LoadSimulatorProcess> {
  return LoadSimulatorProcess.start(
    {
      credentials: creds,
      webhookUrl: client.webhookUrl,
      seed: options.seed,
      ...(options.videoFrameBytes === undefined ? {} : { videoFrameBytes: options.videoFrameBytes }),
    },
    options.simCpuProfDir,
  );
}

/** One client, one load: start, warm up, measure, stop. */
async function runOne(kind: ClientKind, options: PerfOptions, settings: VariantSettings): Promise<{ report: WindowReport; windowUs: [number, number] }> {
  const creds = credentials();
  const outputDir = await mkdtemp(join(tmpdir(), `rtms-perf-${kind}-`));
  let client: ClientUnderTest | undefined;
  let sim: LoadSimulatorProcess | undefined;
  try {
    client = await startClient(kind, options, settings, creds, outputDir);
    const idle = await idleRss(client.pid);
    sim = await startLoad(options, creds, client);
    const withVideo = settings.withVideo(options.streams);
    options.progress(`${kind}: starting ${options.streams} streams (${withVideo} with video, ${settings.sendRateMs} ms audio) ...`);
    await addStreams(options, sim, options.streams, withVideo);
    options.progress(`${kind}: all streams up; warm-up ${options.warmupSeconds} s, then a ${options.seconds} s window`);
    await sleep(options.warmupSeconds * 1000);
    return await measureWindow({ options, settings, client, sim, streams: options.streams, withVideo, idleRssBytes: idle });
  } finally {
    await client?.stop().catch(() => undefined);
    await sim?.stop().catch(() => undefined);
    if (!options.keepOutput) await rm(outputDir, { recursive: true, force: true });
    else options.progress(`${kind}: output kept in ${outputDir}`);
  }
}

async function runRamp(
  kind: ClientKind,
  options: PerfOptions,
  settings: VariantSettings,
): Promise<{ steps: WindowReport[]; largest: number | undefined; windowUs: [number, number] | undefined; stoppedBecause: string | undefined }> {
  const creds = credentials();
  const outputDir = await mkdtemp(join(tmpdir(), 'rtms-perf-ramp-'));
  const steps: WindowReport[] = [];
  let largest: number | undefined;
  let windowUs: [number, number] | undefined;
  let stoppedBecause: string | undefined;
  let client: ClientUnderTest | undefined;
  let sim: LoadSimulatorProcess | undefined;
  try {
    client = await startClient(kind, options, settings, creds, outputDir);
    const idle = await idleRss(client.pid);
    sim = await startLoad(options, creds, client);
    let current = 0;
    let videoSoFar = 0;
    for (let target = options.rampStart; target <= options.rampMax; target += options.rampStep) {
      const withVideo = settings.withVideo(target) - videoSoFar;
      options.progress(`ramp (${kind}): ${current} → ${target} streams`);
      try {
        await addStreams(options, sim, target - current, withVideo);
      } catch (error) {
        // A step whose streams cannot even start ends the ramp; the steps so far stand.
        stoppedBecause = `K=${target}: ${error instanceof Error ? error.message : String(error)}`.slice(0, 300);
        options.progress(`ramp ${kind} K=${target}: FAIL; ${stoppedBecause}`);
        break;
      }
      current = target;
      videoSoFar += withVideo;
      await sleep(options.warmupSeconds * 1000);
      const { report, windowUs: window } = await measureWindow({ options, settings, client, sim, streams: target, withVideo: videoSoFar, idleRssBytes: idle });
      steps.push(report);
      windowUs = window;
      options.progress(
        `ramp ${kind} K=${target}: ${report.verdict.pass ? 'PASS' : 'FAIL'}; CPU ${report.cpu.cores} cores, ${report.cpu.perThousandFramesMs} ms/1k frames; audio p99 ${report.latency.audio.p99Ms} ms; drops ${report.frames.droppedTotal}; simulator ${(report.simulator.audioSentVsExpected * 100).toFixed(1)}% of real time, ${report.simulator.cores} cores${report.verdict.why.length > 0 ? `; ${report.verdict.why.join('; ')}` : ''}`,
      );
      const passed =
        options.rampCriteria === 'latency' ? report.verdict.pass : report.verdict.realTime && report.verdict.zeroDrops && report.streamsLive >= target;
      if (!passed) break;
      largest = target;
    }
  } finally {
    await client?.stop().catch(() => undefined);
    await sim?.stop().catch(() => undefined);
    await rm(outputDir, { recursive: true, force: true });
  }
  return { steps, largest, windowUs, stoppedBecause };
}

// ── output ──────────────────────────────────────────────────────────────────────────────

const mb = (bytes: number | undefined): string => (bytes === undefined ? '-' : (bytes / 1048576).toFixed(bytes < 10 * 1048576 ? 2 : 0));
const fmt = (value: number | undefined, digits = 1): string =>
  value === undefined ? '-' : value === Number.POSITIVE_INFINITY ? '+Inf' : value.toFixed(digits);

function formatCounts(counts: Readonly<Record<string, number>> | undefined): string {
  if (counts === undefined) return '-';
  const entries = Object.entries(counts);
  return entries.length === 0 ? '0' : entries.map(([key, value]) => `${key} ${value}`).join(', ');
}

export function formatRuns(runs: readonly WindowReport[]): string {
  const rows: Array<[string, ...string[]]> = [
    ['client', ...runs.map((run) => run.client)],
    ['streams (video)', ...runs.map((run) => `${run.streams} (${run.withVideo})`)],
    ['window s', ...runs.map((run) => fmt(run.windowSeconds))],
    ['CPU s / cores', ...runs.map((run) => `${fmt(run.cpu.seconds, 2)} / ${fmt(run.cpu.cores, 3)}`)],
    ['CPU user / system s', ...runs.map((run) => `${fmt(run.cpu.userSeconds, 2)} / ${fmt(run.cpu.systemSeconds, 2)}`)],
    ['CPU ms per 1k frames', ...runs.map((run) => fmt(run.cpu.perThousandFramesMs, 2))],
    ['frames sent (sim)', ...runs.map((run) => formatCounts(run.frames.sent))],
    ['frames received', ...runs.map((run) => formatCounts(run.frames.received))],
    ['frames written', ...runs.map((run) => formatCounts(run.frames.written))],
    ['frames dropped', ...runs.map((run) => formatCounts(run.frames.dropped))],
    ['transcripts/stream/s', ...runs.map((run) => fmt(run.frames.transcriptsPerStreamPerSecond, 3))],
    ['audio p50 / p99 ms', ...runs.map((run) => `${fmt(run.latency.audio.p50Ms)} / ${fmt(run.latency.audio.p99Ms)}`)],
    [
      'audio p99 bucket, >50ms',
      ...runs.map(
        (run) =>
          `≤${fmt(run.latency.audio.p99BucketMs, 0)} ms (interp. ${fmt(run.latency.audio.p99InConnectorBucketsMs)}), ${fmt(run.latency.audio.above50MsPercent, 3)}%`,
      ),
    ],
    [
      'video p50 / p99 ms',
      ...runs.map((run) =>
        run.latency.video === undefined ? '-' : `${fmt(run.latency.video.p50Ms)} / ${fmt(run.latency.video.p99Ms)} (≤${fmt(run.latency.video.p99BucketMs, 0)})`,
      ),
    ],
    ['RSS idle / window MiB', ...runs.map((run) => `${mb(run.rss.idleBytes)} / ${mb(run.rss.windowMeanBytes)} (max ${mb(run.rss.windowMaxBytes)})`)],
    ['RSS per stream MiB', ...runs.map((run) => mb(run.rss.perStreamBytes))],
    [
      'RSS flat (min 2 → last)',
      ...runs.map((run) => (run.rss.flatness.verdict === 'n/a' ? 'n/a (<3 min)' : `${run.rss.flatness.verdict} ${fmt(run.rss.flatness.changePercent)}%`)),
    ],
    [
      'RSS 2nd half (start → end)',
      ...runs.map((run) =>
        run.rss.secondHalf === undefined
          ? 'n/a (<4 min)'
          : `${mb(run.rss.secondHalf.fromBytes)} → ${mb(run.rss.secondHalf.toBytes)} MiB (${fmt(run.rss.secondHalf.changePercent)}%)`,
      ),
    ],
    ['loop lag p99 ms', ...runs.map((run) => formatCounts(run.eventLoopLagP99Ms))],
    [
      'CPU by thread s (sys)',
      ...runs.map((run) =>
        Object.entries(run.cpu.threads)
          .slice(0, 5)
          .map(([name, t]) => `${name} ${t.total} (${t.system})`)
          .join(', '),
      ),
    ],
    ['sim real time', ...runs.map((run) => `${(run.simulator.audioSentVsExpected * 100).toFixed(1)}% ${run.simulator.keptRealTime ? 'yes' : 'NO'}`)],
    ['sim CPU cores', ...runs.map((run) => fmt(run.simulator.cores, 3))],
    ['sim loop lag p99 ms', ...runs.map((run) => fmt(run.simulator.eventLoopLagP99Ms))],
    ['machine busy %', ...runs.map((run) => fmt(run.machine.busyPercent))],
    ['load avg start→end', ...runs.map((run) => `${fmt(run.machine.loadAverageStart[0], 2)} → ${fmt(run.machine.loadAverageEnd[0], 2)}`)],
    ['verdict', ...runs.map((run) => (run.verdict.pass ? 'pass' : `FAIL: ${run.verdict.why.join('; ')}`))],
  ];
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length)));
  return rows
    .map((row) =>
      row
        .map((cell, column) => cell.padEnd(widths[column] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

function goals(report: Omit<PerfReport, 'goals' | 'ok'>): Goal[] {
  const result: Goal[] = [];
  const connector = report.runs.find((run) => run.client === 'connector');
  if (report.cpuRatio !== undefined && connector !== undefined) {
    result.push({
      goal: `CPU per frame ≤ 1.3× baseline (K=${connector.streams}, ${report.options.variant})`,
      measured: `${report.cpuRatio.toFixed(2)}×`,
      verdict: report.cpuRatio <= 1.3 ? 'met' : 'not met',
    });
  }
  for (const run of report.runs) {
    result.push({
      goal: `${run.client}: K=${run.streams} real time, zero drops${report.options.variant === 'audio100' ? '' : ', p99 ≤ 50 ms'}`,
      measured: `drops ${run.frames.droppedTotal}, audio p99 ${fmt(run.latency.audio.p99Ms)} ms${run.latency.video ? `, video p99 ${fmt(run.latency.video.p99Ms)} ms` : ''}, simulator ${(run.simulator.audioSentVsExpected * 100).toFixed(1)}%`,
      verdict: run.verdict.pass ? 'met' : 'not met',
    });
  }
  if (connector?.rss.perStreamBytes !== undefined) {
    result.push({
      goal: 'connector RSS ≤ 1 MB per stream',
      measured: `${(connector.rss.perStreamBytes / 1e6).toFixed(3)} MB`,
      verdict: connector.rss.perStreamBytes <= 1e6 ? 'met' : 'not met',
    });
    const flat = connector.rss.flatness;
    result.push({
      goal: 'connector RSS flat (minute 2 vs last minute within 10%)',
      measured: flat.verdict === 'n/a' ? `window ${connector.windowSeconds} s < 3 min` : `${fmt(flat.changePercent)}%`,
      verdict: flat.verdict === 'n/a' ? 'n/a' : flat.verdict === 'pass' ? 'met' : 'not met',
    });
    const half = connector.rss.secondHalf;
    if (half !== undefined) {
      result.push({
        goal: 'connector RSS flat over the second half of the window (within 2%)',
        measured: `${mb(half.fromBytes)} → ${mb(half.toBytes)} MiB (${fmt(half.changePercent)}%)`,
        verdict: Math.abs(half.changePercent) <= 2 ? 'met' : 'not met',
      });
    }
  }
  for (const ramp of report.ramp ?? []) {
    result.push({
      goal: `ramp (${ramp.client}): K ≥ 1,000 in real time, zero drops${report.options.rampCriteria === 'latency' ? ', p99 ≤ 50 ms' : ' (latency not a criterion)'}`,
      measured: `largest passing K = ${ramp.largestPassingStreams ?? 'none'} (steps ${report.options.rampStart}..${report.options.rampMax} by ${report.options.rampStep})`,
      verdict: (ramp.largestPassingStreams ?? 0) >= 1000 ? 'met' : 'not met',
    });
  }
  return result;
}

export function formatReport(report: PerfReport): string {
  const parts: string[] = [];
  const m = report.machine;
  parts.push(
    `perf: ${m.cpus} × ${m.cpuModel}, ${m.memoryGiB} GiB, Node ${m.node}, Linux ${m.kernel}; variant ${report.options.variant}, recording ${report.options.recording ?? 'auto'}`,
  );
  if (report.runs.length > 0) parts.push('', formatRuns(report.runs));
  if (report.cpuRatio !== undefined) parts.push('', `CPU per frame, connector ÷ baseline: ${report.cpuRatio.toFixed(2)}×`);
  for (const ramp of report.ramp ?? []) {
    const criteria =
      report.options.rampCriteria === 'latency' ? 'in real time with zero drops and p99 ≤ 50 ms' : 'in real time with zero drops (latency not a criterion)';
    parts.push('', `ramp (${ramp.client}): largest K held ${criteria}: ${ramp.largestPassingStreams ?? 'none'}`);
    if (ramp.stoppedBecause !== undefined) parts.push(`ramp (${ramp.client}) stopped: ${ramp.stoppedBecause}`);
    parts.push(formatRuns(ramp.steps));
  }
  if (report.profile !== undefined)
    parts.push('', 'CPU profile of the connector over the measured window (self time):', formatProfileSummaries(report.profile));
  parts.push('', 'goals:');
  for (const goal of report.goals) parts.push(`  [${goal.verdict}] ${goal.goal}: ${goal.measured}`);
  return parts.join('\n');
}

// ── entry points ────────────────────────────────────────────────────────────────────────

export async function runPerfBench(options: PerfOptions): Promise<PerfReport> {
  const startedAt = new Date();
  const settings = variantSettings(options);
  if (options.cpuProfDir !== undefined) await mkdir(options.cpuProfDir, { recursive: true });
  const runs: WindowReport[] = [];
  let connectorWindow: [number, number] | undefined;
  let ramp: PerfReport['ramp'];
  if (options.ramp) {
    const ramps: Array<NonNullable<PerfReport['ramp']>[number]> = [];
    for (const kind of options.clients) {
      const result = await runRamp(kind, options, settings);
      ramps.push({ client: kind, steps: result.steps, largestPassingStreams: result.largest, stoppedBecause: result.stoppedBecause });
      if (kind === 'connector') connectorWindow = result.windowUs;
    }
    ramp = ramps;
  } else {
    for (const kind of options.clients) {
      const { report, windowUs } = await runOne(kind, options, settings);
      runs.push(report);
      if (kind === 'connector') connectorWindow = windowUs;
      options.progress(
        `${kind}: ${report.cpu.perThousandFramesMs} ms CPU per 1k frames, ${report.verdict.pass ? 'pass' : `FAIL (${report.verdict.why.join('; ')})`}`,
      );
    }
  }
  const connector = runs.find((run) => run.client === 'connector');
  const baseline = runs.find((run) => run.client === 'baseline');
  const cpuRatio =
    connector !== undefined && baseline !== undefined && baseline.cpu.perThousandFramesMs > 0
      ? Math.round((connector.cpu.perThousandFramesMs / baseline.cpu.perThousandFramesMs) * 1000) / 1000
      : undefined;
  const profile = options.cpuProfDir === undefined ? undefined : await summarizeProfileDir(options.cpuProfDir, 25, connectorWindow).catch(() => undefined);
  const { progress: _progress, ...recordedOptions } = options;
  const partial = {
    benchmark: 'perf' as const,
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    machine: {
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? 'unknown',
      memoryGiB: Math.round(totalmem() / 2 ** 30),
      node: process.version,
      kernel: release(),
    },
    options: recordedOptions,
    runs,
    cpuRatio,
    ramp,
    profile,
  };
  const goalList = goals(partial);
  return { ...partial, goals: goalList, ok: goalList.every((goal) => goal.verdict !== 'not met') };
}

const USAGE = `Usage: node bench/perf/perfBench.ts [flags]   (or: npm run bench -- perf [flags])

  --streams K          concurrent streams (default 200)
  --seconds S          measured window per run, s (default 60)
  --warmup S           warm-up after every stream is ready, s (default 15)
  --variant V          audio20 (20 ms audio + transcripts, default), audio100, or video
                       (audio20 plus H.264 25 fps on --video-streams of the streams)
  --video-streams N    streams with video in the video variant (default 10)
  --video-frame-bytes B  pad every video frame to B bytes (e.g. 15000 ≈ 3 Mbit/s, a 720p
                       byte rate; the simulator's fixture is 160x90, a few hundred bytes/frame)
  --ramp               add --ramp-step streams at a time from --ramp-start to --ramp-max,
                       measuring a window each, until a step fails (per client; with --only,
                       that client alone)
  --ramp-start K       (default 100)   --ramp-step K (default 100)   --ramp-max K (default 1000)
  --ramp-criteria C    latency (default: real time, zero drops, p99 ≤ 50 ms) or realtime
                       (real time and zero drops only; latency still reported)
  --only C             connector or baseline (default: both, connector first)
  --workers N          connector WORKER_THREADS (default: cores)
  --cpu-prof DIR       profile the connector (--cpu-prof, every thread) and summarise the window
  --sim-cpu-prof DIR   profile the load simulator (summarise with bench/perf/cpuProfileSummary.ts)
  --baseline-cpu-prof DIR  profile the baseline client (likewise)
  --spread S           spread stream starts over S seconds (default min(10, K/100))
  --seed N             simulator seed (default 1)
  --keep-output        keep the connector's output directory
  --recording R        the connector's RECORDING: auto (default: streams with video), on
                       (audio-only streams too) or off; pair on/off runs to price it
  --env KEY=VALUE      extra connector environment (repeatable), e.g. --env STATS_INTERVAL_MS=5000
  --node-arg=FLAG      extra node flag for the connector (repeatable), e.g. --node-arg=--trace-gc
  --baseline-node-arg=FLAG  likewise for the baseline client
  --object-store       the connector uploads its output to a local s3rver meanwhile
                       (OBJECT_STORE_URL; docs/object-storage.md)
`;

export function parsePerfArgs(argv: readonly string[]): PerfOptions | 'help' {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      streams: { type: 'string' },
      seconds: { type: 'string' },
      warmup: { type: 'string' },
      variant: { type: 'string' },
      'video-streams': { type: 'string' },
      'video-frame-bytes': { type: 'string' },
      'ramp-criteria': { type: 'string' },
      ramp: { type: 'boolean' },
      'ramp-start': { type: 'string' },
      'ramp-step': { type: 'string' },
      'ramp-max': { type: 'string' },
      only: { type: 'string' },
      workers: { type: 'string' },
      'cpu-prof': { type: 'string' },
      'sim-cpu-prof': { type: 'string' },
      'baseline-cpu-prof': { type: 'string' },
      spread: { type: 'string' },
      seed: { type: 'string' },
      'keep-output': { type: 'boolean' },
      env: { type: 'string', multiple: true },
      recording: { type: 'string' },
      'node-arg': { type: 'string', multiple: true },
      'baseline-node-arg': { type: 'string', multiple: true },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) return 'help';
  const int = (name: string, value: string | undefined, fallback: number, min = 1): number => {
    if (value === undefined) return fallback;
    const parsed = Number(value);
    if (!Number.isInteger(parsed) || parsed < min) throw new Error(`--${name}: expected an integer ≥ ${min}, got ${JSON.stringify(value)}`);
    return parsed;
  };
  const recording = (values.recording ?? 'auto') as PerfOptions['recording'];
  if (!['auto', 'on', 'off'].includes(recording)) throw new Error(`--recording: expected auto, on or off, got ${JSON.stringify(values.recording)}`);
  const variant = (values.variant ?? 'audio20') as Variant;
  if (!VARIANTS.includes(variant)) throw new Error(`--variant: expected one of ${VARIANTS.join(', ')}, got ${JSON.stringify(values.variant)}`);
  const only = values.only;
  if (only !== undefined && only !== 'connector' && only !== 'baseline') throw new Error(`--only: expected connector or baseline, got ${JSON.stringify(only)}`);
  return {
    streams: int('streams', values.streams, 200),
    seconds: int('seconds', values.seconds, 60),
    warmupSeconds: int('warmup', values.warmup, 15, 0),
    variant,
    videoStreams: int('video-streams', values['video-streams'], 10, 0),
    videoFrameBytes: values['video-frame-bytes'] === undefined ? undefined : int('video-frame-bytes', values['video-frame-bytes'], 1),
    rampCriteria: (() => {
      const criteria = values['ramp-criteria'] ?? 'latency';
      if (criteria !== 'latency' && criteria !== 'realtime') throw new Error(`--ramp-criteria: expected latency or realtime, got ${JSON.stringify(criteria)}`);
      return criteria;
    })(),
    ramp: values.ramp ?? false,
    rampStart: int('ramp-start', values['ramp-start'], 100),
    rampStep: int('ramp-step', values['ramp-step'], 100),
    rampMax: int('ramp-max', values['ramp-max'], 1000),
    clients: only === undefined ? ['connector', 'baseline'] : [only],
    workerThreads: values.workers === undefined ? undefined : int('workers', values.workers, 1),
    cpuProfDir: values['cpu-prof'] === undefined ? undefined : resolve(values['cpu-prof']),
    simCpuProfDir: values['sim-cpu-prof'] === undefined ? undefined : resolve(values['sim-cpu-prof']),
    baselineCpuProfDir: values['baseline-cpu-prof'] === undefined ? undefined : resolve(values['baseline-cpu-prof']),
    seed: int('seed', values.seed, 1, 0),
    spreadSeconds: values.spread === undefined ? undefined : int('spread', values.spread, 0, 0),
    recording,
    connectorEnv: { RECORDING: recording, ...envPairs(values.env) },
    connectorNodeArgs: values['node-arg'] ?? [],
    baselineNodeArgs: values['baseline-node-arg'] ?? [],
    rssIntervalMs: 2000,
    keepOutput: values['keep-output'] ?? false,
    progress: (line) => process.stderr.write(`${line}\n`),
  };
}

/** `npm run bench -- perf [flags]`: runs, prints the table, writes the JSON; 0 when every goal measured is met. */
export async function perfMain(allArgs: readonly string[]): Promise<number> {
  const objectStore = allArgs.includes('--object-store');
  const argv = allArgs.filter((arg) => arg !== '--object-store');
  let options: PerfOptions | 'help';
  try {
    options = parsePerfArgs(argv);
  } catch (error) {
    process.stderr.write(`perf: ${error instanceof Error ? error.message : String(error)}\n\n${USAGE}`);
    return 2;
  }
  if (options === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  const onSignal = (): void => {
    killAll();
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const store = objectStore ? await startBenchObjectStore() : undefined;
  if (store !== undefined) options = { ...options, connectorEnv: { ...store.env, ...options.connectorEnv } };
  try {
    const report = await runPerfBench(options);
    process.stdout.write(`${formatReport(report)}\n`);
    if (store !== undefined) {
      const stored = await store.stop();
      process.stdout.write(`\nobject store: ${stored.objects} objects, ${(stored.bytes / 1024 / 1024).toFixed(1)} MiB stored\n`);
    }
    const file = await writeBenchResult('perf', report.startedAt, report);
    process.stdout.write(`\nJSON: ${file}\n`);
    return report.ok ? 0 : 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    killAll();
  }
}

if (import.meta.main) {
  process.exitCode = await perfMain(process.argv.slice(2));
}
