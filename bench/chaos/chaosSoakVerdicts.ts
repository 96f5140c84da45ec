/**
 * The soak's verdicts: the connector's accounting summed per media kind and set against the
 * stand-in's totals, audio bytes, RSS and file validity. Adds a line to `problems` per failed check.
 */
import { CHAOS_KINDS, type SimulatedStream } from 'rtms-simulator';
import type { DiskFullWindow } from '../diskFullWindows.ts';
import { type RssSample, type RssVerdict, rssVerdict } from '../rssSampler.ts';
import { addCount } from './addCount.ts';
import type { ChaosSoakReport, KindReport } from './chaosSoakReport.ts';
import type { StreamAccounting } from './streamAccounting.ts';

export interface ChaosSoakJudgement {
  readonly frames: Record<string, KindReport>;
  readonly chaos: ChaosSoakReport['chaos'];
  readonly simulator: ChaosSoakReport['simulator'];
  readonly sinkErrorDrops: Record<string, number>;
  readonly rss: RssVerdict;
  readonly verdicts: ChaosSoakReport['verdicts'];
}

/** The report's sums and verdicts; `accounting.problems` gets a line per failed check. */
export function judgeChaosSoak(
  accounting: StreamAccounting,
  streams: readonly SimulatedStream[],
  windows: readonly DiskFullWindow[],
  rssSamples: readonly RssSample[],
  runSeconds: number,
  verifyAudio: boolean,
): ChaosSoakJudgement {
  const { frames, problems, audioBytesWritten, streamStates, audioMismatches, invalidFiles, filesChecked } = accounting;
  const streamCount = streams.length;
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
    for (const entry of stream.chaos.log) addCount(entry.applied ? applied : skipped, entry.kind);
    for (const webhook of stream.webhooks) addCount(webhooks, `${webhook.event} -> ${webhook.status ?? webhook.error ?? '?'}`);
    for (const rejection of stream.connections.handshakeRejections) addCount(handshakeRejections, `${rejection.channel} status ${rejection.statusCode}`);
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

  const verdictRss = rssVerdict(rssSamples, runSeconds);
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
  const ok = Object.values(verdicts).every((verdict) => verdict !== 'fail') && problems.length === 0;
  return {
    frames: kindReports,
    chaos: { applied, skipped },
    simulator: { ...sim, handshakeRejections, webhooks },
    sinkErrorDrops,
    rss: verdictRss,
    verdicts: { ...verdicts, ok },
  };
}
