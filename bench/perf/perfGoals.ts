import type { Goal, PerfReport } from './perfReport.ts';
import { fmt, mb } from './perfTable.ts';

/**
 * The goals of docs/performance.md#cost-per-frame, judged on a finished report: CPU per frame
 * against the baseline, real time with zero drops and p99 ≤ 50 ms, RSS per stream and its
 * flatness, and the ramp's largest K.
 */
export function goals(report: Omit<PerfReport, 'goals' | 'ok'>): Goal[] {
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
