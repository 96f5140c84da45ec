import type { MediaKind } from '../../vocabulary/mediaKind.ts';
import type { MediaFormats } from '../../vocabulary/frame.ts';
import { STOP_REASON_NAMES, nameOf } from '../../rtms/codes.ts';
import type { StreamStart } from '../../rtms/products.ts';
import {
  FILES_LISTED,
  type MediaCounters,
  type ParticipantCounts,
  type ParticipantSnapshot,
  type SinkHealth,
  type StreamStats,
} from '../../vocabulary/streamStats.ts';
import type { StreamState } from '../../vocabulary/streamState.ts';

/**
 * What a session says about its stream: the statistics it reports to the supervisor, and
 * the metadata at the head of `stream.json`. Both are built from the same facts here, so the
 * two cannot disagree on the outcome.
 */

/** Identity and outcome of one stream. */
export interface StreamFacts {
  readonly start: StreamStart;
  readonly state: StreamState;
  /** ms epoch of admission (of the first incarnation, for a resumed stream). */
  readonly createdAt: number;
  readonly liveAt: number | undefined;
  readonly endedAt: number | undefined;
  readonly stopReason: number | undefined;
  readonly failure: string | undefined;
  /** Why this replica let the stream go to another owner (hand-off, lost lease); undefined while it holds it. */
  readonly released: string | undefined;
  readonly reconnects: number;
  readonly formats: MediaFormats | undefined;
}

/** Running figures at the moment of the report. */
export interface StreamFigures {
  readonly rejoins: Readonly<Record<string, number>>;
  readonly media: Partial<Record<MediaKind, MediaCounters>>;
  readonly bufferedBytes: number;
  /** Every output file; the report names the first `FILES_LISTED`. */
  readonly files: readonly string[];
  readonly participants: readonly ParticipantSnapshot[];
  readonly participantCounts: ParticipantCounts;
  /** The file sink's state and last error; absent for sinks that do not report it. */
  readonly sink: SinkHealth | undefined;
  readonly now: number;
}

export function streamStats(facts: StreamFacts, figures: StreamFigures): StreamStats {
  const { start, formats, stopReason } = facts;
  const { media, files } = figures;
  const audioBytesPerSecond = formats ? formats.audio.sampleRateHz * formats.audio.channels * 2 : 0;
  return {
    rtmsStreamId: start.rtmsStreamId,
    product: start.product,
    entityId: start.entityId,
    state: facts.state,
    createdAt: facts.createdAt,
    liveAt: facts.liveAt,
    endedAt: facts.endedAt,
    stopReason,
    stopReasonName: stopReason === undefined ? undefined : nameOf(STOP_REASON_NAMES, stopReason),
    failure: facts.failure,
    reconnects: facts.reconnects,
    rejoins: figures.rejoins,
    bufferedBytes: figures.bufferedBytes,
    media,
    audioSeconds: audioBytesPerSecond > 0 ? (media.audio?.bytesWritten ?? 0) / audioBytesPerSecond : 0,
    reportedAt: figures.now,
    participants: figures.participants,
    participantCounts: figures.participantCounts,
    files: files.length > FILES_LISTED ? files.slice(0, FILES_LISTED) : files,
    fileCount: files.length,
    sink: figures.sink,
  };
}

/** The head of `stream.json` (the sink adds the file list and, when given, the media counts). */
export function streamMetadata(facts: StreamFacts, mediaRequested: readonly MediaKind[]): Record<string, unknown> {
  const { start, stopReason } = facts;
  return {
    rtmsStreamId: start.rtmsStreamId,
    product: start.product,
    entityIdKey: start.entityIdKey,
    entityId: start.entityId,
    sessionKey: start.sessionKey,
    accountId: start.accountId,
    state: facts.state,
    createdAt: new Date(facts.createdAt).toISOString(),
    liveAt: facts.liveAt === undefined ? undefined : new Date(facts.liveAt).toISOString(),
    endedAt: facts.endedAt === undefined ? undefined : new Date(facts.endedAt).toISOString(),
    stopReason,
    stopReasonName: stopReason === undefined ? undefined : nameOf(STOP_REASON_NAMES, stopReason),
    failure: facts.failure,
    released: facts.released,
    reconnects: facts.reconnects,
    mediaRequested,
    formats: facts.formats,
  };
}
