import { fork, spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Credentials } from '../../src/config.ts';
import { children, stopChild, waitForMessage } from './childProcesses.ts';
import { type BaselineClientConfig, type BaselineMessage, type BaselineRequest, type BaselineStats, IpcClient } from './perfIpc.ts';
import type { ClientKind, PerfOptions, VariantSettings } from './perfOptions.ts';
import { type Buckets, histogramBuckets, parsePrometheusText, sampleValue } from './promText.ts';

/**
 * The client the load is aimed at, one of two: the connector (`src/main.ts` in its own
 * process, read through `/metrics` and `/streams`) or the bare baseline client
 * (`baselineClient.ts`, read over IPC). Both answer the same snapshot at a window's edges.
 */

const HERE = dirname(fileURLToPath(import.meta.url));
const ADMIN_TOKEN = 'perf-bench-admin-token-0123456789abcdef';
const MAIN = resolve(HERE, '../../src/main.ts');

/** What a client reports at a window edge; counters are cumulative. */
export interface ClientSnapshot {
  readonly received: Record<string, number>;
  readonly written: Record<string, number> | undefined;
  readonly dropped: Record<string, number>;
  readonly latency: { readonly audio: Buckets; readonly video: Buckets } | undefined;
  readonly baselineLatency: BaselineStats['latency'] | undefined;
  readonly loopP99Seconds: Record<string, number>;
  readonly streamsLive: number;
  readonly bufferedBytes: number | undefined;
}

export interface ClientUnderTest {
  readonly kind: ClientKind;
  readonly pid: number;
  readonly webhookUrl: string;
  /** At the window start: resets per-window gauges (event-loop delay, baseline latency). */
  begin(): Promise<ClientSnapshot>;
  end(): Promise<ClientSnapshot>;
  stop(): Promise<void>;
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

export async function startClient(
  kind: ClientKind,
  options: PerfOptions,
  settings: VariantSettings,
  creds: Credentials,
  outputDir: string,
): Promise<ClientUnderTest> {
  return kind === 'connector'
    ? startConnector(options, settings, creds, outputDir)
    : startBaseline(settings, creds, options.baselineCpuProfDir, options.baselineNodeArgs);
}
