import { setTimeout as sleep } from 'node:timers/promises';
import { measureWindow } from './measureWindow.ts';
import type { ClientKind, PerfOptions, VariantSettings } from './perfOptions.ts';
import type { WindowReport } from './perfReport.ts';
import { addStreams, withClientUnderLoad } from './perfRun.ts';

/**
 * The ramp (`--ramp`): one client and one load, streams added a step at a time with a
 * measured window each, until a step fails its criteria; the largest K that passed.
 */

export function runRamp(
  kind: ClientKind,
  options: PerfOptions,
  settings: VariantSettings,
): Promise<{ steps: WindowReport[]; largest: number | undefined; windowUs: [number, number] | undefined; stoppedBecause: string | undefined }> {
  // The ramp never keeps its output; --keep-output is for a single run.
  return withClientUnderLoad(kind, options, settings, 'rtms-perf-ramp-', false, async (client, sim, idle) => {
    const steps: WindowReport[] = [];
    let largest: number | undefined;
    let windowUs: [number, number] | undefined;
    let stoppedBecause: string | undefined;
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
    return { steps, largest, windowUs, stoppedBecause };
  });
}
