/**
 * What one start of the real connector (`node src/main.ts`) costs in CPU, with and without
 * Node's compile cache, and with the Redis client loaded:
 *
 *   node bench/perf/startupCost.ts [--runs 5] [--worker-threads 2] [--redis-url redis://127.0.0.1:6379]
 *   (or `npm run bench -- startup`)
 *
 * Each start gets a fresh OUTPUT_DIR and the environment the tests use (connectorEnv). The CPU
 * figure is utime + stime of the whole process (main thread, worker threads, libuv's pool) read
 * from /proc half a second after the "rtms-connector listening" line, so the workers' own
 * start-up is in it; "to listening" is the time from spawn to that line. Variants:
 *
 * - cache off: NODE_DISABLE_COMPILE_CACHE=1;
 * - cache cold: a fresh, empty NODE_COMPILE_CACHE for each start (compiles, then writes the cache);
 * - cache warm: one NODE_COMPILE_CACHE shared by every start, primed by an unrecorded start;
 * - warm + REDIS_URL: the same cache (primed by an unrecorded start with REDIS_URL too, so the
 *   Redis client is in it), with the local Redis; skipped with a note when it is unreachable.
 *
 * The variants take turns run by run (paired runs: the machine is shared and noisy), the order
 * rotating each run. Prints a table, writes bench/results/startup-<time>.json; exit 1 unless
 * the warm median CPU is below the cache-off median (the cache must pay for itself) and every
 * start reported the cache it was given and stopped with exit 0 on SIGTERM.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { connect } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ConnectorProcess, connectorEnv, randomCredentials } from '../../test/support/connectorProcess.ts';
import { writeBenchResult } from '../benchResult.ts';
import { minMedianMax } from '../minMedianMax.ts';
import { type CpuTimes, loadAverage, processCpuSeconds, threadCpu } from './procStats.ts';

/** How long after "listening" the CPU is read: the workers finish loading meanwhile. */
const SETTLE_MS = 500;
const ADMIN_TOKEN = 'startup-bench-admin-token-0123456789abcdef';
const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

const USAGE = `Usage: node bench/perf/startupCost.ts [flags]   (or: npm run bench -- startup [flags])

  --runs N             starts of each variant (default 5)
  --worker-threads N   the connector's WORKER_THREADS (default 2)
  --redis-url URL      the Redis of the "warm + REDIS_URL" variant (default ${DEFAULT_REDIS_URL});
                       the variant is skipped when it does not answer
`;

interface StartupOptions {
  readonly runs: number;
  readonly workerThreads: number;
  readonly redisUrl: string;
}

interface Variant {
  readonly name: string;
  /** The cache the "listening" line must report: 'off', or one inside the directory given (Node adds a per-version subdirectory). */
  readonly expectCache: 'off' | 'given';
  /** Environment on top of connectorEnv for run `run`. */
  readonly env: (run: number) => Promise<Record<string, string>>;
}

interface StartSample {
  readonly variant: string;
  readonly run: number;
  /** utime + stime of the whole process SETTLE_MS after "listening", seconds. */
  readonly cpuSeconds: number;
  /** Spawn to the "listening" line, ms. */
  readonly listeningMs: number;
  /** The "listening" line's `compileCache`: a directory, or 'off'. */
  readonly compileCache: string;
  readonly cacheAsExpected: boolean;
  readonly exitCode: number | null;
  /** CPU per thread name at the same moment (main thread, workers, libuv pool), seconds. */
  readonly threads: Record<string, CpuTimes>;
}

interface VariantSummary {
  readonly variant: string;
  readonly cpuSeconds: { min: number; median: number; max: number };
  readonly listeningMs: { min: number; median: number; max: number };
}

