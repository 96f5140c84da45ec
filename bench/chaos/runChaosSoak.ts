/** Running the chaos soak; what it runs and checks is described in bench/chaos/chaosSoakMain.ts. */
import { mkdir, mkdtemp, rm, statfs } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type ChaosOptions, type SimulatedStream, startSimulator } from 'rtms-simulator';
import { ConnectorProcess, connectorEnv as connectorEnvironment, randomCredentials } from '../../test/support/connectorProcess.ts';
import { DiskFullRunner, type DiskFullOptions, estimateOutputBytes, mountSoakDisk, planDiskFullWindows } from '../diskFullWindows.ts';
import { RssSampler } from '../rssSampler.ts';
import type { ChaosSoakOptions } from './chaosSoakOptions.ts';
import type { ChaosSoakReport } from './chaosSoakReport.ts';
import { judgeChaosSoak } from './chaosSoakVerdicts.ts';
import { mib } from './formatChaosSoakReport.ts';
import { collectStreamAccounting } from './streamAccounting.ts';

const ADMIN_TOKEN = 'chaos-soak-admin-token-0123456789abcdef';

/** Runs the soak and returns the report (does not print or write it). */
export async function runChaosSoak(options: ChaosSoakOptions = {}): Promise<ChaosSoakReport> {
  const streamCount = options.streams ?? 50;
  const durationMs = options.durationMs ?? 10 * 60_000;
  const seed = options.seed ?? 1;
  const verifyAudio = options.verifyAudio ?? false;
  const rssIntervalMs = options.rssIntervalMs ?? 10_000;
  const startSpreadMs = options.startSpreadMs ?? Math.min(5000, durationMs / 10);
  const progress = options.progress ?? (() => {});
  const startedAt = new Date();

  // The connector's silence limit and the stand-in's stall lengths are chosen together:
  // short stalls stay well below the limit, long ones well above it (see ChaosOptions).
  const keepAliveTimeoutMs = 3000;
  const simulatorSettings = { keepAliveIntervalMs: 1000, keepAliveMissLimit: 3, reconnectGraceMs: 30_000, joinTimeoutMs: 30_000 };
  const chaos: ChaosOptions = {
    seed,
    ratePerMinute: options.ratePerMinute ?? 6,
    // Timestamp jumps are off by default in the stand-in (existing seeds draw what they drew); the soak wants them.
    weights: { timestampJump: 1, ...options.weights },
    quietStartMs: 1000,
    shortStallMs: [200, 1000],
    longStallMs: [4500, 7000],
    keepAliveSuppressionMs: [4000, 8000],
    oversizedBytes: 1.5 * 1024 * 1024,
    lateWebhookDelayMs: [0, 1000],
  };
  const connectorEnv: Record<string, string> = {
    WORKER_THREADS: '2',
    RTMS_MEDIA: 'audio,video,deskshare,transcript,chat',
    RTMS_KEEPALIVE_TIMEOUT_MS: String(keepAliveTimeoutMs),
    RTMS_HANDSHAKE_TIMEOUT_MS: '5000',
    RTMS_RECONNECT_BASE_MS: '200',
    RTMS_RECONNECT_MAX_MS: '2000',
    RTMS_RECONNECT_WINDOW_MS: '25000',
    // Chaos rejoins on purpose, far more often than the budget a bad server is held to.
    RTMS_REJOIN_BUDGET: '100000',
    OUTPUT_FLUSH_INTERVAL_MS: '1000',
    STATS_INTERVAL_MS: '1000',
    MAX_STREAMS: String(Math.max(100, streamCount * 2)),
    LOG_LEVEL: 'info',
    ...options.connectorEnv,
  };

  const diskFull: DiskFullOptions = { perMinute: 0.5, seconds: [3, 8], sizeBytes: estimateOutputBytes(streamCount, durationMs), ...options.diskFull };
  const disk = (diskFull.perMinute ?? 0) > 0 ? await mountSoakDisk(diskFull.sizeBytes ?? 0) : undefined;
  const workDir = await mkdtemp(join(tmpdir(), 'rtms-chaos-soak-'));
  const outputDir = disk?.path ?? join(workDir, 'output');
  if (disk === undefined) await mkdir(outputDir);
  const creds = randomCredentials('soak');
  const connector = await ConnectorProcess.start({
    env: connectorEnvironment({ credentials: creds, outputDir, adminToken: ADMIN_TOKEN, extra: connectorEnv }),
    logFile: join(workDir, 'connector.log'),
  }).catch(async (error: unknown) => {
    // Nothing ran: no mount left behind (the log in workDir says why the connector did not start).
    await disk?.unmount();
    throw error;
  });
  const simulator = await startSimulator({
    credentials: creds,
    webhookUrl: connector.webhookUrl,
    seed,
    ...simulatorSettings,
    recordContent: verifyAudio,
    chaos,
  }).catch(async (error: unknown) => {
    await connector.stop('SIGTERM');
    await disk?.unmount();
    throw error;
  });
  const pid = connector.pid;
  const sampler = pid === undefined ? undefined : new RssSampler(pid, rssIntervalMs, `${connector.baseUrl}/metrics`);
  const streams: SimulatedStream[] = [];
  let diskFullRunner: DiskFullRunner | undefined;
  let keep = options.keepOutput ?? false;
  try {
    await simulator.validateEndpoint();
    sampler?.start();
    progress(
      `chaos soak: ${streamCount} streams x ${Math.round(durationMs / 1000)} s, seed ${seed}, connector pid ${pid ?? '?'}, log ${workDir}, output ${outputDir}` +
        (disk === undefined ? '' : ` (tmpfs ${mib(diskFull.sizeBytes)})`),
    );
    const runStartedAt = Date.now();
    if (disk !== undefined) {
      // Runs of 4 minutes or more keep the windows out of the RSS verdict's minutes (minute 2
      // and the last one): a full disk makes every stream buffer up to BUFFER_HIGH_WATER_BYTES.
      const rssMinutes = durationMs >= 240_000;
      const plan = planDiskFullWindows(
        seed,
        rssMinutes ? 125_000 : startSpreadMs + 5000,
        rssMinutes ? durationMs - 75_000 : durationMs - 10_000,
        diskFull,
        durationMs,
      );
      diskFullRunner = new DiskFullRunner(disk, plan, runStartedAt, progress);
      progress(`  disk-full windows planned at t=${plan.map((w) => `${(w.atMs / 1000).toFixed(0)} s (${(w.lengthMs / 1000).toFixed(1)} s)`).join(', ')}`);
    }
    for (let i = 0; i < streamCount; i += 1) {
      streams.push(await simulator.startStream({ product: 'meeting', participants: 3, durationMs }));
      const due = runStartedAt + ((i + 1) * startSpreadMs) / streamCount;
      if (due > Date.now()) await sleep(due - Date.now());
    }
    const ticker = setInterval(() => {
      const ended = streams.filter((stream) => stream.state === 'ended').length;
      const applied = streams.reduce((sum, stream) => sum + stream.chaos.applied(), 0);
      const rss = sampler?.samples.at(-1)?.rssBytes;
      progress(
        `  t=${Math.round((Date.now() - runStartedAt) / 1000)} s: ${ended}/${streamCount} ended, ${applied} chaos injections, connector RSS ${rss === undefined ? '?' : `${(rss / 2 ** 20).toFixed(0)} MiB`}`,
      );
    }, 30_000);
    try {
      await Promise.all(streams.map((stream) => stream.whenEnded()));
    } finally {
      clearInterval(ticker);
    }
    const runSeconds = (Date.now() - runStartedAt) / 1000;
    const windows = (await diskFullRunner?.stop()) ?? [];
    await sampler?.stop();
    progress(`  every stream ended at the stand-in after ${runSeconds.toFixed(0)} s; collecting the connector's accounting and checking every file`);
    const collectStartedAt = Date.now();

    const accounting = await collectStreamAccounting(connector, outputDir, streams, verifyAudio);
    progress(`  ${accounting.filesChecked} files checked, accounting collected in ${((Date.now() - collectStartedAt) / 1000).toFixed(0)} s`);
    const rssSamples = sampler === undefined ? [] : sampler.samples;
    const judgement = judgeChaosSoak(accounting, streams, windows, rssSamples, runSeconds, verifyAudio);
    let outputBytes: number | undefined;
    if (disk !== undefined) {
      const fs = await statfs(outputDir);
      outputBytes = (fs.blocks - fs.bfree) * fs.bsize;
    }
    if (!judgement.verdicts.ok) keep = true;
    const finishedAt = new Date();
    return {
      benchmark: 'chaos-soak',
      startedAt: startedAt.toISOString(),
      finishedAt: finishedAt.toISOString(),
      wallSeconds: Math.round((finishedAt.getTime() - startedAt.getTime()) / 100) / 10,
      config: { streams: streamCount, durationMs, seed, chaos, connectorEnv, simulator: simulatorSettings, verifyAudio, diskFull },
      streamStates: accounting.streamStates,
      chaos: judgement.chaos,
      reconnects: { total: accounting.reconnects, byRejoin: accounting.byRejoin },
      simulator: judgement.simulator,
      frames: judgement.frames,
      audioBytesWritten: accounting.audioBytesWritten,
      diskFull: {
        tmpfsBytes: disk === undefined ? undefined : diskFull.sizeBytes,
        outputBytes,
        count: windows.length,
        totalSeconds: Math.round(windows.reduce((sum, window) => sum + window.fullSeconds, 0) * 10) / 10,
        windows,
        sinkErrorDrops: judgement.sinkErrorDrops,
        streamsThatHitEnospc: accounting.streamsThatHitEnospc,
        fileFailures: accounting.fileFailures,
        fileRecoveries: accounting.fileRecoveries,
        filesLost: accounting.filesLost,
      },
      filesChecked: accounting.filesChecked,
      rss: { intervalMs: rssIntervalMs, samples: rssSamples, ...judgement.rss },
      verdicts: judgement.verdicts,
      problems: accounting.problems,
      perStream: accounting.perStream,
      outputDir: keep ? outputDir : undefined,
      connectorLog: keep ? join(workDir, 'connector.log') : undefined,
    };
  } catch (error) {
    keep = true;
    throw error;
  } finally {
    // Never leave the disk full behind (stop() frees it; a failed window already did).
    await diskFullRunner?.stop().catch(() => undefined);
    await sampler?.stop().catch(() => undefined);
    await simulator.close();
    await connector.stop('SIGTERM');
    if (!keep) {
      await disk?.unmount();
      await rm(workDir, { recursive: true, force: true });
    } else {
      progress(`  output kept in ${outputDir}${disk === undefined ? '' : ` (a tmpfs: umount it when done)`}, connector log in ${workDir}`);
    }
  }
}
