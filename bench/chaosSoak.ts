/**
 * Chaos soak: the real connector process (src/main.ts, real worker threads, real files)
 * against the in-process Zoom stand-in in chaos mode, K streams for D minutes. Reports
 * reconnects, frames received / written / dropped per reason per media kind, frames not
 * accounted for, what the stand-in sent against what the connector received, RSS of the
 * connector every 10 s, and verdicts. OUTPUT_DIR is a small tmpfs the soak mounts (root), which
 * it fills for a few seconds at seeded times (disk-full windows, bench/diskFullWindows.ts);
 * every file must be valid at the end.
 *
 *   node bench/chaosSoak.ts [--streams 50] [--minutes 10] [--seed 1] [--rate 6] [--verify-audio]
 *   npm run bench -- chaos [same flags]
 *
 * The table goes to stdout, the JSON to bench/results/chaos-soak-<timestamp>.json. Exit
 * status 0 when every verdict passes (or is n/a), 1 otherwise. `runChaosSoak` is also what
 * the 1-minute test in test/integration/chaos/chaosShort.test.ts runs.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, statfs } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Credentials } from '../src/config.ts';
import type { MediaKind } from '../src/vocabulary/mediaKind.ts';
import { ConnectorProcess, connectorEnv as connectorEnvironment } from '../test/support/connectorProcess.ts';
import { readWavData } from '../test/support/wavReader.ts';
import { fileSafeId } from '../src/sinks/fileSafeId.ts';
import { streamDirectory } from '../src/sinks/streamDirectory.ts';
import { CHAOS_KINDS, type ChaosKind, type ChaosOptions, type SimulatedStream, startSimulator } from 'rtms-simulator';
import type { MediaCounters } from '../src/vocabulary/streamStats.ts';
import { RESULTS_DIR, writeBenchResult } from './benchResult.ts';
import {
  DiskFullRunner,
  type DiskFullOptions,
  type DiskFullWindow,
  estimateOutputBytes,
  mountSoakDisk,
  planDiskFullWindows,
  SoakDiskUnavailable,
} from './diskFullWindows.ts';
import { envPairs } from './envPairs.ts';
import { checkStreamFiles } from './outputValidity.ts';
import { RssSampler, type RssSample, type RssVerdict, rssVerdict } from './rssSampler.ts';

const MEDIA_KINDS: readonly MediaKind[] = ['audio', 'video', 'deskshare', 'transcript', 'chat'];
const ADMIN_TOKEN = 'chaos-soak-admin-token-0123456789abcdef';

export interface ChaosSoakOptions {
  /** Concurrent streams (default 50). */
  readonly streams?: number;
  /** Media time per stream, ms (default 10 minutes). */
  readonly durationMs?: number;
  /** Seeds media and the chaos schedule (default 1). */
  readonly seed?: number;
  /** Chaos injections per stream per minute (default 6). */
  readonly ratePerMinute?: number;
  /** Chaos kind weights (defaults: `DEFAULT_CHAOS_WEIGHTS`). */
  readonly weights?: Partial<Record<ChaosKind, number>>;
  /** RSS sampling period, ms (default 10 000). */
  readonly rssIntervalMs?: number;
  /**
   * Keep every byte the stand-in sends and compare each stream's WAV with it at the end
   * (default false: the counters are exact either way; content costs ~2 MB per stream-minute).
   */
  readonly verifyAudio?: boolean;
  /** Keep the output directory (default: removed when every verdict passes, kept otherwise). */
  readonly keepOutput?: boolean;
  /** Spread stream starts over this long, ms (default min(5000, duration / 10)). */
  readonly startSpreadMs?: number;
  /** Extra connector environment (overrides the soak's defaults). */
  readonly connectorEnv?: Readonly<Record<string, string>>;
  /** Disk-full windows (default: 0.5 a minute, 3 to 8 s, on a tmpfs sized for the run); `perMinute: 0` runs on the host's temp directory. */
  readonly diskFull?: DiskFullOptions;
  /** Progress lines (default: none). */
  readonly progress?: (line: string) => void;
}

/** Accounting of one media kind, summed over streams. */
export interface KindReport {
  /** Connector: frames received (valid + malformed), from each stream.json. */
  readonly received: number;
  readonly written: number;
  readonly dropped: Record<string, number>;
  /** received − written − Σ dropped: must be 0. */
  readonly unaccounted: number;
  /** Stand-in: valid messages written. */
  readonly sentValid: number;
  /** Stand-in: deliberately malformed messages written. */
  readonly sentMalformed: number;
  /** Stand-in: frames over the client's payload limit (the client drops the socket unread). */
  readonly oversizedLost: number;
  /** (sentValid + sentMalformed) − received. */
  readonly sentMinusReceived: number;
  /** The part of `sentMinusReceived` no counted cause explains: must be 0. */
  readonly unexplained: number;
}

