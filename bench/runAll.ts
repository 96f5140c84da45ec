/**
 * `npm run bench [-- NAME... [flags]]`: runs the named benchmarks (default: all), prints
 * each one's table and writes its JSON to bench/results/. Flags after the names go to every
 * benchmark run (e.g. `npm run bench -- chaos --streams 10 --minutes 2`). Exit 0 when every
 * benchmark's verdicts pass.
 */
import { chaosSoakMain } from './chaos/chaosSoakMain.ts';
import { clusterTakeoverMain } from './clusterTakeover.ts';
import { fsCallCostMain } from './perf/fsCallCost.ts';
import { perfMain } from './perf/perfBench.ts';
import { startupCostMain } from './perf/startupCost.ts';

const BENCHMARKS: Readonly<Record<string, { readonly description: string; readonly run: (argv: readonly string[]) => Promise<number> }>> = {
  chaos: { description: 'chaos soak: the connector against the Zoom stand-in in chaos mode (default 50 streams x 10 min)', run: chaosSoakMain },
  fscost: {
    description: 'CPU per file call of the file sink, in place and through the thread pool (header rewrite, audio flush, stream.json)',
    run: fsCallCostMain,
  },
  perf: { description: 'cost floor: the connector against a bare RTMS client under the same load (CPU per frame, latency, RSS, ramp)', run: perfMain },
  startup: {
    description: 'CPU and time to listening of a connector start: compile cache off, cold and warm, and warm with REDIS_URL (paired runs)',
    run: startupCostMain,
  },
  takeover: { description: 'multi-replica takeover: SIGKILL and SIGTERM of replicas sharing a Redis, time to media flowing again', run: clusterTakeoverMain },
};

export async function runAll(argv: readonly string[]): Promise<number> {
  const firstFlag = argv.findIndex((arg) => arg.startsWith('-'));
  const names = firstFlag < 0 ? [...argv] : argv.slice(0, firstFlag);
  const flags = firstFlag < 0 ? [] : argv.slice(firstFlag);
  if (names.includes('help') || (names.length === 0 && (flags.includes('--help') || flags.includes('-h')))) {
    process.stdout.write(
      `Usage: npm run bench [-- NAME... [flags]]\n\nBenchmarks:\n${Object.entries(BENCHMARKS)
        .map(([name, b]) => `  ${name.padEnd(8)} ${b.description}`)
        .join('\n')}\n\n'npm run bench -- NAME --help' lists a benchmark's flags.\n`,
    );
    return 0;
  }
  const unknown = names.filter((name) => !(name in BENCHMARKS));
  if (unknown.length > 0) {
    process.stderr.write(`bench: unknown benchmark ${unknown.join(', ')} (known: ${Object.keys(BENCHMARKS).join(', ')})\n`);
    return 2;
  }
  let exitCode = 0;
  for (const name of names.length > 0 ? names : Object.keys(BENCHMARKS)) {
    const benchmark = BENCHMARKS[name];
    if (benchmark === undefined) continue;
    process.stdout.write(`\n== ${name}: ${benchmark.description}\n\n`);
    const code = await benchmark.run(flags);
    exitCode = Math.max(exitCode, code);
  }
  return exitCode;
}

if (import.meta.main) {
  process.exitCode = await runAll(process.argv.slice(2));
}
