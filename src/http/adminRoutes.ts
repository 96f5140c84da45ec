import type { AuthFailureLimiter } from './authFailureLimiter.ts';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../logger.ts';
import type { StreamStats } from '../vocabulary/streamStats.ts';
import { sendError, sendJson } from './jsonResponse.ts';
import { toStreamSnapshot, type StreamSnapshot } from './streamSnapshot.ts';
import { TokenAccess } from './tokenAccess.ts';

/**
 * What the admin API needs from the control plane (the supervisor). Every method may
 * answer synchronously or with a promise (a Redis-backed registry is asynchronous).
 */
export interface StreamControl {
  /** Streams this instance knows, active ones at least. */
  list(): readonly StreamStats[] | Promise<readonly StreamStats[]>;
  get(rtmsStreamId: string): StreamStats | undefined | Promise<StreamStats | undefined>;
  /** Starts closing the stream (STREAM_CLOSE_REQ, then finalize); false = unknown stream. */
  close(rtmsStreamId: string): boolean | Promise<boolean>;
  /**
   * Excludes a participant's media from capture from now on; false = unknown stream. The
   * user need not have joined yet: exclusion applies whenever they appear.
   */
  excludeParticipant(rtmsStreamId: string, userId: string): boolean | Promise<boolean>;
}

/** `GET /streams` answer. */
export interface StreamListAnswer {
  readonly streams: readonly StreamSnapshot[];
}

/** `GET /streams/{id}` answer. */
export interface StreamAnswer {
  readonly stream: StreamSnapshot;
}

/** `DELETE /streams/{id}` answer (202: closing is asynchronous; poll `GET /streams/{id}`). */
export interface StreamCloseAnswer {
  readonly status: 'closing';
  readonly rtmsStreamId: string;
}

/**
 * `DELETE /streams/{id}/participants/{userId}` answer (202). Spells out what the privacy
 * opt-out covers, because the one thing people expect and we cannot do, removing a voice
 * from Zoom's mixed audio, must not be a surprise.
 */
export interface ParticipantExclusionAnswer {
  readonly status: 'excluding';
  readonly rtmsStreamId: string;
  readonly userId: string;
  /** When exclusion took effect, ms epoch; earlier output is kept. */
  readonly effectiveFrom: number;
  /** Media kinds dropped for this participant from `effectiveFrom` on, each with what that means. */
  readonly excluded: {
    readonly audio: string;
    readonly video: string;
    readonly transcript: string;
  };
  /** What exclusion cannot remove. */
  readonly notExcluded: {
    readonly mixedAudio: string;
    readonly earlierOutput: string;
  };
  /** Where dropped frames are counted. */
  readonly counters: string;
}

const EXCLUSION_EXCLUDED: ParticipantExclusionAnswer['excluded'] = {
  audio: "per-speaker audio (RTMS_AUDIO_MODE=multi): the participant's audio frames are dropped, nothing more is written to audio-<userId>.wav",
  video: 'video frames attributed to the participant are dropped',
  transcript: 'transcript lines spoken by the participant are dropped',
};

const EXCLUSION_NOT_EXCLUDED: ParticipantExclusionAnswer['notExcluded'] = {
  mixedAudio:
    'mixed audio (audio.wav, RTMS_AUDIO_MODE=mixed) arrives from Zoom already mixed into one track and cannot be split per speaker: the participant stays audible in it',
  earlierOutput: 'output written before effectiveFrom is kept; delete it separately if required',
};

const EXCLUSION_COUNTERS = 'dropped frames are counted in media.<kind>.framesDropped.excluded of GET /streams/{id}';

export interface AdminRoutesOptions {
  /**
   * Bearer token for every `/streams` route. Unset or empty disables the admin API: every
   * route answers 401. Reads are protected like writes because snapshots list participant
   * ids and names.
   */
  readonly adminToken: string | undefined;
  /** Slows repeated 401s per address; shared with the live feeds. */
  readonly authFailures?: AuthFailureLimiter;
  /** Read-only bearer token (`CONSUMER_TOKEN`): the GET routes accept it too. */
  readonly consumerToken?: string | undefined;
  readonly streams: StreamControl;
  /** ms epoch; used for durations and `effectiveFrom`. */
  readonly now: () => number;
  readonly logger: Logger;
}

/**
 * The `/streams` admin API:
 *
 * | route | answer |
 * |---|---|
 * | `GET /streams` | 200 `StreamListAnswer` |
 * | `GET /streams/{id}` | 200 `StreamAnswer`, 404 `STREAM_NOT_FOUND` |
 * | `DELETE /streams/{id}` | 202 `StreamCloseAnswer`, 404 |
 * | `DELETE /streams/{id}/participants/{userId}` | 202 `ParticipantExclusionAnswer`, 404 |
 *
 * Order of checks: route (404 `ROUTE_NOT_FOUND`), method (405), the address's failed
 * attempts (429 `ADMIN_RATE_LIMITED`), token (401), stream
 * (404 `STREAM_NOT_FOUND`), so an unauthenticated caller learns nothing about which
 * streams exist. Path segments
 * are percent-decoded after splitting, so `%2F` inside an id stays part of the id.
 */