export interface StreamReport {
  readonly rtmsStreamId: string;
  /** Connector state at the end. */
  readonly state: string;
  readonly failure: string | null;
  /** How the stand-in ended it. */
  readonly simulatorEnd: string;
  readonly reconnects: number;
  readonly rejoins: Record<string, number>;
  readonly chaosApplied: number;
  readonly signalingAccepted: number;
  readonly signalingRejectedDuplicate: number;
  /** Kinds whose counts disagree (unaccounted or unexplained), with the numbers. */
  readonly problems: string[];
  /** With `verifyAudio`: WAV data equals what was sent, per audio file. */
  readonly audioIdentical: boolean | undefined;
  readonly chaosLog: ReadonlyArray<{ readonly t: number; readonly kind: string; readonly applied: boolean; readonly detail: string }>;
}

export interface ChaosSoakReport {
  readonly benchmark: 'chaos-soak';
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly wallSeconds: number;
  readonly config: {
    readonly streams: number;
    readonly durationMs: number;
    readonly seed: number;
    readonly chaos: ChaosOptions;
    readonly connectorEnv: Readonly<Record<string, string>>;
    readonly simulator: Readonly<Record<string, number>>;
    readonly verifyAudio: boolean;
    readonly diskFull: DiskFullOptions;
  };
  readonly streamStates: Record<string, number>;
  readonly chaos: { readonly applied: Record<string, number>; readonly skipped: Record<string, number> };
  readonly reconnects: { readonly total: number; readonly byRejoin: Record<string, number> };
  readonly simulator: {
    readonly signalingAccepted: number;
    readonly signalingRejectedDuplicate: number;
    readonly mediaAccepted: number;
    readonly interruptions: number;
    readonly mediaInterruptions: number;
    readonly failovers: number;
    readonly keepAliveTimeouts: number;
    readonly handshakeRejections: Record<string, number>;
    readonly webhooks: Record<string, number>;
    readonly unknownMessages: number;
    readonly audioBytesSent: number;
    readonly picturesSkipped: number;
    readonly backlogDrops: number;
  };
  readonly frames: Record<string, KindReport>;
  readonly audioBytesWritten: number;
  readonly diskFull: {
    /** The tmpfs under OUTPUT_DIR; undefined when the windows are off. */
    readonly tmpfsBytes: number | undefined;
    /** Space the output took on it at the end (the size estimate's check). */
    readonly outputBytes: number | undefined;
    readonly count: number;
    readonly totalSeconds: number;
    readonly windows: readonly DiskFullWindow[];
    /** Frames dropped as `sink_error` per media kind (allowed: counted, with a `media.gap`). */
    readonly sinkErrorDrops: Record<string, number>;
    /** Streams whose sink saw ENOSPC (stream.json `sink.error`). */
    readonly streamsThatHitEnospc: number;
    /** `sink.file_failing` / `sink.file_recovered` events: a file's writes failed, and later succeeded again. */
    readonly fileFailures: number;
    readonly fileRecoveries: number;
    /** `sink.file_lost` events (a file that could not be continued; the stream went on in a new part). */
    readonly filesLost: number;
  };
  /** Files checked at the end by ffprobe / JSON parsing. */
  readonly filesChecked: number;
  readonly rss: { readonly intervalMs: number; readonly samples: readonly RssSample[] } & RssVerdict;
  readonly verdicts: {
    readonly unaccountedZero: 'pass' | 'fail';
    readonly sentEqualsReceived: 'pass' | 'fail';
    readonly streamsEnded: 'pass' | 'fail';
    readonly noDuplicateSignaling: 'pass' | 'fail';
    readonly audioIdentical: 'pass' | 'fail' | 'n/a';
    readonly rssFlat: 'pass' | 'fail' | 'n/a';
    readonly filesValid: 'pass' | 'fail';
    readonly ok: boolean;
  };
  /** Every failed check, one line each. */
  readonly problems: string[];
  readonly perStream: readonly StreamReport[];
  /** Where the connector output is, when kept (with disk-full windows: a tmpfs still mounted). */
  readonly outputDir: string | undefined;
  /** The connector's log, when kept. */
  readonly connectorLog: string | undefined;
}

interface StreamJson {
  readonly state?: string;
  readonly failure?: string;
  readonly sink?: { readonly error?: { readonly code?: string } | null } | null;
  readonly media?: Partial<Record<MediaKind, MediaCounters>>;
}

