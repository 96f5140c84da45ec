import type { MediaKind } from '../vocabulary/mediaKind.ts';
import type { Product } from '../rtms/products.ts';
import { TERMINAL_STATES, type StreamState } from '../vocabulary/streamState.ts';
import type { MediaCounters, ParticipantSnapshot, StreamStats } from '../vocabulary/streamStats.ts';

/**
 * One participant as `GET /streams/{id}` shows it: identity, name, state, join time
 * (docs/http-api.md).
 */
export interface ParticipantView {
  /** Zoom `user_id` (Contact Center: channel id). */
  readonly userId: string;
  /** Display name when Zoom sent one, else null. Shown to admins only; never logged. */
  readonly userName: string | null;
  /** `left` once a leave was seen after the last join. */
  readonly state: 'present' | 'left';
  /** Last join, ms epoch, or null when the participant was already there when we joined. */
  readonly joinedAt: number | null;
  /** Last leave, ms epoch, or null. */
  readonly leftAt: number | null;
  /** Whether Zoom reports the participant as the active speaker right now. */
  readonly speaking: boolean;
}

/** Counters of one media kind; `framesDroppedTotal` = Σ `framesDropped`. */
export interface MediaView extends MediaCounters {
  readonly framesDroppedTotal: number;
}

/**
 * The active-stream snapshot answered by `GET /streams/{id}` as `{"stream": StreamSnapshot}`
 * and by `GET /streams` as `{"streams": StreamSnapshot[]}` (oldest first). Modelled on seed
 * 002's room info + participants info, in the project's vocabulary. All times are integer ms
 * since the epoch; absent values are `null` (never omitted), so the shape is fixed:
 *
 * ```json
 * {
 *   "rtmsStreamId": "609340fb…", "product": "meeting", "entityId": "4444AAAiAAAAAiAiAiiAii==",
 *   "state": "live", "active": true,
 *   "createdAt": 1730000000000, "liveAt": 1730000000800, "endedAt": null, "durationMs": 61000,
 *   "stop": null, "failure": null, "reconnects": 1,
 *   "participants": {
 *     "joined": 3, "present": 2, "speaking": 1, "notKept": 0,
 *     "list": [{ "userId": "16778240", "userName": "Ada", "state": "present",
 *                "joinedAt": 1730000001000, "leftAt": null, "speaking": true }]
 *   },
 *   "media": { "audio": { "framesReceived": 3050, "bytesReceived": 1952000, "framesWritten": 3050,
 *              "bytesWritten": 1952000, "framesDropped": {}, "framesDroppedTotal": 0 } },
 *   "audioSeconds": 61, "files": ["stream.json", "events.jsonl", "audio.wav"],
 *   "sink": { "state": "ok", "lastError": { "file": "audio.wav", "code": "ENOSPC", "at": 1730000030000 } }
 * }
 * ```
 */
