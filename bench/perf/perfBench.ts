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
 * This file is the entry; the parts: flags `perfArgs.ts` (options `perfOptions.ts`), the run of
 * one client `perfRun.ts` and the ramp `perfRamp.ts`, the clients `clientUnderTest.ts`, one
 * measured window `measureWindow.ts`, the results `perfReport.ts`, `perfTable.ts`, `perfGoals.ts`.
 *
 *   node bench/perf/perfBench.ts [--streams 200] [--seconds 60] [--variant audio20|audio100|video]
 *                                [--ramp [--ramp-start 100 --ramp-step 100 --ramp-max 1000]]
 *                                [--only connector|baseline] [--cpu-prof DIR] ...   (--help)
 *   npm run bench -- perf [same flags]
 */
import { mkdir } from 'node:fs/promises';
import { cpus, release, totalmem } from 'node:os';
import { writeBenchResult } from '../benchResult.ts';
import { killAll } from './childProcesses.ts';
import { summarizeProfileDir } from './cpuProfileSummary.ts';
import { startBenchObjectStore } from './objectStoreSwitch.ts';
import { USAGE, parsePerfArgs } from './perfArgs.ts';
import { goals } from './perfGoals.ts';
import { type PerfOptions, variantSettings } from './perfOptions.ts';
import { runRamp } from './perfRamp.ts';
import type { PerfReport, WindowReport } from './perfReport.ts';
import { runOne } from './perfRun.ts';
import { formatReport } from './perfTable.ts';

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