function credentials(): Credentials {
  return {
    clientId: `soak-${randomBytes(4).toString('hex')}`,
    clientSecret: randomBytes(16).toString('hex'),
    webhookSecretToken: randomBytes(16).toString('hex'),
  };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function add(counts: Record<string, number>, key: string, value = 1): void {
  if (value !== 0) counts[key] = (counts[key] ?? 0) + value;
}

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
  const creds = credentials();
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

    const perStream: StreamReport[] = [];
    const streamStates: Record<string, number> = {};
    const byRejoin: Record<string, number> = {};
    const frames: Record<
      string,
      {
        received: number;
        written: number;
        dropped: Record<string, number>;
        unaccounted: number;
        sentValid: number;
        sentMalformed: number;
        oversizedLost: number;
      }
    > = {};
    for (const kind of MEDIA_KINDS) frames[kind] = { received: 0, written: 0, dropped: {}, unaccounted: 0, sentValid: 0, sentMalformed: 0, oversizedLost: 0 };
    const problems: string[] = [];
    let reconnects = 0;
    let audioBytesWritten = 0;
    let audioMismatches = 0;
    let streamsThatHitEnospc = 0;
    let filesLost = 0;
    let fileFailures = 0;
    let fileRecoveries = 0;
    let filesChecked = 0;
    let invalidFiles = 0;
    for (const stream of streams) {
      const id = stream.rtmsStreamId;
      let snapshot: Record<string, unknown> | undefined;
      try {
        snapshot = await connector.waitForStream(id, (s) => s['active'] === false, 60_000);
      } catch (error) {
        problems.push(
          `stream ${id}: still active at the connector 60 s after the stand-in ended it (${error instanceof Error ? error.message.slice(0, 300) : String(error)})`,
        );
      }
      let streamJson: StreamJson = {};
      try {
        streamJson = await finalStreamJson(outputDir, id);
      } catch (error) {
        problems.push(`stream ${id}: no readable stream.json (${error instanceof Error ? error.message : String(error)})`);
      }
      if (streamJson.sink?.error?.code === 'ENOSPC') streamsThatHitEnospc += 1;
      const reported = snapshot?.['state'];
      const state = typeof reported === 'string' ? reported : (streamJson.state ?? 'unknown');
      add(streamStates, state);
      const rejoins = (snapshot?.['rejoins'] as Record<string, number> | undefined) ?? {};
      for (const [key, count] of Object.entries(rejoins)) add(byRejoin, key, count);
      const streamReconnects = Number(snapshot?.['reconnects'] ?? 0);
      reconnects += streamReconnects;
      const streamProblems: string[] = [];
      for (const kind of MEDIA_KINDS) {
        const counters = streamJson.media?.[kind];
        const received = counters?.framesReceived ?? 0;
        const written = counters?.framesWritten ?? 0;
        const droppedTotal = Object.values(counters?.framesDropped ?? {}).reduce((sum, count) => sum + count, 0);
        const total = frames[kind];
        if (total === undefined) continue;
        total.received += received;
        total.written += written;
        for (const [reason, count] of Object.entries(counters?.framesDropped ?? {})) add(total.dropped, reason, count);
        total.unaccounted += received - written - droppedTotal;
        const sentValid = stream.sent.validCount(kind);
        const sentMalformed = stream.sent.malformedCount(kind);
        const oversizedLost = stream.sent.oversizedLostCount(kind);
        total.sentValid += sentValid;
        total.sentMalformed += sentMalformed;
        total.oversizedLost += oversizedLost;
        if (kind === 'audio') audioBytesWritten += counters?.bytesWritten ?? 0;
        if (received !== written + droppedTotal) streamProblems.push(`${kind}: received ${received} != written ${written} + dropped ${droppedTotal}`);
        if (sentValid + sentMalformed !== received) {
          streamProblems.push(
            `${kind}: stand-in sent ${sentValid} valid + ${sentMalformed} malformed = ${sentValid + sentMalformed}, connector received ${received}`,
          );
        }
      }
      if (state !== 'ended') streamProblems.push(`ended in state ${state}${snapshot?.['failure'] ? ` (${JSON.stringify(snapshot['failure'])})` : ''}`);
      const lifecycle = await lifecycleOf(outputDir, id);
      filesLost += lifecycle.filesLost;
      fileFailures += lifecycle.fileFailures;
      fileRecoveries += lifecycle.fileRecoveries;
      const validity = await checkStreamFiles(streamDirectory(outputDir, id)).catch((error: unknown) => ({
        files: 0,
        problems: [`cannot list the stream directory (${error instanceof Error ? error.message : String(error)})`],
      }));
      filesChecked += validity.files;
      invalidFiles += validity.problems.length;
      for (const problem of validity.problems) streamProblems.push(`invalid file ${problem}`);
      if (lifecycle.connecting > 1 || lifecycle.failed > 0) {
        streamProblems.push(
          `events.jsonl shows ${lifecycle.connecting} admissions (stream.connecting) and ${lifecycle.failed} stream.failed` +
            (lifecycle.connecting > 1 ? ': the stream was started again after it ended or failed, and stream.json counts only the last run' : ''),
        );
      }
      if (stream.connections.signalingRejectedDuplicate > 0) {
        streamProblems.push(`the stand-in refused ${stream.connections.signalingRejectedDuplicate} duplicate signaling connection(s) (status 8)`);
      }
      let audioIdentical: boolean | undefined;
      if (verifyAudio) {
        audioIdentical = await audioMatches(outputDir, stream);
        if (!audioIdentical) {
          audioMismatches += 1;
          streamProblems.push('audio WAV data differs from what the stand-in sent');
        }
      }
      for (const problem of streamProblems) problems.push(`stream ${id}: ${problem}`);
      const end = stream.end;
      perStream.push({
        rtmsStreamId: id,
        state,
        failure: (snapshot?.['failure'] as string | null | undefined) ?? streamJson.failure ?? null,
        simulatorEnd: end === undefined ? 'running' : `${end.cause} (${end.stopReason})`,
        reconnects: streamReconnects,
        rejoins,
        chaosApplied: stream.chaos.applied(),
        signalingAccepted: stream.connections.signalingAccepted,
        signalingRejectedDuplicate: stream.connections.signalingRejectedDuplicate,
        problems: streamProblems,
        audioIdentical,
        chaosLog: stream.chaos.log.map((entry) => ({ t: Math.round(entry.sinceFirstReadyMs), kind: entry.kind, applied: entry.applied, detail: entry.detail })),
      });
    }

    progress(`  ${filesChecked} files checked, accounting collected in ${((Date.now() - collectStartedAt) / 1000).toFixed(0)} s`);
    const kindReports: Record<string, KindReport> = {};
    for (const [kind, total] of Object.entries(frames)) {
      const sentMinusReceived = total.sentValid + total.sentMalformed - total.received;
      kindReports[kind] = { ...total, sentMinusReceived, unexplained: sentMinusReceived };
    }
    const unaccounted = Object.values(kindReports).reduce((sum, kind) => sum + Math.abs(kind.unaccounted), 0);
    const unexplained = Object.values(kindReports).reduce((sum, kind) => sum + Math.abs(kind.unexplained), 0);
    if (unaccounted !== 0) problems.unshift(`${unaccounted} frame(s) unaccounted for (received - written - dropped != 0)`);
    if (unexplained !== 0)
      problems.unshift(`${unexplained} frame(s) sent by the stand-in and not received by the connector (or the reverse) without a counted cause`);

    const applied: Record<string, number> = {};
    const skipped: Record<string, number> = {};
    for (const kind of CHAOS_KINDS) {
      applied[kind] = 0;
      skipped[kind] = 0;
    }
    const webhooks: Record<string, number> = {};
    const handshakeRejections: Record<string, number> = {};
    const sim = {
      signalingAccepted: 0,
      signalingRejectedDuplicate: 0,
      mediaAccepted: 0,
      interruptions: 0,
      mediaInterruptions: 0,
      failovers: 0,
      keepAliveTimeouts: 0,
      unknownMessages: 0,
      audioBytesSent: 0,
      picturesSkipped: 0,
      backlogDrops: 0,
    };
    for (const stream of streams) {
      for (const entry of stream.chaos.log) add(entry.applied ? applied : skipped, entry.kind);
      for (const webhook of stream.webhooks) add(webhooks, `${webhook.event} -> ${webhook.status ?? webhook.error ?? '?'}`);
      for (const rejection of stream.connections.handshakeRejections) add(handshakeRejections, `${rejection.channel} status ${rejection.statusCode}`);
      const c = stream.connections;
      sim.signalingAccepted += c.signalingAccepted;
      sim.signalingRejectedDuplicate += c.signalingRejectedDuplicate;
      sim.mediaAccepted += c.mediaAccepted;
      sim.interruptions += c.interruptions;
      sim.mediaInterruptions += c.mediaInterruptions;
      sim.failovers += c.failovers;
      sim.keepAliveTimeouts += c.keepAliveTimeouts.length;
      sim.unknownMessages += stream.sent.unknownCount();
      sim.audioBytesSent += stream.sent.audioBytes();
      sim.picturesSkipped += stream.dropped.videoFrames + stream.dropped.deskshareFrames;
      sim.backlogDrops += stream.dropped.audioPackets + stream.dropped.transcripts + stream.dropped.chats;
    }
    const sinkErrorDrops: Record<string, number> = {};
    for (const [kind, report] of Object.entries(kindReports)) sinkErrorDrops[kind] = report.dropped['sink_error'] ?? 0;
    if (sim.audioBytesSent !== audioBytesWritten) {
      problems.push(
        `audio bytes: stand-in sent ${sim.audioBytesSent}, connector wrote ${audioBytesWritten}` +
          (windows.length > 0 ? ` (${sinkErrorDrops['audio'] ?? 0} audio frames dropped as sink_error in ${windows.length} disk-full window(s))` : ''),
      );
    }
    if (sim.backlogDrops > 0) problems.push(`the stand-in dropped ${sim.backlogDrops} buffered item(s) (its 60 s buffer overflowed)`);

    const rss = sampler === undefined ? [] : sampler.samples;
    const verdictRss = rssVerdict(rss, runSeconds);
    if (verdictRss.verdict === 'fail') problems.push(`RSS not flat: ${verdictRss.changePercent?.toFixed(1)} % from minute 2 to the last minute`);
    const notEnded = streamCount - (streamStates['ended'] ?? 0);
    const verdicts = {
      unaccountedZero: unaccounted === 0 ? 'pass' : 'fail',
      sentEqualsReceived: unexplained === 0 && sim.audioBytesSent === audioBytesWritten ? 'pass' : 'fail',
      streamsEnded: notEnded === 0 ? 'pass' : 'fail',
      noDuplicateSignaling: sim.signalingRejectedDuplicate === 0 ? 'pass' : 'fail',
      audioIdentical: !verifyAudio ? 'n/a' : audioMismatches === 0 ? 'pass' : 'fail',
      rssFlat: verdictRss.verdict,
      filesValid: invalidFiles === 0 && filesChecked > 0 ? 'pass' : 'fail',
    } as const;
    if (filesChecked === 0) problems.push('no file found to check in any stream directory');
    let outputBytes: number | undefined;
    if (disk !== undefined) {
      const fs = await statfs(outputDir);
      outputBytes = (fs.blocks - fs.bfree) * fs.bsize;
    }
    const ok = Object.values(verdicts).every((verdict) => verdict !== 'fail') && problems.length === 0;
    if (!ok) keep = true;
    const finishedAt = new Date();
    return {
      benchmark: 'chaos-soak',
      startedAt: startedAt.toISOString(),
      finishedAt: finishedAt.toISOString(),
      wallSeconds: Math.round((finishedAt.getTime() - startedAt.getTime()) / 100) / 10,
      config: { streams: streamCount, durationMs, seed, chaos, connectorEnv, simulator: simulatorSettings, verifyAudio, diskFull },
      streamStates,
      chaos: { applied, skipped },
      reconnects: { total: reconnects, byRejoin },
      simulator: { ...sim, handshakeRejections, webhooks },
      frames: kindReports,
      audioBytesWritten,
      diskFull: {
        tmpfsBytes: disk === undefined ? undefined : diskFull.sizeBytes,
        outputBytes,
        count: windows.length,
        totalSeconds: Math.round(windows.reduce((sum, window) => sum + window.fullSeconds, 0) * 10) / 10,
        windows,
        sinkErrorDrops,
        streamsThatHitEnospc,
        fileFailures,
        fileRecoveries,
        filesLost,
      },
      filesChecked,
      rss: { intervalMs: rssIntervalMs, samples: rss, ...verdictRss },
      verdicts: { ...verdicts, ok },
      problems,
      perStream,
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

/** How often the stream was admitted (`stream.connecting`) and failed, and files it lost, from its events.jsonl. */
async function lifecycleOf(
  outputDir: string,
  rtmsStreamId: string,
): Promise<{ connecting: number; failed: number; fileFailures: number; fileRecoveries: number; filesLost: number }> {
  try {
    const text = await readFile(join(streamDirectory(outputDir, rtmsStreamId), 'events.jsonl'), 'utf8');
    const count = (eventType: string): number => text.split(`"eventType":"${eventType}"`).length - 1;
    return {
      connecting: count('stream.connecting'),
      failed: count('stream.failed'),
      fileFailures: count('sink.file_failing'),
      fileRecoveries: count('sink.file_recovered'),
      filesLost: count('sink.file_lost'),
    };
  } catch {
    return { connecting: 0, failed: 0, fileFailures: 0, fileRecoveries: 0, filesLost: 0 };
  }
}

/**
 * The stream's final stream.json. A stream that ended while the disk was full gets its final
 * one only at the sink's next successful retry (at most 2 s after space is back): wait for it.
 */
async function finalStreamJson(outputDir: string, rtmsStreamId: string, timeoutMs = 30_000): Promise<StreamJson> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let json: StreamJson | undefined;
    try {
      json = JSON.parse(await readFile(join(streamDirectory(outputDir, rtmsStreamId), 'stream.json'), 'utf8')) as StreamJson;
    } catch (error) {
      if (Date.now() > deadline) throw error;
    }
    if (json !== undefined && (json.state === 'ended' || json.state === 'failed' || Date.now() > deadline)) return json;
    await sleep(200);
  }
}