export class AdminRoutes {
  readonly #auth: TokenAccess;
  readonly #streams: StreamControl;
  readonly #now: () => number;
  readonly #logger: Logger;

  constructor(options: AdminRoutesOptions) {
    this.#auth = new TokenAccess(options);
    this.#streams = options.streams;
    this.#now = options.now;
    this.#logger = options.logger;
  }

  /** Handles a request whose raw (still percent-encoded) path segments start with `streams`. */
  async handle(request: IncomingMessage, response: ServerResponse, segments: readonly string[]): Promise<void> {
    const target = matchTarget(segments);
    if (target === undefined) return sendError(response, 404, 'ROUTE_NOT_FOUND', 'no such route');
    if (target === 'invalid') return sendError(response, 400, 'PATH_INVALID', 'path: invalid percent-encoding');
    const methods = METHODS[target.kind];
    const method = request.method === 'HEAD' ? 'GET' : (request.method ?? '');
    if (!methods.includes(method)) {
      return sendError(response, 405, 'METHOD_NOT_ALLOWED', `method ${request.method ?? ''} not allowed here`, {
        allow: allowHeader(methods),
      });
    }
    const denied = this.#auth.check(request.headers.authorization, method === 'GET' ? 'read' : 'write', request.socket.remoteAddress);
    if (denied?.status === 429) {
      return sendError(response, 429, 'ADMIN_RATE_LIMITED', denied.reason, { 'retry-after': String(denied.retryAfterSeconds ?? 1) });
    }
    if (denied !== undefined) {
      const code = denied.status === 403 ? 'ADMIN_FORBIDDEN' : 'ADMIN_UNAUTHORIZED';
      return sendError(response, denied.status, code, denied.reason, { 'www-authenticate': denied.challenge });
    }

    switch (target.kind) {
      case 'streams': {
        const now = this.#now();
        const stats = [...(await this.#streams.list())].sort((a, b) => a.createdAt - b.createdAt);
        const answer: StreamListAnswer = { streams: stats.map((s) => toStreamSnapshot(s, now)) };
        return sendJson(response, 200, answer);
      }
      case 'stream': {
        if (method === 'GET') {
          const stats = await this.#streams.get(target.rtmsStreamId);
          if (stats === undefined) return streamNotFound(response);
          const answer: StreamAnswer = { stream: toStreamSnapshot(stats, this.#now()) };
          return sendJson(response, 200, answer);
        }
        if (!(await this.#streams.close(target.rtmsStreamId))) return streamNotFound(response);
        this.#logger.info({ rtmsStreamId: target.rtmsStreamId }, 'admin close requested');
        const answer: StreamCloseAnswer = { status: 'closing', rtmsStreamId: target.rtmsStreamId };
        return sendJson(response, 202, answer);
      }
      case 'participant': {
        const effectiveFrom = this.#now();
        if (!(await this.#streams.excludeParticipant(target.rtmsStreamId, target.userId))) return streamNotFound(response);
        // The user id is pseudonymous and needed to audit opt-outs; the name is never logged.
        this.#logger.info({ rtmsStreamId: target.rtmsStreamId, userId: target.userId }, 'admin participant exclusion');
        const answer: ParticipantExclusionAnswer = {
          status: 'excluding',
          rtmsStreamId: target.rtmsStreamId,
          userId: target.userId,
          effectiveFrom,
          excluded: EXCLUSION_EXCLUDED,
          notExcluded: EXCLUSION_NOT_EXCLUDED,
          counters: EXCLUSION_COUNTERS,
        };
        return sendJson(response, 202, answer);
      }
    }
  }
}

type Target =
  | { readonly kind: 'streams' }
  | { readonly kind: 'stream'; readonly rtmsStreamId: string }
  | { readonly kind: 'participant'; readonly rtmsStreamId: string; readonly userId: string };

/** Methods per target; HEAD is served wherever GET is. */
const METHODS: Readonly<Record<Target['kind'], readonly string[]>> = {
  streams: ['GET'],
  stream: ['GET', 'DELETE'],
  participant: ['DELETE'],
};

/** Maps raw path segments (`['streams', id, …]`) to a target; ids are decoded after splitting. */
function matchTarget(segments: readonly string[]): Target | 'invalid' | undefined {
  if (segments[0] !== 'streams') return undefined;
  if (segments.length === 1) return { kind: 'streams' };
  const rtmsStreamId = decode(segments[1]);
  if (rtmsStreamId === undefined) return 'invalid';
  if (rtmsStreamId === '') return undefined;
  if (segments.length === 2) return { kind: 'stream', rtmsStreamId };
  if (segments.length === 4 && segments[2] === 'participants') {
    const userId = decode(segments[3]);
    if (userId === undefined) return 'invalid';
    if (userId === '') return undefined;
    return { kind: 'participant', rtmsStreamId, userId };
  }
  return undefined;
}

function decode(segment: string | undefined): string | undefined {
  if (segment === undefined) return '';
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

function allowHeader(methods: readonly string[]): string {
  return methods.includes('GET') ? [...methods, 'HEAD'].join(', ') : methods.join(', ');
}

function streamNotFound(response: ServerResponse): void {
  sendError(response, 404, 'STREAM_NOT_FOUND', 'no stream with this id');
}
