import type { Logger } from 'pino';
import type { ChaosKind, ChaosLogEntry, ResolvedChaosOptions } from './chaos.ts';
import type { Credentials, MediaKind, Product } from './connectorShared.ts';
import type { Channel } from './peerSocket.ts';
import type { SimulatedStream } from './simulatedStream.ts';
import { postWebhook } from './streamCore.ts';
import type { SyncMarksOptions } from './syncMarks.ts';
import type { WebhookResponse } from './webhookSender.ts';

export type SimulatedStreamState = 'announced' | 'connected' | 'interrupted' | 'ended';

/** Why a stream ended. */
export type StreamEndCause =
  /** `stop()` was called (or `durationMs` elapsed). */
  | 'stopped'
  /** The client sent STREAM_CLOSE_REQ. */
  | 'closeRequest'
  /** Interrupted (signaling, media or failover) and not back within the grace period. */
  | 'graceExpired'
  /** Keep-alive misses interrupted it and the client did not come back in time. */
  | 'keepAliveTimeout'
  /** No client completed a join within `joinTimeoutMs`. */
  | 'joinTimeout'
  /** The `rtms_started` webhook was not acknowledged with a 2xx. */
  | 'webhookRejected'
  | 'simulatorClosed'
  | 'internalError';

export interface StreamEnd {
  /** RTMS_STOP_REASON sent to the client and in `*.rtms_stopped` (0 when neither was sent). */
  readonly stopReason: number;
  readonly cause: StreamEndCause;
  /** ms epoch */
  readonly at: number;
}

/** Connection bookkeeping of one stream, for assertions and the CLI summary. */
export interface ConnectionStats {
  /** Successful signaling handshakes (1 + rejoins). */
  signalingAccepted: number;
  /** Signaling handshakes refused with status 8 because another signaling socket was open. */
  signalingRejectedDuplicate: number;
  /** Successful media handshakes. */
  mediaAccepted: number;
  /** Every refused handshake for this stream, in order. */
  readonly handshakeRejections: Array<{ readonly channel: Channel; readonly statusCode: number; readonly reason: string }>;
  /** Unanswered keep-alive requests noticed (each miss counts once). */
  keepAliveMisses: number;
  /** Sockets dropped after `keepAliveMissLimit` consecutive misses. */
  readonly keepAliveTimeouts: Array<{ readonly channel: Channel; readonly kinds: readonly MediaKind[] }>;
  /** CLIENT_READY_ACK messages accepted. */
  readyAcks: number;
  /** Signaling interruptions (interrupt(), keep-alive, client dropped the socket). */
  interruptions: number;
  /** Media-only interruptions (dropMedia(), media keep-alive, client dropped a media socket). */
  mediaInterruptions: number;
  /** Server failovers (failover()). */
  failovers: number;
  /** Messages ignored: unparsable, unknown msg_type, or invalid in context. */
  unknownMessages: number;
}

/** Which socket a chaos action targets: signaling, or the media socket carrying a kind. */
export type ChaosChannel = 'signaling' | MediaKind;

/** `interrupt()` options: when `*.rtms_interrupted` is POSTed. */
export interface InterruptOptions {
  /**
   * 'now' (default, as Zoom normally does), 'afterRejoin' (out of order: only once the
   * client has rejoined, `delayMs` later, with the original `event_ts`), or 'never'.
   */
  readonly webhook?: 'now' | 'afterRejoin' | 'never';
  /** With 'afterRejoin': how long after the rejoin, ms (default 0). */
  readonly delayMs?: number;
}

/** Chaos bookkeeping of one stream (`stream.chaos`). */
export interface StreamChaos {
  /** Chaos mode drives this stream (explicit chaos methods work either way). */
  readonly enabled: boolean;
  /** Every injection, scheduled or explicit, in order. */
  readonly log: readonly ChaosLogEntry[];
  /** Injections applied, of one kind or in total. */
  applied(kind?: ChaosKind): number;
}

/** What the simulator provides to each stream. */
export interface StreamHost {
  readonly credentials: Credentials;
  readonly logger: Logger;
  now(): number;
  readonly settings: StreamSettings;
  signalingUrl(generation: number): string;
  mediaUrl(generation: number, kind: MediaKind | 'all'): string;
  /** POSTs a raw, already-serialised body, signed with the webhook secret token. */
  postWebhook(rawBody: string): Promise<WebhookResponse>;
  schedule(stream: SimulatedStream): void;
  unschedule(stream: SimulatedStream): void;
  /** Chaos mode settings, when the simulator runs in chaos mode. */
  readonly chaos: ResolvedChaosOptions | undefined;
}

export interface StreamSettings {
  readonly keepAliveIntervalMs: number;
  readonly keepAliveMissLimit: number;
  readonly reconnectGraceMs: number;
  readonly mediaReconnectGraceMs: number;
  readonly joinTimeoutMs: number;
  readonly socketHighWaterBytes: number;
  readonly backlog: { readonly audioMaxMs: number; readonly audioMaxBytes: number; readonly textMaxItems: number };
  readonly recordContent: boolean;
  readonly recordMaxBytes: number;
  /** Sync marks of streams that do not set their own (validated). */
  readonly syncMarks: SyncMarksOptions | undefined;
}

/** Options of `Simulator.startStream()`. */
export interface StartStreamOptions {
  /** Default 'meeting'. */
  readonly product?: Product;
  /** Participants (default 3); Contact Center always has 2 channels, agent and customer. */
  readonly participants?: number;
  /** Media the app may receive (default all five; Contact Center: audio and transcript). */
  readonly scopes?: readonly MediaKind[];
  /** After media has flowed this long (ms, from the first CLIENT_READY_ACK), stop with reason 6. */
  readonly durationMs?: number;
  /** Default: 32 random hex digits. */
  readonly rtmsStreamId?: string;
  /** Default: a random base64 UUID like Zoom's. */
  readonly entityId?: string;
  /** Offer per-kind media URLs besides `all` in the signaling answer (default true). */
  readonly offerSplitMediaUrls?: boolean;
  /** Webhook payload layout (default 'flat'; 'object' nests under `payload.object`). */
  readonly payloadNesting?: 'flat' | 'object';
  /** Webinars: key carrying the entity id in webhooks (default 'webinar_uuid'). */
  readonly webinarIdKey?: 'webinar_uuid' | 'meeting_uuid';
  /** Video SDK custom session id (default `sim-session-<n>`). */
  readonly sessionKey?: string;
  /** Inject scheduled chaos into this stream (default: whether the simulator runs in chaos mode). */
  readonly chaos?: boolean;
  /** Sync marks for this stream (default: the simulator's `syncMarks`; false: none). */
  readonly syncMarks?: SyncMarksOptions | false;
}
