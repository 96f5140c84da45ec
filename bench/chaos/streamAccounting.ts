/**
 * The connector's accounting of every stream, read at the end of the soak (its /streams answer,
 * stream.json, events.jsonl, every file), set against what the stand-in says it sent.
 */
import type { SimulatedStream } from 'rtms-simulator';
import { streamDirectory } from '../../src/sinks/streamDirectory.ts';
import type { MediaKind } from '../../src/vocabulary/mediaKind.ts';
import type { ConnectorProcess } from '../../test/support/connectorProcess.ts';
import { checkStreamFiles } from '../outputValidity.ts';
import { addCount } from './addCount.ts';
import type { StreamReport } from './chaosSoakReport.ts';
import { audioMatches, finalStreamJson, lifecycleOf, type StreamJson } from './streamOutput.ts';

const MEDIA_KINDS: readonly MediaKind[] = ['audio', 'video', 'deskshare', 'transcript', 'chat'];

/** One media kind's frames summed over streams, before the stand-in's side is set against them. */
export interface FrameTotals {
  received: number;
  written: number;
  dropped: Record<string, number>;
  unaccounted: number;
  sentValid: number;
  sentMalformed: number;
  oversizedLost: number;
}

export interface StreamAccounting {
  readonly perStream: StreamReport[];
  readonly streamStates: Record<string, number>;
  readonly byRejoin: Record<string, number>;
  /** Per media kind, in the order of MEDIA_KINDS. */
  readonly frames: Record<string, FrameTotals>;
  /** Every failed check so far, one line each; the verdicts add theirs. */
  readonly problems: string[];
  readonly reconnects: number;
  readonly audioBytesWritten: number;
  readonly audioMismatches: number;
  readonly streamsThatHitEnospc: number;
  readonly filesLost: number;
  readonly fileFailures: number;
  readonly fileRecoveries: number;
  readonly filesChecked: number;
  readonly invalidFiles: number;
}

/** Waits for each stream to end at the connector, then sums its counters and checks its files. */
export async function collectStreamAccounting(
  connector: ConnectorProcess,
  outputDir: string,
  streams: readonly SimulatedStream[],
  verifyAudio: boolean,
): Promise<StreamAccounting> {
  const perStream: StreamReport[] = [];
  const streamStates: Record<string, number> = {};
  const byRejoin: Record<string, number> = {};
  const frames: Record<string, FrameTotals> = {};
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
    addCount(streamStates, state);
    const rejoins = (snapshot?.['rejoins'] as Record<string, number> | undefined) ?? {};
    for (const [key, count] of Object.entries(rejoins)) addCount(byRejoin, key, count);
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
      for (const [reason, count] of Object.entries(counters?.framesDropped ?? {})) addCount(total.dropped, reason, count);
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

  return {
    perStream,
    streamStates,
    byRejoin,
    frames,
    problems,
    reconnects,
    audioBytesWritten,
    audioMismatches,
    streamsThatHitEnospc,
    filesLost,
    fileFailures,
    fileRecoveries,
    filesChecked,
    invalidFiles,
  };
}