/** The options, or 'help'; throws on a bad value. */
function parseStartupArgs(argv: readonly string[]): StartupOptions | 'help' {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      runs: { type: 'string', default: '5' },
      'worker-threads': { type: 'string', default: '2' },
      'redis-url': { type: 'string', default: DEFAULT_REDIS_URL },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) return 'help';
  const runs = Number(values.runs);
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs: expected a positive integer, got ${JSON.stringify(values.runs)}`);
  const workerThreads = Number(values['worker-threads']);
  if (!Number.isInteger(workerThreads) || workerThreads < 1) {
    throw new Error(`--worker-threads: expected a positive integer, got ${JSON.stringify(values['worker-threads'])}`);
  }
  if (!URL.canParse(values['redis-url']) || !/^rediss?:$/.test(new URL(values['redis-url']).protocol)) {
    throw new Error(`--redis-url: expected a redis:// URL, got ${JSON.stringify(values['redis-url'])}`);
  }
  return { runs, workerThreads, redisUrl: values['redis-url'] };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Whether something accepts TCP connections at the URL's host and port within a second. */
function reachable(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname.replace(/^\[|\]$/g, ''), port: Number(port || 6379), timeout: 1000 });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.once('connect', () => done(true));
    socket.once('timeout', () => done(false));
    socket.once('error', () => done(false));
  });
}

/** Bytes of the files under `directory`, recursively. */
async function directoryBytes(directory: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(directory, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) total += (await stat(join(entry.parentPath, entry.name))).size;
  }
  return total;
}

/** One start: spawn, wait for "listening", read the CPU SETTLE_MS later, SIGTERM. */
async function startOnce(workDir: string, extra: Record<string, string>): Promise<Omit<StartSample, 'variant' | 'run' | 'cacheAsExpected'>> {
  const outputDir = await mkdtemp(join(workDir, 'output-'));
  const credentials = randomCredentials('startup');
  const spawnedAt = performance.now();
  const connector = await ConnectorProcess.start({ env: connectorEnv({ credentials, outputDir, adminToken: ADMIN_TOKEN, extra }) });
  const listeningMs = performance.now() - spawnedAt;
  await sleep(SETTLE_MS);
  const pid = connector.pid;
  const threads = pid === undefined ? {} : threadCpu(pid);
  const cpuSeconds = pid === undefined ? undefined : processCpuSeconds(pid);
  const exitCode = await connector.stop('SIGTERM');
  if (cpuSeconds === undefined) throw new Error(`the connector exited before its CPU was read (exit ${exitCode}):\n${connector.logLines.join('\n')}`);
  const listening = connector.logLines.map(parseLine).find((entry) => entry?.['msg'] === 'rtms-connector listening');
  await rm(outputDir, { recursive: true, force: true });
  return { cpuSeconds, listeningMs, compileCache: typeof listening?.['compileCache'] === 'string' ? listening['compileCache'] : '?', exitCode, threads };
}