/** Every audio file of the stream has exactly the PCM the stand-in delivered. */
async function audioMatches(outputDir: string, stream: SimulatedStream): Promise<boolean> {
  for (const userId of stream.sent.audioUserIds()) {
    const file = userId === '0' ? 'audio.wav' : `audio-${fileSafeId(userId)}.wav`;
    try {
      const wav = await readWavData(join(streamDirectory(outputDir, stream.rtmsStreamId), file));
      if (!wav.data.equals(stream.sent.audio(userId))) return false;
    } catch {
      return false;
    }
  }
  return stream.sent.audioUserIds().length > 0;
}

const mib = (bytes: number | undefined): string => (bytes === undefined ? '-' : `${(bytes / 2 ** 20).toFixed(1)} MiB`);

function table(header: readonly string[], rows: ReadonlyArray<readonly string[]>, numericFrom = 1): string {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)));
  const render = (row: readonly string[]): string =>
    row
      .map((cell, column) => (column >= numericFrom ? cell.padStart(widths[column] ?? 0) : cell.padEnd(widths[column] ?? 0)))
      .join('  ')
      .trimEnd();
  return [render(header), render(widths.map((width) => '-'.repeat(width))), ...rows.map(render)].join('\n');
}

/** The report as text tables. */
export function formatChaosSoakReport(report: ChaosSoakReport): string {
  const lines: string[] = [];
  const { config } = report;
  lines.push(
    `chaos soak: ${config.streams} streams x ${(config.durationMs / 60_000).toFixed(1)} min, seed ${config.seed}, ` +
      `${config.chaos.ratePerMinute} injections/stream/min; wall ${report.wallSeconds} s`,
  );
  lines.push(
    `streams: ${Object.entries(report.streamStates)
      .map(([state, count]) => `${count} ${state}`)
      .join(', ')}`,
  );
  lines.push('');
  lines.push(
    table(
      ['chaos injection', 'applied', 'skipped'],
      CHAOS_KINDS.map((kind) => [kind, String(report.chaos.applied[kind] ?? 0), String(report.chaos.skipped[kind] ?? 0)]),
    ),
  );
  lines.push('');
  lines.push(`reconnects: ${report.reconnects.total}`);
  const rejoins = Object.entries(report.reconnects.byRejoin).sort(([a], [b]) => a.localeCompare(b));
  if (rejoins.length > 0)
    lines.push(
      table(
        ['rejoin (scope/trigger)', 'count'],
        rejoins.map(([key, count]) => [key, String(count)]),
      ),
    );
  lines.push('');
  lines.push(
    table(
      ['media', 'received', 'written', 'dropped', 'unaccounted', 'sent valid', 'sent malformed', 'oversized lost', 'sent-received', 'unexplained'],
      Object.entries(report.frames).map(([kind, k]) => [
        kind,
        String(k.received),
        String(k.written),
        Object.entries(k.dropped)
          .map(([reason, count]) => `${reason} ${count}`)
          .join(', ') || '0',
        String(k.unaccounted),
        String(k.sentValid),
        String(k.sentMalformed),
        String(k.oversizedLost),
        String(k.sentMinusReceived),
        String(k.unexplained),
      ]),
    ),
  );
  lines.push(`audio bytes: sent ${report.simulator.audioBytesSent}, written ${report.audioBytesWritten}`);
  const d = report.diskFull;
  if (d.tmpfsBytes === undefined) {
    lines.push('disk full: off (output on the host temp directory)');
  } else {
    lines.push(
      `disk full: ${d.count} window(s), ${d.totalSeconds} s in total` +
        (d.windows.length > 0 ? ` (${d.windows.map((w) => `t=${w.fullAtS} s for ${w.fullSeconds} s`).join(', ')})` : '') +
        `; tmpfs ${mib(d.tmpfsBytes)}, output ${mib(d.outputBytes)} at the end`,
    );
    lines.push(
      `  sink_error drops: ${Object.entries(d.sinkErrorDrops)
        .map(([kind, count]) => `${kind} ${count}`)
        .join(', ')}; ` +
        `${d.streamsThatHitEnospc} stream(s) saw ENOSPC; files failing ${d.fileFailures}, recovered ${d.fileRecoveries}, lost ${d.filesLost} (continued in a new part); ` +
        `${report.filesChecked} files checked`,
    );
  }
  const s = report.simulator;
  lines.push(
    `stand-in: ${s.signalingAccepted} signaling joins (${s.signalingRejectedDuplicate} refused as duplicate), ${s.mediaAccepted} media joins, ` +
      `${s.interruptions} interruptions, ${s.mediaInterruptions} media interruptions, ${s.failovers} failovers, ${s.keepAliveTimeouts} keep-alive timeouts, ` +
      `${s.unknownMessages} unknown-type messages, ${s.picturesSkipped} pictures skipped, ${s.backlogDrops} buffer drops`,
  );
  const rejections = Object.entries(s.handshakeRejections);
  if (rejections.length > 0) lines.push(`handshakes refused: ${rejections.map(([key, count]) => `${key} x${count}`).join(', ')}`);
  lines.push('');
  lines.push(
    `connector RSS every ${report.rss.intervalMs / 1000} s: ${report.rss.samples.map((sample) => `${sample.atS.toFixed(0)}s ${mib(sample.rssBytes)}`).join(' | ')}`,
  );
  lines.push(
    `RSS minute 2 ${mib(report.rss.minute2MeanBytes)}, last minute ${mib(report.rss.lastMinuteMeanBytes)}, change ${
      report.rss.changePercent === undefined ? '-' : `${report.rss.changePercent.toFixed(1)} %`
    }`,
  );
  lines.push(
    `JS heap used / committed / external (all isolates) every ${report.rss.intervalMs / 1000} s: ${report.rss.samples
      .map((sample) => `${sample.atS.toFixed(0)}s ${mib(sample.heapUsedBytes)}/${mib(sample.heapTotalBytes)}/${mib(sample.externalBytes)}`)
      .join(' | ')}`,
  );
  lines.push('');
  const v = report.verdicts;
  lines.push(
    table(
      ['verdict', 'result'],
      [
        ['0 frames unaccounted (received = written + dropped)', v.unaccountedZero],
        ['stand-in sent = connector received (per kind, audio bytes)', v.sentEqualsReceived],
        ['every stream ended', v.streamsEnded],
        ['no duplicate signaling connection', v.noDuplicateSignaling],
        ['audio byte-identical', v.audioIdentical],
        ['RSS flat (last minute within 10 % of minute 2)', v.rssFlat],
        ['every file valid at the end (ffprobe, JSON lines)', v.filesValid],
        ['overall', v.ok ? 'PASS' : 'FAIL'],
      ],
      2,
    ),
  );
  if (report.problems.length > 0) {
    lines.push('');
    lines.push('problems:');
    for (const problem of report.problems.slice(0, 50)) lines.push(`  - ${problem}`);
    if (report.problems.length > 50) lines.push(`  … ${report.problems.length - 50} more in the JSON`);
  }
  if (report.outputDir !== undefined)
    lines.push(
      `output kept in ${report.outputDir}${report.diskFull.tmpfsBytes === undefined ? '' : ' (a tmpfs: umount it when done)'}, connector log ${report.connectorLog}`,
    );
  return lines.join('\n');
}

