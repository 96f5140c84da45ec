import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { envPairs } from '../envPairs.ts';
import { type PerfOptions, VARIANTS, type Variant } from './perfOptions.ts';

/** The flags of `npm run bench -- perf`, printed by `--help` and after a bad flag. */
export const USAGE = `Usage: node bench/perf/perfBench.ts [flags]   (or: npm run bench -- perf [flags])

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
