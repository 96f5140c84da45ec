import { formatProfileSummaries } from './cpuProfileSummary.ts';
import type { PerfReport, WindowReport } from './perfReport.ts';

/** The perf report as text: one column per run (or ramp step), then the ramp results, the profile and the goals. */

export const mb = (bytes: number | undefined): string => (bytes === undefined ? '-' : (bytes / 1048576).toFixed(bytes < 10 * 1048576 ? 2 : 0));
export const fmt = (value: number | undefined, digits = 1): string =>
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
