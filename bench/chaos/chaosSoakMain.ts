/**
 * Chaos soak: the real connector process (src/main.ts, real worker threads, real files)
 * against the in-process Zoom stand-in in chaos mode, K streams for D minutes. Reports
 * reconnects, frames received / written / dropped per reason per media kind, frames not
 * accounted for, what the stand-in sent against what the connector received, RSS of the
 * connector every 10 s, and verdicts. OUTPUT_DIR is a small tmpfs the soak mounts (root), which
 * it fills for a few seconds at seeded times (disk-full windows, bench/diskFullWindows.ts);
 * every file must be valid at the end.
 *
 *   node bench/chaos/chaosSoakMain.ts [--streams 50] [--minutes 10] [--seed 1] [--rate 6] [--verify-audio]
 *   npm run bench -- chaos [same flags]
 *
 * The table goes to stdout, the JSON to bench/results/chaos-soak-<timestamp>.json. Exit
 * status 0 when every verdict passes (or is n/a), 1 otherwise. `runChaosSoak` (bench/chaos/runChaosSoak.ts) is also what
 * the 1-minute test in test/integration/chaos/chaosShort.test.ts runs.
 */
import { SoakDiskUnavailable } from '../diskFullWindows.ts';
import { CHAOS_SOAK_USAGE, ChaosSoakArgsError, parseChaosSoakArgs } from './chaosSoakArgs.ts';
import type { ChaosSoakOptions } from './chaosSoakOptions.ts';
import { type ChaosSoakReport, writeChaosSoakReport } from './chaosSoakReport.ts';
import { formatChaosSoakReport } from './formatChaosSoakReport.ts';
import { runChaosSoak } from './runChaosSoak.ts';

/** CLI entry: parses flags, runs, prints, writes JSON; resolves with the exit code. */
export async function chaosSoakMain(argv: readonly string[]): Promise<number> {
  let options: ChaosSoakOptions | 'help';
  try {
    options = parseChaosSoakArgs(argv);
  } catch (error) {
    if (!(error instanceof ChaosSoakArgsError)) throw error;
    process.stderr.write(`chaos soak: ${error.message}\n${error.showUsage ? `${CHAOS_SOAK_USAGE}\n` : ''}`);
    return 2;
  }
  if (options === 'help') {
    process.stdout.write(`${CHAOS_SOAK_USAGE}\n`);
    return 0;
  }
  let report: ChaosSoakReport;
  try {
    report = await runChaosSoak(options);
  } catch (error) {
    if (!(error instanceof SoakDiskUnavailable)) throw error;
    process.stderr.write(`${error.message}\n`);
    return 2;
  }
  process.stdout.write(`${formatChaosSoakReport(report)}\n`);
  const path = await writeChaosSoakReport(report);
  process.stdout.write(`results: ${path}\n`);
  return report.verdicts.ok ? 0 : 1;
}

if (import.meta.main) {
  process.exitCode = await chaosSoakMain(process.argv.slice(2));
}