function parseLine(line: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(line);
    return value !== null && typeof value === 'object' ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

export async function startupCostMain(argv: readonly string[]): Promise<number> {
  let options: StartupOptions | 'help';
  try {
    options = parseStartupArgs(argv);
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    return 2;
  }
  if (options === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  const startedAt = new Date();
  const workDir = await mkdtemp(join(tmpdir(), 'rtms-startup-'));
  const warmCache = join(workDir, 'cache-warm');
  const base = { WORKER_THREADS: String(options.workerThreads) };
  // Keys of its own, so the Redis variant leaves whatever else uses that Redis alone.
  const redisEnv = { REDIS_URL: options.redisUrl, CLUSTER_KEY_PREFIX: `rtms-bench-startup:${randomBytes(4).toString('hex')}:` };
  const redisUp = await reachable(options.redisUrl);
  const notes: string[] = [];
  if (!redisUp) notes.push(`warm + REDIS_URL skipped: nothing answers at ${options.redisUrl}`);
  const variants: Variant[] = [
    { name: 'cache off', expectCache: 'off', env: async () => ({ ...base, NODE_DISABLE_COMPILE_CACHE: '1' }) },
    {
      name: 'cache cold',
      expectCache: 'given',
      env: async (run) => {
        const directory = join(workDir, `cache-cold-${run}`);
        await mkdir(directory);
        return { ...base, NODE_COMPILE_CACHE: directory };
      },
    },
    { name: 'cache warm', expectCache: 'given', env: async () => ({ ...base, NODE_COMPILE_CACHE: warmCache }) },
    ...(redisUp
      ? [{ name: 'warm + REDIS_URL', expectCache: 'given' as const, env: async () => ({ ...base, NODE_COMPILE_CACHE: warmCache, ...redisEnv }) }]
      : []),
  ];
  const samples: StartSample[] = [];
  let warmCacheBytes: number;
  try {
    // Unrecorded: fills the shared cache (Node writes it as each thread exits).
    await mkdir(warmCache);
    await startOnce(workDir, { ...base, NODE_COMPILE_CACHE: warmCache });
    if (redisUp) await startOnce(workDir, { ...base, NODE_COMPILE_CACHE: warmCache, ...redisEnv });
    warmCacheBytes = await directoryBytes(warmCache);
    if (warmCacheBytes === 0) notes.push('the priming start left the warm cache empty: "cache warm" is not warm');
    for (let run = 1; run <= options.runs; run++) {
      for (let i = 0; i < variants.length; i++) {
        const variant = variants[(run - 1 + i) % variants.length]!;
        const env = await variant.env(run);
        const sample = await startOnce(workDir, env);
        const cacheAsExpected = variant.expectCache === 'off' ? sample.compileCache === 'off' : sample.compileCache.startsWith(`${env['NODE_COMPILE_CACHE']}/`);
        samples.push({ variant: variant.name, run, ...sample, cacheAsExpected });
        process.stdout.write(
          `run ${run} ${variant.name.padEnd(16)} CPU ${sample.cpuSeconds.toFixed(2)} s, listening after ${sample.listeningMs.toFixed(0)} ms, cache ${sample.compileCache}\n`,
        );
      }
    }
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }

  const summaries: VariantSummary[] = variants.map((variant) => {
    const mine = samples.filter((sample) => sample.variant === variant.name);
    return { variant: variant.name, cpuSeconds: minMedianMax(mine.map((s) => s.cpuSeconds)), listeningMs: minMedianMax(mine.map((s) => s.listeningMs)) };
  });
  const median = (name: string): number => summaries.find((summary) => summary.variant === name)?.cpuSeconds.median ?? Number.NaN;
  const verdicts = [
    { name: 'the warm cache pays for itself (warm median CPU < cache-off median CPU)', pass: median('cache warm') < median('cache off') },
    { name: 'every start reported the cache it was given', pass: samples.every((sample) => sample.cacheAsExpected) },
    { name: 'every start stopped with exit 0 on SIGTERM', pass: samples.every((sample) => sample.exitCode === 0) },
  ];

  process.stdout.write(
    `\nconnector start-up: ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}, WORKER_THREADS=${options.workerThreads}, ` +
      `${options.runs} paired runs; CPU (user + system, whole process) ${SETTLE_MS} ms after "listening"; warm cache ${(warmCacheBytes / 2 ** 20).toFixed(1)} MiB\n\n`,
  );
  const width = Math.max(...summaries.map((summary) => summary.variant.length), 'variant'.length);
  process.stdout.write(`${'variant'.padEnd(width)}  CPU s min  median    max  to listening ms min  median    max\n`);
  for (const { variant, cpuSeconds: cpu, listeningMs: ms } of summaries) {
    process.stdout.write(
      `${variant.padEnd(width)}  ${cpu.min.toFixed(2).padStart(9)}  ${cpu.median.toFixed(2).padStart(6)}  ${cpu.max.toFixed(2).padStart(5)}` +
        `  ${ms.min.toFixed(0).padStart(19)}  ${ms.median.toFixed(0).padStart(6)}  ${ms.max.toFixed(0).padStart(5)}\n`,
    );
  }
  for (const note of notes) process.stdout.write(`\nnote: ${note}\n`);
  process.stdout.write('\n');
  for (const verdict of verdicts) process.stdout.write(`${verdict.pass ? 'PASS' : 'FAIL'}  ${verdict.name}\n`);
  const file = await writeBenchResult('startup', startedAt, {
    machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version, loadAverage: loadAverage() },
    config: { ...options, settleMs: SETTLE_MS },
    warmCacheBytes,
    notes,
    summaries,
    verdicts,
    samples,
  });
  process.stdout.write(`\nJSON: ${file}\n`);
  return verdicts.every((verdict) => verdict.pass) ? 0 : 1;
}

if (import.meta.main) {
  process.exitCode = await startupCostMain(process.argv.slice(2));
}