/** Writes the report to bench/results/chaos-soak-<timestamp>.json; returns the path. */
export function writeChaosSoakReport(report: ChaosSoakReport, directory = RESULTS_DIR): Promise<string> {
  return writeBenchResult('chaos-soak', report.startedAt, report, directory);
}

export const CHAOS_SOAK_USAGE = `Usage: node bench/chaosSoak.ts [options]   (or: npm run bench -- chaos [options])

The connector process against the Zoom stand-in in chaos mode; prints a table and writes
bench/results/chaos-soak-<timestamp>.json. Exit 0 when every verdict passes.

Options:
  --streams N         concurrent streams (default 50)
  --minutes M         media time per stream, may be fractional (default 10)
  --seed N            seeds media and chaos (default 1)
  --rate N            chaos injections per stream per minute (default 6)
  --weights K=W,...   chaos kind weights, e.g. failover=0,stall=4
  --rss-interval S    RSS sampling period, seconds (default 10)
  --verify-audio      keep all sent audio and compare every WAV byte for byte (memory!)
  --keep-output       keep the connector output directory
  --env KEY=VALUE     extra connector environment (repeatable), e.g. --env MALLOC_ARENA_MAX=2
  --disk-full-per-minute N
                      disk-full windows per minute (default 0.5); OUTPUT_DIR is a tmpfs the soak
                      mounts, which needs root; 0 turns them off (output on the temp directory)
  --disk-full-seconds A-B
                      length of a window, seconds (default 3-8)
  --disk-size MIB     tmpfs size (default: 1.5 x 4 MiB per stream-minute + 64 MiB)
  -h, --help          show this help`;