export interface StreamSnapshot {
  readonly rtmsStreamId: string;
  readonly product: Product;
  /** Meeting/webinar UUID, Video SDK session id or Contact Center engagement id. */
  readonly entityId: string;
  readonly state: StreamState;
  /** False once the stream reached `ended`, `failed` or `rejected` (an `is_running` flag). */
  readonly active: boolean;
  /** Admission time, ms epoch. */
  readonly createdAt: number;
  /** First time the stream went live, ms epoch. */
  readonly liveAt: number | null;
  readonly endedAt: number | null;
  /** From admission to the end, or to now while active, ms. */
  readonly durationMs: number;
  /** `stop_reason` from Zoom and its RTMS_STOP_REASON name, once stopped. */
  readonly stop: { readonly reason: number; readonly name: string | null } | null;
  /** Short, secret-free reason when `state` is `failed`. */
  readonly failure: string | null;
  /** Rejoins so far (failover, interruption, media-only reconnects). */
  readonly reconnects: number;
  /** Those rejoins by `<scope>/<trigger>`, e.g. `full/interrupted_webhook`, `media/media_closed`. */
  readonly rejoins: Readonly<Record<string, number>>;
  /** Bytes accepted by the sink and not yet on disk. */
  readonly bufferedBytes: number;
  readonly participants: {
    /** Distinct participants seen. */
    readonly joined: number;
    readonly present: number;
    readonly speaking: number;
    /** Newcomers the roster did not keep (`RTMS_MAX_PARTICIPANTS` reached with everyone present). */
    readonly notKept: number;
    /**
     * At most 100 (the active speaker, then those present, then those who left), ordered by
     * join time, unknown join times first. Empty once the stream has finished.
     */
    readonly list: readonly ParticipantView[];
  };
  /** Per requested media kind. Invariant: framesReceived = framesWritten + framesDroppedTotal + pending. */
  readonly media: Readonly<Partial<Record<MediaKind, MediaView>>>;
  /** Seconds of audio written across all audio files. */
  readonly audioSeconds: number;
  /** Output files so far, relative to `OUTPUT_DIR/<rtmsStreamId>/`: the first 1,000 (`stream.json` lists all). */
  readonly files: readonly string[];
  /** How many output files there are. */
  readonly fileCount: number;
  /**
   * The file sink: `failing` while a file cannot be written (its data waits and is retried),
   * and the most recent write error (kept after a recovery). Null until the worker reports.
   */
  readonly sink: {
    readonly state: 'ok' | 'failing';
    readonly lastError: { readonly file: string; readonly code: string; readonly at: number } | null;
  } | null;
}

/** Builds the admin view of a stream; `now` (ms epoch) bounds the duration of an active stream. */
export function toStreamSnapshot(stats: StreamStats, now: number): StreamSnapshot {
  const active = !TERMINAL_STATES.has(stats.state);
  const participants = stats.participants.map(toParticipantView);
  participants.sort((a, b) => byJoinTime(a.joinedAt, b.joinedAt));
  const media: Partial<Record<MediaKind, MediaView>> = {};
  for (const [kind, counters] of Object.entries(stats.media) as [MediaKind, MediaCounters | undefined][]) {
    if (counters === undefined) continue;
    media[kind] = {
      ...counters,
      framesDropped: { ...counters.framesDropped },
      framesDroppedTotal: Object.values(counters.framesDropped).reduce((sum, n) => sum + n, 0),
    };
  }
  const end = stats.endedAt ?? (active ? now : stats.createdAt);
  return {
    rtmsStreamId: stats.rtmsStreamId,
    product: stats.product,
    entityId: stats.entityId,
    state: stats.state,
    active,
    createdAt: stats.createdAt,
    liveAt: stats.liveAt ?? null,
    endedAt: stats.endedAt ?? null,
    durationMs: Math.max(0, end - stats.createdAt),
    stop: stats.stopReason === undefined ? null : { reason: stats.stopReason, name: stats.stopReasonName ?? null },
    failure: stats.failure ?? null,
    reconnects: stats.reconnects,
    rejoins: { ...stats.rejoins },
    bufferedBytes: stats.bufferedBytes,
    participants: { ...stats.participantCounts, list: participants },
    media,
    audioSeconds: stats.audioSeconds,
    files: [...stats.files],
    fileCount: stats.fileCount,
    sink: stats.sink === undefined ? null : { state: stats.sink.state, lastError: stats.sink.lastError ?? null },
  };
}

function toParticipantView(participant: ParticipantSnapshot): ParticipantView {
  const left = participant.leftAt !== undefined && (participant.joinedAt === undefined || participant.leftAt >= participant.joinedAt);
  return {
    userId: participant.userId,
    userName: participant.userName ?? null,
    state: left ? 'left' : 'present',
    joinedAt: participant.joinedAt ?? null,
    leftAt: participant.leftAt ?? null,
    speaking: !left && participant.speaking,
  };
}

/** Unknown join times (present before we joined) first, then ascending. */
function byJoinTime(a: number | null, b: number | null): number {
  if (a === null) return b === null ? 0 : -1;
  if (b === null) return 1;
  return a - b;
}
