import { setTimeout as sleep } from 'node:timers/promises';
import { RssSampler, type RssSample, meanRss, rssVerdict } from '../rssSampler.ts';
import type { ClientUnderTest } from './clientUnderTest.ts';
import { latencySummary } from './latencySummary.ts';
import type { LoadSimulatorProcess } from './loadSimulatorProcess.ts';
import { type PerfOptions, type VariantSettings, latencyGoalMs } from './perfOptions.ts';
import type { LatencySummary, WindowReport } from './perfReport.ts';
import { loadAverage, machineCpuTicks, processCpu, processCpuSeconds, processRssBytes, threadCpu } from './procStats.ts';

/**
 * One measured window of a client under load: CPU (process, threads, simulator, machine),
 * frames sent / received / written / dropped, latency, RSS, event-loop lag, and the verdict
 * (real time, zero drops, latency goal).
 */

/** monitorEventLoopDelay({ resolution: 10 }) measures the timer interval itself; lag is what exceeds it. */
const LOOP_RESOLUTION_S = 0.01;

function delta(later: Readonly<Record<string, number>>, earlier: Readonly<Record<string, number>>): Record<string, number> {
  const result: Record<string, number> = {};
  for (const [key, value] of Object.entries(later)) {
    const difference = value - (earlier[key] ?? 0);
    if (difference !== 0) result[key] = difference;
  }
  return result;
}

const sum = (values: Readonly<Record<string, number>>): number => Object.values(values).reduce((total, value) => total + value, 0);

export interface WindowContext {
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

export async function measureWindow(context: WindowContext): Promise<{ report: WindowReport; windowUs: [number, number] }> {
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