/** CLI entry: parses flags, runs, prints, writes JSON; resolves with the exit code. */
export async function chaosSoakMain(argv: readonly string[]): Promise<number> {
  let values: Record<string, string | boolean | string[] | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        streams: { type: 'string' },
        minutes: { type: 'string' },
        seed: { type: 'string' },
        rate: { type: 'string' },
        weights: { type: 'string' },
        'rss-interval': { type: 'string' },
        'verify-audio': { type: 'boolean' },
        'keep-output': { type: 'boolean' },
        env: { type: 'string', multiple: true },
        'disk-full-per-minute': { type: 'string' },
        'disk-full-seconds': { type: 'string' },
        'disk-size': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    process.stderr.write(`chaos soak: ${error instanceof Error ? error.message : String(error)}\n${CHAOS_SOAK_USAGE}\n`);
    return 2;
  }
  if (values['help'] === true) {
    process.stdout.write(`${CHAOS_SOAK_USAGE}\n`);
    return 0;
  }
  const number = (name: string, fallback: number, min: number, max: number): number => {
    const text = values[name];
    if (typeof text !== 'string') return fallback;
    const value = Number(text);
    if (!Number.isFinite(value) || value < min || value > max)
      throw new RangeError(`--${name}: expected a number from ${min} to ${max}, got ${JSON.stringify(text)}`);
    return value;
  };
  let options: ChaosSoakOptions;
  try {
    const weights: Partial<Record<ChaosKind, number>> = {};
    const weightsText = values['weights'];
    if (typeof weightsText === 'string') {
      for (const pair of weightsText.split(',')) {
        const [kind, weight] = pair.split('=');
        if (!(CHAOS_KINDS as readonly string[]).includes(kind ?? '') || !(Number(weight) >= 0)) {
          throw new RangeError(`--weights: expected kind=weight with kind one of ${CHAOS_KINDS.join(', ')}, got ${JSON.stringify(pair)}`);
        }
        weights[kind as ChaosKind] = Number(weight);
      }
    }
    const secondsText = values['disk-full-seconds'];
    let seconds: [number, number] | undefined;
    if (typeof secondsText === 'string') {
      const [low, high] = secondsText.split('-').map(Number);
      if (low === undefined || high === undefined || !(low >= 0.1) || !(high >= low) || high > 600) {
        throw new RangeError(`--disk-full-seconds: expected A-B with 0.1 <= A <= B <= 600, got ${JSON.stringify(secondsText)}`);
      }
      seconds = [low, high];
    }
    const diskSize = values['disk-size'] === undefined ? undefined : Math.round(number('disk-size', 0, 16, 1024 * 1024) * 2 ** 20);
    options = {
      streams: Math.round(number('streams', 50, 1, 1000)),
      durationMs: Math.round(number('minutes', 10, 0.1, 24 * 60) * 60_000),
      seed: Math.round(number('seed', 1, 0, 2 ** 32 - 1)),
      ratePerMinute: number('rate', 6, 0.01, 600),
      ...(Object.keys(weights).length > 0 ? { weights } : {}),
      rssIntervalMs: Math.round(number('rss-interval', 10, 1, 600) * 1000),
      verifyAudio: values['verify-audio'] === true,
      keepOutput: values['keep-output'] === true,
      connectorEnv: envPairs(values['env'] as string[] | undefined),
      diskFull: {
        perMinute: number('disk-full-per-minute', 0.5, 0, 60),
        ...(seconds === undefined ? {} : { seconds }),
        ...(diskSize === undefined ? {} : { sizeBytes: diskSize }),
      },
      progress: (line) => process.stderr.write(`${line}\n`),
    };
  } catch (error) {
    process.stderr.write(`chaos soak: ${error instanceof Error ? error.message : String(error)}\n`);
    return 2;
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
