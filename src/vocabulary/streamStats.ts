import type { Product, StreamStart } from '../rtms/products.ts';
import type { MediaKind } from './mediaKind.ts';
import type { StreamState } from './streamState.ts';

/** Per stream and media kind. Invariant: framesReceived = framesWritten + Σ framesDropped. */
export interface MediaCounters {
  framesReceived: number;
  bytesReceived: number;
  framesWritten: number;
  bytesWritten: number;
  /** Frames not written, by reason (a `DropReason`, vocabulary/reasons.ts; a stored record may hold an older name). */
  framesDropped: Record<string, number>;
}

export interface ParticipantSnapshot {
  readonly userId: string;
  readonly userName: string | undefined;
  /** ms epoch */
  readonly joinedAt: number | undefined;
  readonly leftAt: number | undefined;
  readonly speaking: boolean;
}

/** Participant counts, kept by the roster whatever its bound (`RTMS_MAX_PARTICIPANTS`). */
export interface ParticipantCounts {
  /** Distinct participants the roster took in (including those it later let go after they left). */
  readonly joined: number;
  readonly present: number;
  readonly speaking: number;
  /** Newcomers not kept: the roster was full of present participants. */
  readonly notKept: number;
}

/** A sink's health as `GET /streams/{id}` shows it. */
export interface SinkHealth {
  /** `failing` while any file is retrying. */
  readonly state: 'ok' | 'failing';
  /** The most recent failure, kept after a recovery, with its file and time (ms epoch). */
  readonly lastError: { readonly file: string; readonly code: string; readonly at: number } | undefined;
}

/** Snapshot of one stream, sent to the supervisor periodically and when it finishes. */
export interface StreamStats {
  readonly rtmsStreamId: string;
  readonly product: Product;
  readonly entityId: string;
  readonly state: StreamState;
  /** ms epoch of admission */
  readonly createdAt: number;
  readonly liveAt: number | undefined;
  readonly endedAt: number | undefined;
  readonly stopReason: number | undefined;
  readonly stopReasonName: string | undefined;
  /** Short, secret-free reason for `failed`. */
  readonly failure: string | undefined;
  readonly reconnects: number;
  /** Rejoins started, keyed `<scope>/<trigger>` (e.g. `full/interrupted_webhook`, `media/media_closed`). */
  readonly rejoins: Readonly<Record<string, number>>;
  /** Bytes received and not yet on disk: the backlog in front of the sink plus the sink's own queue. */
  readonly bufferedBytes: number;
  readonly media: Readonly<Partial<Record<MediaKind, MediaCounters>>>;
  /** Seconds of audio written across all audio files. */
  readonly audioSeconds: number;
  /** A bounded page (participantRoster.ts `PARTICIPANT_PAGE`): the speaker, those present, those who left. */
  readonly participants: readonly ParticipantSnapshot[];
  readonly participantCounts: ParticipantCounts;
  /** Output files, relative to the stream directory: the first `FILES_LISTED` (stream.json has them all). */
  readonly files: readonly string[];
  /**
   * When these figures were taken, ms epoch (this connector's clock). A resumed stream counts
   * what its lost worker or replica received after its last report from here (a `media.gap`).
   * Absent in statistics stored by an older version.
   */
  readonly reportedAt?: number;
  /** How many output files there are, listed or not. */
  readonly fileCount: number;
  /** Whether the stream's files are being written, and the last write error; absent before its worker reports. */
  readonly sink?: SinkHealth | undefined;
}

/** Files named in each stats report: a stream with 20,000 speaker WAVs must not ship 20,000 names a second. */
export const FILES_LISTED = 1000;

/** A stream's statistics before its worker reports any: admitted (or refused) and nothing more. */
export function initialStreamStats(start: StreamStart, state: StreamState, createdAt: number = Date.now()): StreamStats {
  return {
    rtmsStreamId: start.rtmsStreamId,
    product: start.product,
    entityId: start.entityId,
    state,
    createdAt,
    liveAt: undefined,
    endedAt: undefined,
    stopReason: undefined,
    stopReasonName: undefined,
    failure: undefined,
    reconnects: 0,
    rejoins: {},
    bufferedBytes: 0,
    media: {},
    audioSeconds: 0,
    participants: [],
    participantCounts: { joined: 0, present: 0, speaking: 0, notKept: 0 },
    files: [],
    fileCount: 0,
  };
}

export function emptyCounters(): MediaCounters {
  return { framesReceived: 0, bytesReceived: 0, framesWritten: 0, bytesWritten: 0, framesDropped: {} };
}
