import type { MediaKind } from '../config.ts';
import type { Product, StreamStart } from '../rtms/products.ts';
import type { SinkHealth } from '../sinks/fileHealth.ts';
import type { StreamState } from './streamStateMachine.ts';

/** Per stream and media kind. Invariant: framesReceived = framesWritten + Σ framesDropped. */
export interface MediaCounters {
  framesReceived: number;
  bytesReceived: number;
  framesWritten: number;
  bytesWritten: number;
  /** Frames not written, by reason (e.g. `malformed`, `excluded`, `sink_error`, `buffer_full`). */
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
  readonly participants: readonly ParticipantSnapshot[];
  /** Output files, relative to the stream directory. */
  readonly files: readonly string[];
  /** Whether the stream's files are being written, and the last write error; absent before its worker reports. */
  readonly sink?: SinkHealth | undefined;
}

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
    files: [],
  };
}

export function emptyCounters(): MediaCounters {
  return { framesReceived: 0, bytesReceived: 0, framesWritten: 0, bytesWritten: 0, framesDropped: {} };
}
