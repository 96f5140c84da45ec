import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { Credentials, MediaKind } from './connectorShared.ts';
import {
  EventType,
  MessageType,
  RtmsSessionState,
  RtmsStreamState,
  STATUS_CODE_NAMES,
  StatusCode,
  StopReason,
  nameOf,
} from './connectorShared.ts';
import type { EntityIdKey, Product } from './connectorShared.ts';
import { handshakeSignature, safeEqual } from './connectorShared.ts';
import { type ChaosDraw, type ChaosKind, type ChaosLogEntry, ChaosPlan, type ResolvedChaosOptions, choose } from './chaos.ts';
import { type MalformedVariant, malformedMessage, malformedVariantsFor, unknownMessage } from './chaosMessages.ts';
import { MediaBacklog, type BacklogDrops, type BacklogItem, type BacklogKind } from './mediaBacklog.ts';
import { negotiateMedia } from './mediaNegotiation.ts';
import { MediaProducer, type PictureFrame, type ProducerOutlet } from './mediaProducer.ts';
import { createParticipants, type SimParticipant } from './participants.ts';
import type { Channel, InboundMessage, PeerSocket } from './peerSocket.ts';
import { Prng } from './prng.ts';
import { SentRecord, type SentMedia } from './sentRecord.ts';
import { SimulatorError } from './simulatorErrors.ts';
import { lifecycleWebhookBody, type StreamIdentity } from './webhookBodies.ts';
import type { WebhookResponse } from './webhookSender.ts';
import {
  dataHandshakeResponse,
  eventUpdate,
  mediaDataMessage,
  pictureMessage,
  sessionStateUpdate,
  signalingHandshakeResponse,
  streamStateUpdate,
  terminationMessages,
  zccEvent,
} from './wireMessages.ts';

/*
 * Lifecycle of a simulated stream, as Zoom runs it:
 *
 *   announced ──signaling handshake──▶ connected ◀──rejoin (handshake)──┐
 *       │                                 │                              │
 *       │                                 ├─interrupt / keep-alive miss ─▶ interrupted
 *       │                                 │  / client dropped signaling   │  / failover
 *       ▼                                 ▼                              ▼
 *     ended ◀─── stop, close request, join timeout, grace expired ──────┘
 *
 * Media-only loss (dropMedia, media keep-alive miss) keeps the stream `connected` and arms
 * the same grace deadline until the lost media sockets are back.
 */
export type SimulatedStreamState = 'announced' | 'connected' | 'interrupted' | 'ended';

const TRANSITIONS: Readonly<Record<SimulatedStreamState, readonly SimulatedStreamState[]>> = {
  announced: ['connected', 'ended'],
  connected: ['interrupted', 'ended'],
  interrupted: ['connected', 'ended'],
  ended: [],
};

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
}

const DEFAULT_SCOPES: Readonly<Record<Product, readonly MediaKind[]>> = {
  meeting: ['audio', 'video', 'deskshare', 'transcript', 'chat'],
  webinar: ['audio', 'video', 'deskshare', 'transcript', 'chat'],
  session: ['audio', 'video', 'deskshare', 'transcript', 'chat'],
  contact_center: ['audio', 'transcript'],
};

/** Keys under which a handshake may carry the entity id (§2.11: accept any). */
const ENTITY_KEYS = ['meeting_uuid', 'webinar_uuid', 'session_id', 'engagement_id', 'call_id'] as const;

/** ZCC voice events (§2.4 (6)); their numbers overlap the meeting enum. */
const ZccEvent = { CONSUMER_ANSWERED: 8, CONSUMER_END: 9, USER_ANSWERED: 10, USER_END: 11 } as const;

interface GraceDeadline {
  /** ms epoch */
  readonly at: number;
  readonly stopReason: number;
  readonly cause: StreamEndCause;
}

interface Deferred<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

let streamCounter = 0;

/**
 * One RTMS stream as Zoom would run it: announced by webhook, joined over a signaling
 * socket and media sockets, fed with generated media, interrupted, failed over and ended
 * on request. Created by `Simulator.startStream()`; all timing comes from the simulator's
 * shared scheduler calling `tick()`.
 */
export class SimulatedStream {
  readonly product: Product;
  readonly rtmsStreamId: string;
  readonly entityId: string;
  /** The key the webhooks use for the entity id. */
  readonly entityIdKey: EntityIdKey;
  /** Video SDK custom session id (sessions only, but always set). */
  readonly sessionKey: string;
  /** Media the app may receive. */
  readonly scopes: readonly MediaKind[];
  readonly participants: readonly SimParticipant[];
  /** Exactly what was delivered to the client. */
  readonly sent: SentMedia;
  readonly connections: ConnectionStats = {
    signalingAccepted: 0,
    signalingRejectedDuplicate: 0,
    mediaAccepted: 0,
    handshakeRejections: [],
    keepAliveMisses: 0,
    keepAliveTimeouts: [],
    readyAcks: 0,
    interruptions: 0,
    mediaInterruptions: 0,
    failovers: 0,
    unknownMessages: 0,
  };
  /** Every webhook sent for this stream with its outcome, in order. */
  readonly webhooks: Array<{ readonly event: string; readonly status: number | undefined; readonly error: string | undefined; readonly at: number }> = [];

  readonly #host: StreamHost;
  readonly #logger: Logger;
  readonly #identity: StreamIdentity;
  readonly #record: SentRecord;
  readonly #backlog: MediaBacklog;
  readonly #seed: number;
  readonly #durationMs: number | undefined;
  readonly #offerSplitMediaUrls: boolean;
  readonly #payloadNesting: 'flat' | 'object';
  readonly #rtmsSessionId = randomBytes(16).toString('hex');
  readonly #ended = deferred<StreamEnd>();
  readonly #readyWaiters: Array<{ readonly count: number; readonly deferred: Deferred<void> }> = [];
  readonly #media = new Set<PeerSocket>();
  /** Sockets the simulator terminated whose undelivered media has not been handed back yet. */
  readonly #closing = new Set<PeerSocket>();
  /** Media kinds whose sockets were lost and have not reconnected. */
  readonly #lostKinds = new Set<MediaKind>();
  #state: SimulatedStreamState = 'announced';
  #generation = 1;
  #startedBody: string | undefined;
  #signaling: PeerSocket | undefined;
  /** CLIENT_READY_ACK received on the current signaling connection. */
  #ready = false;
  #whole = false;
  #readyCount = 0;
  #firstReadyAt: number | undefined;
  #bufferStartupAudio = true;
  #subscribed = new Set<number>();
  #producer: MediaProducer | undefined;
  #deadline: GraceDeadline | undefined;
  #end: StreamEnd | undefined;
  #droppedPictures = { videoFrames: 0, deskshareFrames: 0 };
  /** Chaos: the scheduled plan (chaos mode only), the log, and effects in progress. */
  readonly #chaosPlan: ChaosPlan | undefined;
  readonly #chaosLog: ChaosLogEntry[] = [];
  /** The scheduled injection being applied (its entries in the log carry its sequence number). */
  #currentDraw: ChaosDraw | undefined;
  /** The latest lifecycle webhook body POSTed (started or interrupted), for exact retries. */
  #lastLifecycleBody: string | undefined;
  /** Every `rtms_started` announced: when, and with which `server_urls`. */
  readonly #announcements: Array<{ readonly eventTs: number; readonly serverUrls: string }> = [];
  /** An `rtms_interrupted` held back until the client has rejoined (out-of-order delivery). */
  #lateInterrupted: { readonly body: string; readonly delayMs: number; readonly afterReady: number; postAt: number | undefined } | undefined;
  /** Padded size of the next picture of a kind (oversized-frame injection). */
  readonly #oversizedPending = new Map<'video' | 'deskshare', number>();
  /** The next media handshake is answered this much later, after `onArrival` ran (holdNextMediaHandshake). */
  #mediaHandshakeHold: { readonly delayMs: number; readonly onArrival: () => void } | undefined;

  constructor(options: StartStreamOptions & { host: StreamHost; seed: number; chaosSeed?: number }) {
    streamCounter += 1;
    this.#host = options.host;
    this.product = options.product ?? 'meeting';
    this.rtmsStreamId = options.rtmsStreamId ?? randomBytes(16).toString('hex');
    this.entityId = options.entityId ?? randomBytes(16).toString('base64');
    const webinarIdKey = options.webinarIdKey ?? 'webinar_uuid';
    this.entityIdKey = (
      { meeting: 'meeting_uuid', webinar: webinarIdKey, session: 'session_id', contact_center: 'engagement_id' } as const
    )[this.product];
    this.sessionKey = options.sessionKey ?? `sim-session-${streamCounter}`;
    this.scopes = [...new Set(options.scopes ?? DEFAULT_SCOPES[this.product])];
    if (this.scopes.length === 0) throw new SimulatorError('INVALID_OPTION', 'scopes must name at least one media kind');
    if (options.durationMs !== undefined && !(options.durationMs > 0)) {
      throw new SimulatorError('INVALID_OPTION', `durationMs must be positive, got ${options.durationMs}`);
    }
    this.#seed = options.seed;
    this.participants = createParticipants({ product: this.product, count: options.participants ?? 3, seed: options.seed });
    this.#durationMs = options.durationMs;
    this.#offerSplitMediaUrls = options.offerSplitMediaUrls ?? true;
    this.#payloadNesting = options.payloadNesting ?? 'flat';
    this.#identity = {
      product: this.product,
      rtmsStreamId: this.rtmsStreamId,
      entityId: this.entityId,
      sessionKey: this.sessionKey,
      operatorId: randomBytes(16).toString('base64url').slice(0, 22),
      accountId: randomBytes(16).toString('base64url').slice(0, 22),
      meetingNumber: 80_000_000_000 + (randomBytes(4).readUInt32BE(0) % 9_000_000_000),
      webinarIdKey,
    };
    const settings = this.#host.settings;
    this.#record = new SentRecord({ recordContent: settings.recordContent, maxContentBytes: settings.recordMaxBytes });
    this.sent = this.#record;
    this.#backlog = new MediaBacklog(settings.backlog);
    this.#logger = this.#host.logger.child({ rtmsStreamId: this.rtmsStreamId, product: this.product });
    if (settings.joinTimeoutMs > 0) {
      this.#deadline = { at: this.#host.now() + settings.joinTimeoutMs, stopReason: 11, cause: 'joinTimeout' };
    }
    const chaos = this.#host.chaos;
    this.#chaosPlan = chaos !== undefined && options.chaos !== false ? new ChaosPlan(chaos, options.chaosSeed ?? options.seed) : undefined;
    // Nobody may be awaiting these yet; keep rejections from surfacing as unhandled.
    this.#ended.promise.catch(() => {});
  }

  get state(): SimulatedStreamState {
    return this.#state;
  }

  /** Current signaling URL (changes on failover). */
  get signalingUrl(): string {
    return this.#host.signalingUrl(this.#generation);
  }

  /** `server_urls` of the latest `rtms_started`. */
  get serverUrls(): string {
    return this.signalingUrl;
  }

  /** Times the stream became fully connected and flowing (first join, then every complete rejoin). */
  get readyCount(): number {
    return this.#readyCount;
  }

  /** How the stream ended, once it has. */
  get end(): StreamEnd | undefined {
    return this.#end;
  }

  /** Media that could not be delivered: backlog overflow (audio, text) and pictures skipped under backpressure. */
  get dropped(): Readonly<BacklogDrops & { videoFrames: number; deskshareFrames: number }> {
    return { ...this.#backlog.dropped, ...this.#droppedPictures };
  }

  /** Buffered media not yet delivered (audio packets, transcript lines, chat messages). */
  backlogSize(kind: BacklogKind): number {
    return this.#backlog.size(kind);
  }

  /** The latest `rtms_started` body, exactly as sent. */
  get startedBody(): string | undefined {
    return this.#startedBody;
  }

  /** FIRST_PACKET_TIMESTAMP: wall time of media time 0, once a client has joined. */
  get firstPacketTimestamp(): number | undefined {
    return this.#producer?.mediaStartAt;
  }

  /**
   * Resolves when the client has completed its `occurrence`-th join: signaling up,
   * CLIENT_READY_ACK received, media sockets (back) up and media flowing. Rejects with
   * `SimulatorError('STREAM_ENDED')` if the stream ends first.
   */
  whenReady(occurrence = 1): Promise<void> {
    if (this.#readyCount >= occurrence) return Promise.resolve();
    if (this.#state === 'ended') return Promise.reject(this.#endedError());
    const waiter = { count: occurrence, deferred: deferred<void>() };
    this.#readyWaiters.push(waiter);
    return waiter.deferred.promise;
  }

  /** Resolves once the stream has ended: sockets closed and `*.rtms_stopped` attempted. Never rejects. */
  whenEnded(): Promise<StreamEnd> {
    return this.#ended.promise;
  }

  /**
   * Ends the stream like Zoom: STREAM_STATE_UPDATE(TERMINATED, reason) and
   * SESSION_STATE_UPDATE(STOPPED) on signaling, close sockets, POST `*.rtms_stopped`.
   * @param stopReason RTMS_STOP_REASON (default 6, MEETING_ENDED)
   */
  async stop(stopReason: number = StopReason.MEETING_ENDED): Promise<void> {
    await this.#finish({ stopReason, cause: 'stopped', notifyClient: true, webhook: true, graceful: true });
  }

  /**
   * Network loss on the signaling path: terminates signaling and media sockets, POSTs
   * `*.rtms_interrupted`, keeps producing audio into the backlog and delivers it after the
   * client rejoins; stops with reason 19 when the client is not back within
   * `reconnectGraceMs`. Resolves when the webhook got its answer. No-op unless connected.
   * `options.webhook` delays the webhook until the client has rejoined ('afterRejoin', out
   * of order, with the original `event_ts`) or leaves it out ('never').
   */
  async interrupt(options: InterruptOptions = {}): Promise<void> {
    await this.#interruptSignaling('api', options);
  }

  /**
   * Media-only loss: terminates the media sockets (only the one carrying `kind`, when
   * given), sends EVENT_UPDATE 7 and STREAM_STATE_UPDATE(INTERRUPTED, 14) on signaling,
   * buffers audio until the client rejoins media. No-op unless connected with media sockets.
   */
  async dropMedia(kind?: MediaKind): Promise<void> {
    if (this.#state !== 'connected' || this.#media.size === 0) return;
    const sockets = kind === undefined ? [...this.#media] : [...this.#media].filter((socket) => socket.kinds.includes(kind));
    if (sockets.length === 0) return;
    this.#loseMedia(sockets, 'api');
  }

  /**
   * Holds the next media handshake `delayMs` before answering it (`Infinity`: never, a lost
   * reply), calling `onArrival` as it comes in: lets a test lose another media socket while
   * the client is in the middle of a media rejoin, with the client's view of that loss
   * guaranteed to come first, or let a handshake time out on the client.
   */
  holdNextMediaHandshake(delayMs: number, onArrival: () => void = () => undefined): void {
    this.#mediaHandshakeHold = { delayMs, onArrival };
  }

  /**
   * Server failure: closes every socket, moves the stream to a new signaling URL and POSTs a
   * new `*.rtms_started` for the same stream id with the new `server_urls`. The client must
   * rejoin there within `reconnectGraceMs`. Resolves with the webhook answer.
   * @param options.webhookDelayMs POST the new `rtms_started` this much later (default 0): a
   *   client that retries the old server on its own meanwhile is refused there (status 2).
   */
  async failover(options: { webhookDelayMs?: number; eventTsOffsetMs?: number } = {}): Promise<WebhookResponse> {
    if (this.#state === 'ended') throw this.#endedError();
    this.#generation += 1;
    this.connections.failovers += 1;
    this.#logger.info({ generation: this.#generation }, 'simulated server failover');
    if (this.#state === 'connected') {
      this.#dropAllSockets();
      this.#transition('interrupted');
      this.#armDeadline(this.#host.settings.reconnectGraceMs, StopReason.AWAIT_RECONNECTION_TIMEOUT, 'graceExpired');
    }
    const delayMs = options.webhookDelayMs ?? 0;
    if (delayMs > 0) {
      await sleep(delayMs);
      if (this.#end !== undefined) throw this.#endedError();
    }
    return this.announce({ eventTsOffsetMs: options.eventTsOffsetMs });
  }

  /** Zoom's webhook retry: POSTs the latest `rtms_started` body again, byte for byte. */
  async resendStart(): Promise<WebhookResponse> {
    if (this.#startedBody === undefined) throw new SimulatorError('INVALID_OPTION', 'the stream was never announced');
    return this.#postWebhook(this.#startedBody);
  }

  /**
   * POSTs `*.rtms_started` with the current signaling URL (a new `event_ts` each call).
   * Called by the simulator when the stream starts and by `failover()`.
   * @param options.eventTsOffsetMs dates `event_ts` this far off the simulator's clock (Zoom's
   *   clock wrong for this event); the request timestamp header stays right.
   */
  async announce(options: { eventTsOffsetMs?: number | undefined } = {}): Promise<WebhookResponse> {
    const body = lifecycleWebhookBody({
      kind: 'rtms_started',
      stream: this.#identity,
      eventTs: this.#host.now() + (options.eventTsOffsetMs ?? 0),
      serverUrls: this.serverUrls,
      payloadNesting: this.#payloadNesting,
    });
    this.#startedBody = JSON.stringify(body);
    this.#announcements.push({ eventTs: body.event_ts, serverUrls: this.serverUrls });
    this.#host.schedule(this);
    return this.#postWebhook(this.#startedBody);
  }

  /** Ends the stream without telling anyone (webhook refused, simulator closing). */
  async abort(cause: 'webhookRejected' | 'simulatorClosed'): Promise<void> {
    await this.#finish({ stopReason: 0, cause, notifyClient: false, webhook: false, graceful: false });
  }

  /** A bug in the simulator broke this stream: end it as Zoom would on a server error (reason 10). */
  async fail(): Promise<void> {
    await this.#finish({ stopReason: 10, cause: 'internalError', notifyClient: true, webhook: true, graceful: true });
  }

  // ---------------------------------------------------------------------------------------
  // Chaos (explicit injections; chaos mode schedules the same ones from its seed)

  /** Chaos log and counters of this stream. */
  get chaos(): StreamChaos {
    const log = this.#chaosLog;
    return {
      enabled: this.#chaosPlan !== undefined,
      log,
      applied: (kind) => log.filter((entry) => entry.applied && (kind === undefined || entry.kind === kind)).length,
    };
  }

  /**
   * Stall: the socket of `channel` (default signaling) writes nothing for `ms`, keep-alive
   * requests included; signaling messages are held and written afterwards, audio and text
   * wait in the backlog, pictures due meanwhile are skipped (`dropped`). A client that
   * watches for silence drops the socket if `ms` exceeds its limit. False when there is no
   * such open socket.
   */
  stall(ms: number, channel: ChaosChannel = 'signaling'): boolean {
    const socket = this.#chaosSocket(channel);
    const applied = socket !== undefined && !socket.isStalled;
    if (applied) socket.stall(this.#host.now() + ms);
    this.#logChaos('stall', applied, `${channel} for ${ms} ms`);
    return applied;
  }

  /**
   * The socket of `channel` (default signaling) reads nothing from the client for `ms`: a
   * client close frame is seen only afterwards, so a client that opens its next signaling
   * connection without waiting for the close to complete is refused as a duplicate (status 8).
   * False when there is no such open socket.
   */
  stallReads(ms: number, channel: ChaosChannel = 'signaling'): boolean {
    const socket = this.#chaosSocket(channel);
    socket?.stallReads(this.#host.now(), ms);
    this.#logChaos('stall', socket !== undefined, `reads of ${channel} for ${ms} ms`);
    return socket !== undefined;
  }

  /**
   * No KEEP_ALIVE_REQ for `ms` on every socket (or only on `channel`); media keeps flowing.
   * False when the stream has no open socket.
   */
  suppressKeepAlives(ms: number, channel?: ChaosChannel): boolean {
    const until = this.#host.now() + ms;
    const sockets = channel === undefined ? this.#openSockets() : [this.#chaosSocket(channel)].filter((socket) => socket !== undefined);
    for (const socket of sockets) socket.suppressKeepAlives(until);
    this.#logChaos('suppressKeepAlives', sockets.length > 0, `${channel ?? 'all sockets'} for ${ms} ms`);
    return sockets.length > 0;
  }

  /**
   * Writes a deliberately malformed media message of `kind` on the socket carrying it
   * (`variant` default: unparsable JSON). Counted in `sent.malformedCount(kind)` once
   * written; resolves whether it was. Needs a ready client and a socket that is not stalled.
   */
  async sendMalformed(kind: MediaKind, variant: MalformedVariant = 'invalidJson', seed?: number): Promise<boolean> {
    const chaosKind: ChaosKind = variant === 'invalidJson' ? 'malformedJson' : variant === 'truncatedJson' ? 'truncatedJson' : 'invalidFields';
    const socket = this.#ready ? this.#socketFor(kind) : undefined;
    const participant = this.participants[0];
    if (socket === undefined || socket.isStalled || participant === undefined || !malformedVariantsFor(kind).includes(variant)) {
      this.#logChaos(chaosKind, false, `${kind} ${variant}: no ready socket or variant not applicable`);
      return false;
    }
    const prng = new Prng(seed ?? this.#host.now());
    const text = malformedMessage(variant, { kind, product: this.product, participant, now: this.#host.now(), prng });
    this.#logChaos(chaosKind, true, `${kind} ${variant}`);
    const written = await socket.sendTextNow(text);
    if (written) this.#record.addMalformed(kind);
    return written;
  }

  /**
   * Writes a message with an undefined `msg_type` on signaling or the socket carrying a
   * media kind. Counted in `sent.unknownCount(channel)` once written.
   */
  async sendUnknown(channel: ChaosChannel = 'signaling', seed?: number): Promise<boolean> {
    const socket = channel === 'signaling' || this.#ready ? this.#chaosSocket(channel) : undefined;
    if (socket === undefined || socket.isStalled) {
      this.#logChaos('unknownMessage', false, `${channel}: no ready socket`);
      return false;
    }
    this.#logChaos('unknownMessage', true, channel);
    const written = await socket.sendTextNow(unknownMessage(new Prng(seed ?? this.#host.now()), this.#host.now()));
    if (written) this.#record.addUnknown(channel);
    return written;
  }

  /**
   * Writes `text` as is on signaling or the socket carrying a media kind; counted in
   * `sent.rawCount(channel)` only (the caller knows what it sent). Resolves whether written.
   */
  async sendRaw(channel: ChaosChannel, text: string): Promise<boolean> {
    const socket = this.#chaosSocket(channel);
    if (socket === undefined || socket.isStalled) return false;
    const written = await socket.sendTextNow(text);
    if (written) this.#record.addRaw(channel);
    return written;
  }

  /**
   * Pads the next video or deskshare frame with trailing zero bytes to `bytes` (default
   * chaos `oversizedBytes`, else 1.5 MiB): still a valid frame (Annex B allows trailing
   * zeros; decoders ignore bytes after an image's end), recorded padded in `sent`. Above
   * the client's payload limit (chaos `clientMaxPayloadBytes`) it is recorded in
   * `sent.oversizedLostCount()` instead and nothing more is written on that socket.
   * False when no socket carries `kind`.
   */
  sendOversized(kind: 'video' | 'deskshare', bytes?: number): boolean {
    const size = bytes ?? this.#host.chaos?.oversizedBytes ?? 1.5 * 1024 * 1024;
    const applied = this.#socketFor(kind) !== undefined && this.scopes.includes(kind);
    if (applied) this.#oversizedPending.set(kind, size);
    this.#logChaos('oversizedFrame', applied, `next ${kind} frame padded to ${size} bytes`);
    return applied;
  }

  /** POSTs the latest `rtms_started` or `rtms_interrupted` again, byte for byte (Zoom's retry). */
  async resendLastWebhook(): Promise<WebhookResponse | undefined> {
    const body = this.#lastLifecycleBody;
    const event = body === undefined ? 'none' : String((JSON.parse(body) as { event?: unknown }).event);
    this.#logChaos('duplicateWebhook', body !== undefined && this.#state !== 'ended', event);
    if (body === undefined || this.#state === 'ended') return undefined;
    return this.#postWebhook(body).catch(() => undefined);
  }

  /**
   * POSTs an `rtms_started` older than the latest one (smaller `event_ts`, never one sent
   * before): after a failover it names the previous server's `server_urls`, as a delayed
   * delivery of the earlier announcement would. A client should ignore it.
   */
  async sendStaleStart(): Promise<WebhookResponse | undefined> {
    const latest = this.#announcements.at(-1);
    const previous = this.#announcements.at(-2) ?? latest;
    if (latest === undefined || previous === undefined || this.#state === 'ended') {
      this.#logChaos('staleStarted', false, 'never announced or ended');
      return undefined;
    }
    const seen = new Set(this.#announcements.map((announcement) => announcement.eventTs));
    let eventTs = Math.min(previous.eventTs, latest.eventTs - 1) - 1;
    while (seen.has(eventTs)) eventTs -= 1;
    const body = lifecycleWebhookBody({ kind: 'rtms_started', stream: this.#identity, eventTs, serverUrls: previous.serverUrls, payloadNesting: this.#payloadNesting });
    this.#logChaos('staleStarted', true, `event_ts ${latest.eventTs - eventTs} ms older, ${previous === latest ? 'current' : 'previous'} server_urls`);
    return this.#postWebhook(JSON.stringify(body)).catch(() => undefined);
  }

  /**
   * POSTs `*.rtms_interrupted` dated `eventTsOffsetMs` off the simulator's clock, leaving the
   * sockets as they are: Zoom saw a signaling break the client has not noticed (a half-open
   * connection). The client should rejoin.
   */
  async reportInterruption(options: { eventTsOffsetMs?: number } = {}): Promise<WebhookResponse> {
    if (this.#state === 'ended') throw this.#endedError();
    const eventTs = this.#host.now() + (options.eventTsOffsetMs ?? 0);
    const body = lifecycleWebhookBody({ kind: 'rtms_interrupted', stream: this.#identity, eventTs, payloadNesting: this.#payloadNesting });
    return this.#postWebhook(JSON.stringify(body));
  }

  /**
   * Media timestamp trouble: from the next audio packet on, every timestamp is `deltaMs` off
   * (a server clock change); with `once`, only the next audio packet is (one misdated packet).
   * False before media started.
   */
  jumpTimestamps(deltaMs: number, options: { once?: boolean } = {}): boolean {
    const producer = this.#producer;
    producer?.stepClock(deltaMs, options);
    this.#logChaos('timestampJump', producer !== undefined, `${deltaMs > 0 ? '+' : ''}${deltaMs} ms${options.once ? ', one audio packet' : ''}`);
    return producer !== undefined;
  }

  #logChaos(kind: ChaosKind, applied: boolean, detail: string): void {
    const at = this.#host.now();
    this.#chaosLog.push({
      scheduled: this.#currentDraw?.index,
      kind,
      at,
      sinceFirstReadyMs: this.#firstReadyAt === undefined ? 0 : at - this.#firstReadyAt,
      applied,
      detail,
    });
  }

  /** Every open socket of the stream, signaling first. */
  #openSockets(): PeerSocket[] {
    const sockets = [...this.#media].filter((socket) => socket.isOpen);
    if (this.#signaling?.isOpen === true) sockets.unshift(this.#signaling);
    return sockets;
  }

  #chaosSocket(channel: ChaosChannel): PeerSocket | undefined {
    if (channel === 'signaling') return this.#signaling?.isOpen === true ? this.#signaling : undefined;
    return this.#socketFor(channel);
  }

  #sendOversizedPicture(socket: PeerSocket, frame: PictureFrame, size: number): void {
    const data = size > frame.data.length ? Buffer.concat([frame.data, Buffer.alloc(size - frame.data.length)]) : frame.data;
    const text = JSON.stringify(pictureMessage({ ...frame, data }));
    const limit = this.#host.chaos?.clientMaxPayloadBytes ?? 32 * 1024 * 1024;
    if (Buffer.byteLength(text) > limit) {
      // The client will close this socket (1009) without reading the frame or anything after it.
      socket.sendText(text, () => this.#record.addOversizedLost(frame.kind));
      socket.doom();
      return;
    }
    socket.sendText(text, () => {
      this.#record.addOversized(frame.kind);
      if (frame.kind === 'video') this.#record.addVideo(data);
      else this.#record.addDeskshare(data);
    });
  }

  /** Stall ends, the late webhook, and the next scheduled injection. */
  #chaosTick(now: number): void {
    for (const socket of this.#openSockets()) {
      const until = socket.stalledUntil;
      if (until !== undefined && now >= until) {
        socket.resume(now, this.#host.settings.keepAliveIntervalMs);
        this.#flush();
      }
    }
    const late = this.#lateInterrupted;
    if (late?.postAt !== undefined && now >= late.postAt) {
      this.#lateInterrupted = undefined;
      void this.#postWebhook(late.body).catch(() => undefined);
    }
    const plan = this.#chaosPlan;
    if (plan === undefined || !this.#chaosIdle()) return;
    const draw = plan.due(now);
    if (draw === undefined) return;
    plan.done(now);
    this.#applyChaos(draw);
  }

  /** Whole, and no earlier injection still in effect. */
  #chaosIdle(): boolean {
    if (this.#state !== 'connected' || !this.#whole || this.#lateInterrupted !== undefined || this.#oversizedPending.size > 0) return false;
    return this.#openSockets().every((socket) => !socket.isStalled && socket.keepAlivesSuppressedUntil === undefined);
  }

  #applyChaos(draw: ChaosDraw): void {
    const mediaKinds = this.scopes.filter((kind) => this.#socketFor(kind) !== undefined);
    this.#currentDraw = draw;
    try {
      this.#injectDraw(draw, mediaKinds);
    } finally {
      this.#currentDraw = undefined;
    }
    this.#logger.info({ chaos: draw.kind, index: draw.index }, 'chaos injected');
  }

  #injectDraw(draw: ChaosDraw, mediaKinds: readonly MediaKind[]): void {
    switch (draw.kind) {
      case 'killSignaling':
        this.#logChaos('killSignaling', true, 'signaling and media sockets terminated, rtms_interrupted now');
        void this.interrupt();
        break;
      case 'killMedia': {
        const kind = choose(mediaKinds, draw.pick);
        this.#logChaos('killMedia', kind !== undefined, `socket carrying ${kind ?? 'nothing'}`);
        if (kind !== undefined) void this.dropMedia(kind);
        break;
      }
      case 'stall':
        this.stall(draw.durationMs, choose<ChaosChannel>(['signaling', ...mediaKinds], draw.pick) ?? 'signaling');
        break;
      case 'suppressKeepAlives':
        this.suppressKeepAlives(draw.durationMs);
        break;
      case 'malformedJson':
      case 'truncatedJson':
      case 'invalidFields': {
        const kind = choose(mediaKinds, draw.pick);
        if (kind === undefined) {
          this.#logChaos(draw.kind, false, 'no media socket');
          break;
        }
        const fieldVariants = malformedVariantsFor(kind).filter((variant) => variant !== 'invalidJson' && variant !== 'truncatedJson');
        const variant: MalformedVariant =
          draw.kind === 'malformedJson' ? 'invalidJson' : draw.kind === 'truncatedJson' ? 'truncatedJson' : (choose(fieldVariants, draw.pick2) ?? 'noContent');
        void this.sendMalformed(kind, variant, draw.contentSeed);
        break;
      }
      case 'unknownMessage':
        void this.sendUnknown(choose<ChaosChannel>(['signaling', ...mediaKinds], draw.pick) ?? 'signaling', draw.contentSeed);
        break;
      case 'oversizedFrame': {
        const pictureKinds = mediaKinds.filter((kind): kind is 'video' | 'deskshare' => kind === 'video' || kind === 'deskshare');
        const kind = choose(pictureKinds, draw.pick);
        if (kind === undefined) this.#logChaos('oversizedFrame', false, 'no video or deskshare socket');
        else this.sendOversized(kind);
        break;
      }
      case 'duplicateWebhook':
        void this.resendLastWebhook();
        break;
      case 'lateInterrupted':
        this.#logChaos('lateInterrupted', true, `signaling and media sockets terminated, rtms_interrupted ${draw.durationMs} ms after the rejoin`);
        void this.interrupt({ webhook: 'afterRejoin', delayMs: draw.durationMs });
        break;
      case 'staleStarted':
        void this.sendStaleStart();
        break;
      case 'failover':
        this.#logChaos('failover', true, `moved to generation ${this.#generation + 1}`);
        void this.failover().catch(() => undefined);
        break;
      case 'timestampJump': {
        const [deltaMs, once] = choose<[number, boolean]>([[-3000, false], [-30_000, false], [30_000, false], [10 * 3600_000, true]], draw.pick) ?? [-3000, false];
        this.jumpTimestamps(deltaMs, { once });
        break;
      }
    }
  }

  // ---------------------------------------------------------------------------------------
  // Handshakes (called by the simulator once the first message named this stream)

  /** Handles a SIGNALING_HAND_SHAKE_REQ for this stream; the socket is adopted or refused and closed. */
  acceptSignaling(socket: PeerSocket, message: Record<string, unknown>): void {
    const refusal = this.#verifyHandshake(socket, message);
    if (refusal !== undefined) return this.#refuse(socket, refusal.statusCode, refusal.reason);
    const current = this.#signaling;
    if (current !== undefined && !current.isOpen) {
      // The client already ended that connection (its close frame or FIN is in; the 'close'
      // event is a few round trips away): this handshake is a rejoin, not a second connection.
      this.#onSignalingClosed(current, false);
    }
    if (this.#signaling !== undefined) {
      this.connections.signalingRejectedDuplicate += 1;
      return this.#refuse(socket, StatusCode.DUPLICATE_SIGNAL_REQUEST, 'duplicate signal request');
    }
    const now = this.#host.now();
    this.#transition('connected');
    this.#signaling = socket;
    this.#ready = false;
    this.#subscribed = new Set();
    if (this.connections.signalingAccepted === 0) this.#bufferStartupAudio = message['buffer_data'] !== false;
    this.connections.signalingAccepted += 1;
    socket.onMessage = (inbound) => this.#onSignalingMessage(socket, inbound);
    socket.onClose = (byServer) => this.#onSignalingClosed(socket, byServer);
    socket.startKeepAlive(now, this.#host.settings.keepAliveIntervalMs);

    const urls: Record<string, string> = {};
    if (this.#offerSplitMediaUrls) for (const kind of this.scopes) urls[kind] = this.#host.mediaUrl(this.#generation, kind);
    urls['all'] = this.#host.mediaUrl(this.#generation, 'all');
    socket.send(signalingHandshakeResponse(StatusCode.OK, '', urls));
    // Media time starts at the first join; later joins keep the original timeline.
    this.#producer ??= new MediaProducer({
      product: this.product,
      participants: this.participants,
      seed: this.#seed,
      mediaStartAt: now,
      backlog: this.#backlog,
    });
    this.#sendEvent({ event_type: EventType.FIRST_PACKET_TIMESTAMP, timestamp: this.#producer.mediaStartAt });
    this.#logger.info({ joins: this.connections.signalingAccepted }, 'signaling connected');
  }

  /** Handles a DATA_HAND_SHAKE_REQ for this stream; the socket is adopted or refused and closed. */
  acceptMedia(socket: PeerSocket, message: Record<string, unknown>): void {
    const hold = this.#mediaHandshakeHold;
    if (hold !== undefined) {
      this.#mediaHandshakeHold = undefined;
      hold.onArrival();
      if (hold.delayMs === Number.POSITIVE_INFINITY) return;
      setTimeout(() => {
        if (socket.isOpen) this.acceptMedia(socket, message);
      }, hold.delayMs);
      return;
    }
    const refusal = this.#verifyHandshake(socket, message);
    if (refusal !== undefined) return this.#refuse(socket, refusal.statusCode, refusal.reason);
    if (this.#state !== 'connected' || this.#producer === undefined) {
      return this.#refuse(socket, StatusCode.INVALID_RTMS_STREAM_ID, 'no signaling connection for this stream');
    }
    const connectedKinds = new Set<MediaKind>();
    let hasAllSocket = false;
    // Sockets being torn down do not count: a fast rejoin must not look like a duplicate.
    for (const open of this.#media) {
      for (const kind of open.kinds) connectedKinds.add(kind);
      hasAllSocket ||= open.all;
    }
    const negotiation = negotiateMedia({
      mediaType: message['media_type'],
      mediaParams: message['media_params'],
      scopes: this.scopes,
      connectedKinds,
      hasAllSocket,
    });
    if (!negotiation.ok) return this.#refuse(socket, negotiation.statusCode, negotiation.reason);

    const now = this.#host.now();
    socket.kinds = negotiation.kinds;
    socket.all = negotiation.all;
    this.#media.add(socket);
    this.connections.mediaAccepted += 1;
    socket.onMessage = (inbound) => this.#onMediaMessage(socket, inbound);
    socket.onClose = (byServer) => this.#onMediaClosed(socket, byServer);
    socket.startKeepAlive(now, this.#host.settings.keepAliveIntervalMs);
    this.#producer.applyParams(negotiation.params, now - this.#producer.mediaStartAt);
    socket.send(dataHandshakeResponse(StatusCode.OK, '', negotiation.params));
    for (const kind of negotiation.kinds) this.#lostKinds.delete(kind);
    this.#logger.info({ kinds: negotiation.kinds, all: negotiation.all }, 'media connected');
    this.#checkWhole();
    this.#flush();
  }

  /** Records a refused handshake for this stream (also used by the simulator for its own checks). */
  recordRejection(channel: Channel, statusCode: number, reason: string): void {
    this.connections.handshakeRejections.push({ channel, statusCode, reason });
  }

  #verifyHandshake(socket: PeerSocket, message: Record<string, unknown>): { statusCode: number; reason: string } | undefined {
    if (this.#state === 'ended') return { statusCode: StatusCode.INVALID_RTMS_STREAM_ID, reason: 'the stream has ended' };
    if (socket.generation !== this.#generation) {
      return { statusCode: StatusCode.INVALID_RTMS_STREAM_ID, reason: 'the stream is not served by this server (failed over)' };
    }
    const presented = ENTITY_KEYS.map((key) => message[key]).filter((value): value is string => typeof value === 'string');
    if (presented.length === 0) {
      return { statusCode: StatusCode.INVALID_PAYLOAD, reason: `missing entity id (${ENTITY_KEYS.join(' | ')})` };
    }
    const signature = message['signature'];
    const expected = handshakeSignature({
      clientId: this.#host.credentials.clientId,
      clientSecret: this.#host.credentials.clientSecret,
      entityId: this.entityId,
      rtmsStreamId: this.rtmsStreamId,
    });
    // The signature binds the entity id, so a wrong id is a signature failure too.
    if (!presented.includes(this.entityId) || typeof signature !== 'string' || !safeEqual(expected, signature.toLowerCase())) {
      return { statusCode: StatusCode.INVALID_SIGNATURE, reason: 'invalid signature' };
    }
    return undefined;
  }

  #refuse(socket: PeerSocket, statusCode: number, reason: string): void {
    this.recordRejection(socket.channel, statusCode, reason);
    this.#logger.info({ channel: socket.channel, statusCode, status: nameOf(STATUS_CODE_NAMES, statusCode) }, 'handshake refused');
    refuseHandshake(socket, statusCode, reason);
  }

  // ---------------------------------------------------------------------------------------
  // Inbound messages

  #onSignalingMessage(socket: PeerSocket, message: InboundMessage): void {
    if (socket !== this.#signaling) return;
    const type = message?.['msg_type'];
    switch (type) {
      case MessageType.KEEP_ALIVE_RESP:
        socket.keepAliveAnswered();
        return;
      case MessageType.CLIENT_READY_ACK:
        return this.#onReadyAck(message as Record<string, unknown>);
      case MessageType.EVENT_SUBSCRIPTION:
        return this.#onSubscription(message as Record<string, unknown>);
      case MessageType.SESSION_STATE_REQ: {
        const sessionId = message?.['rtms_session_id'];
        const known = sessionId === undefined || sessionId === this.#rtmsSessionId;
        socket.send({
          msg_type: MessageType.SESSION_STATE_RESP,
          rtms_session_id: typeof sessionId === 'string' ? sessionId : this.#rtmsSessionId,
          state: !known ? RtmsSessionState.INACTIVE : this.#ready ? RtmsSessionState.STARTED : RtmsSessionState.INITIALIZE,
          ...(known ? {} : { status_code: 40, reason: 'unknown rtms_session_id' }),
          timestamp: this.#host.now(),
        });
        return;
      }
      case MessageType.STREAM_STATE_REQ:
        socket.send({
          msg_type: MessageType.STREAM_STATE_RESP,
          rtms_stream_id: this.rtmsStreamId,
          state: this.#lostKinds.size > 0 ? RtmsStreamState.INTERRUPTED : RtmsStreamState.ACTIVE,
          timestamp: this.#host.now(),
        });
        return;
      case MessageType.STREAM_CLOSE_REQ:
        socket.send({
          msg_type: MessageType.STREAM_CLOSE_RESP,
          rtms_stream_id: this.rtmsStreamId,
          status_code: StatusCode.OK,
          reason: 'OK',
          timestamp: this.#host.now(),
        });
        this.#logger.info('client requested stream close');
        void this.#finish({
          stopReason: StopReason.RECEIVER_REQUEST_CLOSE,
          cause: 'closeRequest',
          notifyClient: true,
          webhook: true,
          graceful: true,
        });
        return;
      case MessageType.VIDEO_SUBSCRIPTION_REQ:
        return this.#onVideoSubscription(socket, message as Record<string, unknown>);
      case MessageType.SIGNALING_HAND_SHAKE_REQ:
        // A second handshake on an established socket: same answer as a second socket.
        this.connections.signalingRejectedDuplicate += 1;
        this.recordRejection('signaling', StatusCode.DUPLICATE_SIGNAL_REQUEST, 'duplicate signal request');
        socket.send(signalingHandshakeResponse(StatusCode.DUPLICATE_SIGNAL_REQUEST, 'duplicate signal request'));
        return;
      default:
        this.#unknownMessage('signaling', type);
    }
  }

  #onMediaMessage(socket: PeerSocket, message: InboundMessage): void {
    const type = message?.['msg_type'];
    if (type === MessageType.KEEP_ALIVE_RESP) {
      socket.keepAliveAnswered();
    } else if (type === MessageType.CLIENT_READY_ACK) {
      // Belongs on signaling (§2.4 (7)); accepted here too, leniently.
      this.#onReadyAck(message as Record<string, unknown>);
    } else {
      this.#unknownMessage('media', type);
    }
  }

  #unknownMessage(channel: Channel, type: unknown): void {
    this.connections.unknownMessages += 1;
    this.#logger.warn({ channel, msgType: typeof type === 'number' ? type : String(type) }, 'ignored unexpected message');
  }

  #onReadyAck(message: Record<string, unknown>): void {
    const streamId = message['rtms_stream_id'];
    if (streamId !== undefined && streamId !== this.rtmsStreamId) {
      this.#unknownMessage('signaling', MessageType.CLIENT_READY_ACK);
      return;
    }
    this.connections.readyAcks += 1;
    if (!this.#ready && this.#state === 'connected') {
      const now = this.#host.now();
      this.#ready = true;
      if (this.#firstReadyAt === undefined) {
        this.#firstReadyAt = now;
        // buffer_data: false drops what was produced before the first join completed.
        if (!this.#bufferStartupAudio) this.#backlog.clear();
      }
      this.#sendSignaling(sessionStateUpdate(this.#rtmsSessionId, RtmsSessionState.STARTED, 0, now));
    }
    this.#checkWhole();
    this.#flush();
  }

  #onSubscription(message: Record<string, unknown>): void {
    const events = message['events'];
    if (!Array.isArray(events)) {
      this.#unknownMessage('signaling', MessageType.EVENT_SUBSCRIPTION);
      return;
    }
    const added: number[] = [];
    for (const entry of events) {
      const type = (entry as Record<string, unknown> | null)?.['event_type'];
      if (typeof type !== 'number') continue;
      if ((entry as Record<string, unknown>)['subscribe'] === false) {
        this.#subscribed.delete(type);
      } else if (!this.#subscribed.has(type)) {
        this.#subscribed.add(type);
        added.push(type);
      }
    }
    this.#sendSnapshot(added);
  }

  /** On subscription, tell the client the current state of what it just subscribed to. */
  #sendSnapshot(types: readonly number[]): void {
    const now = this.#host.now();
    if (this.product === 'contact_center') {
      for (const type of types) {
        const party = type === ZccEvent.USER_ANSWERED ? this.participants[0] : type === ZccEvent.CONSUMER_ANSWERED ? this.participants[1] : undefined;
        if (party !== undefined) this.#sendZccEvent(type, party, now);
      }
      return;
    }
    for (const type of types) {
      switch (type) {
        case EventType.PARTICIPANT_JOIN:
          this.#sendEvent({
            event_type: EventType.PARTICIPANT_JOIN,
            timestamp: now,
            participants: this.participants.map((p) => ({ user_id: p.userId, user_name: p.userName })),
          });
          break;
        case EventType.ACTIVE_SPEAKER_CHANGE: {
          const speaker = this.#producer?.activeSpeaker;
          if (speaker !== undefined) {
            this.#sendEvent({ event_type: EventType.ACTIVE_SPEAKER_CHANGE, timestamp: now, user_id: speaker.userId, user_name: speaker.userName });
          }
          break;
        }
        case EventType.PARTICIPANT_VIDEO_ON: {
          const cameras = this.#producer?.camerasOn() ?? this.participants;
          if (this.scopes.includes('video') && cameras.length > 0) {
            this.#sendEvent({ event_type: EventType.PARTICIPANT_VIDEO_ON, timestamp: now, participants: cameras.map((p) => ({ user_id: p.userId })) });
          }
          break;
        }
        case EventType.SHARING_START: {
          const sharer = this.participants[0];
          if (this.scopes.includes('deskshare') && sharer !== undefined) {
            this.#sendEvent({ event_type: EventType.SHARING_START, timestamp: now, user_id: sharer.userId, user_name: sharer.userName });
          }
          break;
        }
      }
    }
  }

  #onVideoSubscription(socket: PeerSocket, message: Record<string, unknown>): void {
    const userId = message['user_id'];
    const subscribe = message['subscribe'] !== false;
    const answer = (statusCode: number, reason: string): void =>
      socket.send({ msg_type: MessageType.VIDEO_SUBSCRIPTION_RESP, user_id: userId, status_code: statusCode, reason, timestamp: this.#host.now() });
    const participant = this.participants.find((p) => p.userId === Number(userId));
    if (this.#producer?.params.video?.data_opt !== 4) return answer(29, 'video data_opt must be 4 (individual stream)');
    if (participant === undefined) return answer(StatusCode.INVALID_PAYLOAD, 'unknown user_id');
    if (subscribe && this.#producer.videoSubscription === participant) return answer(44, 'duplicate video subscription');
    this.#producer.subscribeVideo(subscribe ? participant : undefined);
    answer(StatusCode.OK, '');
  }

  // ---------------------------------------------------------------------------------------
  // Connection loss

  #onSignalingClosed(socket: PeerSocket, byServer: boolean): void {
    if (socket !== this.#signaling) return;
    this.#signaling = undefined;
    if (!byServer && this.#state === 'connected') {
      this.#logger.info('client dropped the signaling socket');
      void this.#interruptSignaling('clientClosed');
    }
  }

  #onMediaClosed(socket: PeerSocket, byServer: boolean): void {
    const wasActive = this.#media.delete(socket);
    this.#closing.delete(socket);
    // Whatever this socket never wrote goes back in front of the backlog, in order.
    this.#backlog.requeueFront(socket.takeUndelivered() as BacklogItem[]);
    if (wasActive && !byServer && this.#state === 'connected') {
      this.#logger.info({ kinds: socket.kinds }, 'client dropped a media socket');
      this.#loseMedia([socket], 'clientClosed');
    }
    this.#flush();
  }

  /** Terminates every socket, remembering which media kinds must come back. */
  #dropAllSockets(): void {
    for (const socket of this.#media) {
      for (const kind of socket.kinds) this.#lostKinds.add(kind);
      this.#closing.add(socket);
      socket.terminate();
    }
    this.#media.clear();
    const signaling = this.#signaling;
    this.#signaling = undefined;
    signaling?.terminate();
    this.#ready = false;
    this.#whole = false;
  }

  async #interruptSignaling(cause: 'api' | 'keepAlive' | 'clientClosed', options: InterruptOptions = {}): Promise<void> {
    if (this.#state !== 'connected') return;
    this.#dropAllSockets();
    this.#transition('interrupted');
    this.connections.interruptions += 1;
    if (cause === 'keepAlive') {
      this.#armDeadline(this.#host.settings.reconnectGraceMs, StopReason.KEEP_ALIVE_TIMEOUT, 'keepAliveTimeout');
    } else {
      this.#armDeadline(this.#host.settings.reconnectGraceMs, StopReason.AWAIT_RECONNECTION_TIMEOUT, 'graceExpired');
    }
    this.#logger.info({ cause }, 'stream interrupted');
    const body = lifecycleWebhookBody({ kind: 'rtms_interrupted', stream: this.#identity, eventTs: this.#host.now(), payloadNesting: this.#payloadNesting });
    const webhook = options.webhook ?? 'now';
    if (webhook === 'afterRejoin') {
      this.#lateInterrupted = { body: JSON.stringify(body), delayMs: options.delayMs ?? 0, afterReady: this.#readyCount, postAt: undefined };
      return;
    }
    if (webhook === 'never') return;
    await this.#postWebhook(JSON.stringify(body)).catch(() => undefined);
  }

  #loseMedia(sockets: readonly PeerSocket[], cause: 'api' | 'keepAlive' | 'clientClosed'): void {
    for (const socket of sockets) {
      if (!this.#media.delete(socket)) continue;
      for (const kind of socket.kinds) this.#lostKinds.add(kind);
      if (socket.isOpen) {
        this.#closing.add(socket);
        socket.terminate();
      }
    }
    this.#whole = false;
    this.connections.mediaInterruptions += 1;
    const now = this.#host.now();
    this.#sendEvent({ event_type: EventType.MEDIA_CONNECTION_INTERRUPTED, timestamp: now });
    this.#sendSignaling(streamStateUpdate(RtmsStreamState.INTERRUPTED, StopReason.DATA_CONNECTION_INTERRUPTED, now));
    if (cause === 'keepAlive') {
      this.#armDeadline(this.#host.settings.mediaReconnectGraceMs, StopReason.KEEP_ALIVE_TIMEOUT, 'keepAliveTimeout');
    } else {
      this.#armDeadline(this.#host.settings.mediaReconnectGraceMs, StopReason.AWAIT_RECONNECTION_TIMEOUT, 'graceExpired');
    }
    this.#logger.info({ cause, lost: [...this.#lostKinds] }, 'media interrupted');
  }

  /** Arms the rejoin deadline; an earlier running deadline (or the join deadline) is kept. */
  #armDeadline(graceMs: number, stopReason: number, cause: StreamEndCause): void {
    if (this.#deadline !== undefined && this.#deadline.cause !== 'joinTimeout') return;
    const at = this.#host.now() + graceMs;
    // Before the first complete join the join deadline stays in charge if it is sooner.
    if (this.#deadline !== undefined && this.#deadline.at <= at) return;
    this.#deadline = { at, stopReason, cause };
  }

  #checkWhole(): void {
    const whole = this.#state === 'connected' && this.#ready && this.#media.size > 0 && this.#lostKinds.size === 0;
    if (!whole) {
      this.#whole = false;
      return;
    }
    if (this.#whole) return;
    this.#whole = true;
    this.#deadline = undefined;
    this.#readyCount += 1;
    this.#logger.info({ readyCount: this.#readyCount }, 'stream ready');
    const now = this.#host.now();
    this.#chaosPlan?.start(now);
    const late = this.#lateInterrupted;
    if (late !== undefined && late.postAt === undefined && this.#readyCount > late.afterReady) late.postAt = now + late.delayMs;
    for (let i = this.#readyWaiters.length - 1; i >= 0; i -= 1) {
      const waiter = this.#readyWaiters[i];
      if (waiter !== undefined && waiter.count <= this.#readyCount) {
        this.#readyWaiters.splice(i, 1);
        waiter.deferred.resolve();
      }
    }
  }

  // ---------------------------------------------------------------------------------------
  // Media

  /** Called by the shared scheduler. */
  tick(now: number): void {
    if (this.#state === 'ended') return;
    if (this.#deadline !== undefined && now >= this.#deadline.at) {
      const { stopReason, cause } = this.#deadline;
      this.#logger.info({ cause, stopReason }, 'deadline expired');
      void this.#finish({ stopReason, cause, notifyClient: true, webhook: true, graceful: true });
      return;
    }
    this.#keepAlive(now);
    this.#chaosTick(now);
    const producer = this.#producer;
    if (producer === undefined) return;
    if (this.#durationMs !== undefined && this.#firstReadyAt !== undefined && now - this.#firstReadyAt >= this.#durationMs) {
      // Media up to the end instant goes out before the goodbye.
      producer.produce(this.#firstReadyAt + this.#durationMs - producer.mediaStartAt, this.#outlet);
      this.#flush();
      void this.#finish({ stopReason: StopReason.MEETING_ENDED, cause: 'stopped', notifyClient: true, webhook: true, graceful: true });
      return;
    }
    producer.produce(now - producer.mediaStartAt, this.#outlet);
    this.#flush();
  }

  #keepAlive(now: number): void {
    const { keepAliveIntervalMs, keepAliveMissLimit } = this.#host.settings;
    const signaling = this.#signaling;
    if (signaling !== undefined) {
      const outcome = signaling.keepAlive(now, keepAliveIntervalMs, keepAliveMissLimit);
      if (outcome === 'missed' || outcome === 'timeout') this.connections.keepAliveMisses += 1;
      if (outcome === 'timeout') {
        this.connections.keepAliveTimeouts.push({ channel: 'signaling', kinds: [] });
        this.#logger.info('signaling keep-alive timeout');
        void this.#interruptSignaling('keepAlive');
        return;
      }
    }
    for (const socket of [...this.#media]) {
      const outcome = socket.keepAlive(now, keepAliveIntervalMs, keepAliveMissLimit);
      if (outcome === 'missed' || outcome === 'timeout') this.connections.keepAliveMisses += 1;
      if (outcome === 'timeout') {
        this.connections.keepAliveTimeouts.push({ channel: 'media', kinds: socket.kinds });
        this.#logger.info({ kinds: socket.kinds }, 'media keep-alive timeout');
        this.#loseMedia([socket], 'keepAlive');
      }
    }
  }

  /** The socket carrying a kind, if one is open. */
  #socketFor(kind: MediaKind): PeerSocket | undefined {
    for (const socket of this.#media) if (socket.kinds.includes(kind) && socket.isOpen) return socket;
    return undefined;
  }

  /** A socket of this kind is still being torn down: sending now could overtake its undelivered media. */
  #closingFor(kind: MediaKind): boolean {
    for (const socket of this.#closing) if (socket.kinds.includes(kind)) return true;
    return false;
  }

  readonly #outlet: ProducerOutlet = {
    pictureOutlet: (kind) => {
      const socket = this.#ready ? this.#socketFor(kind) : undefined;
      if (socket === undefined) return 'closed';
      return socket.isStalled || socket.bufferedAmount >= this.#host.settings.socketHighWaterBytes ? 'congested' : 'open';
    },
    sendPicture: (frame: PictureFrame) => {
      const socket = this.#socketFor(frame.kind);
      if (socket === undefined) return;
      const oversized = this.#oversizedPending.get(frame.kind);
      if (oversized !== undefined) {
        this.#oversizedPending.delete(frame.kind);
        this.#sendOversizedPicture(socket, frame, oversized);
        return;
      }
      socket.send(pictureMessage(frame), () =>
        frame.kind === 'video' ? this.#record.addVideo(frame.data) : this.#record.addDeskshare(frame.data),
      );
    },
    pictureDropped: (kind) => {
      if (kind === 'video') this.#droppedPictures.videoFrames += 1;
      else this.#droppedPictures.deskshareFrames += 1;
    },
    activeSpeakerChanged: (participant, timestamp) => {
      if (this.product === 'contact_center' || !this.#subscribed.has(EventType.ACTIVE_SPEAKER_CHANGE)) return;
      this.#sendEvent({ event_type: EventType.ACTIVE_SPEAKER_CHANGE, timestamp, user_id: participant.userId, user_name: participant.userName });
    },
    cameraChanged: (participant, on, timestamp) => {
      const type = on ? EventType.PARTICIPANT_VIDEO_ON : EventType.PARTICIPANT_VIDEO_OFF;
      if (this.product === 'contact_center' || !this.scopes.includes('video') || !this.#subscribed.has(type)) return;
      this.#sendEvent({ event_type: type, timestamp, participants: [{ user_id: participant.userId }] });
    },
  };

  /** Sends buffered audio, transcripts and chat to their sockets, oldest first, while the sockets keep up. */
  #flush(): void {
    if (!this.#ready || this.#state !== 'connected') return;
    for (const kind of ['audio', 'transcript', 'chat'] as const) {
      if (this.#backlog.size(kind) === 0 || this.#closingFor(kind)) continue;
      const socket = this.#socketFor(kind);
      if (socket === undefined) continue;
      const highWater = this.#host.settings.socketHighWaterBytes;
      while (socket.bufferedAmount < highWater) {
        const item = this.#backlog.shift(kind);
        if (item === undefined) break;
        if (!socket.sendTracked(mediaDataMessage(item, this.product), item, (delivered) => this.#recordDelivered(delivered as BacklogItem))) {
          this.#backlog.unshift(item);
          break;
        }
      }
    }
  }

  #recordDelivered(item: BacklogItem): void {
    switch (item.kind) {
      case 'audio':
        this.#record.addAudio(item.participant === undefined ? '0' : item.participant.key, item.data);
        break;
      case 'transcript':
        this.#record.addTranscript({
          userId: item.participant.key,
          userName: item.participant.userName,
          text: item.text,
          timestamp: item.startTime,
          startTime: item.startTime,
          endTime: item.endTime,
          language: item.language,
        });
        break;
      case 'chat':
        this.#record.addChat({ userId: item.participant.key, userName: item.participant.userName, text: item.text, timestamp: item.timestamp });
        break;
    }
  }

  // ---------------------------------------------------------------------------------------
  // Signaling output, webhooks, ending

  #sendSignaling(message: object): void {
    const signaling = this.#signaling;
    if (signaling?.isOpen === true) signaling.send(message);
  }

  #sendEvent(event: Record<string, unknown>): void {
    this.#sendSignaling(eventUpdate(event));
  }

  #sendZccEvent(type: number, party: SimParticipant, now: number): void {
    this.#sendSignaling(zccEvent(type, party, this.#identity.accountId, now));
  }

  async #postWebhook(rawBody: string): Promise<WebhookResponse> {
    const event = (JSON.parse(rawBody) as { event?: unknown }).event;
    const name = typeof event === 'string' ? event : 'unknown';
    if (name.endsWith('.rtms_started') || name.endsWith('.rtms_interrupted')) this.#lastLifecycleBody = rawBody;
    try {
      const response = await this.#host.postWebhook(rawBody);
      this.webhooks.push({ event: name, status: response.status, error: undefined, at: this.#host.now() });
      return response;
    } catch (error) {
      this.webhooks.push({ event: name, status: undefined, error: error instanceof Error ? error.message : String(error), at: this.#host.now() });
      this.#logger.warn({ event: name, err: error }, 'webhook not delivered');
      throw error;
    }
  }

  #transition(to: SimulatedStreamState): void {
    if (this.#state === to) return;
    if (!TRANSITIONS[this.#state].includes(to)) throw new Error(`simulated stream: illegal transition ${this.#state} -> ${to}`);
    this.#logger.debug({ from: this.#state, to }, 'stream state');
    this.#state = to;
  }

  #endedError(): SimulatorError {
    return new SimulatorError('STREAM_ENDED', `stream ${this.rtmsStreamId} ended (${this.#end?.cause ?? 'ended'})`);
  }

  async #finish(options: { stopReason: number; cause: StreamEndCause; notifyClient: boolean; webhook: boolean; graceful: boolean }): Promise<StreamEnd> {
    if (this.#state === 'ended') return this.#ended.promise;
    const now = this.#host.now();
    const end: StreamEnd = { stopReason: options.stopReason, cause: options.cause, at: now };
    this.#end = end;
    this.#deadline = undefined;
    this.#host.unschedule(this);
    try {
      // Whatever a chaos stall held back goes out before the goodbye.
      for (const socket of this.#openSockets()) socket.resume(now, this.#host.settings.keepAliveIntervalMs);
      this.#lateInterrupted = undefined;
      if (options.notifyClient && this.#signaling?.isOpen === true) this.#sayGoodbye(options.stopReason, now);
      this.#transition('ended');
      const sockets = [...this.#media, ...this.#closing];
      if (this.#signaling !== undefined) sockets.push(this.#signaling);
      const closed = sockets.map((socket) => {
        if (options.graceful) return socket.close(1000, 'stream ended');
        socket.terminate();
        return socket.whenClosed();
      });
      this.#media.clear();
      this.#signaling = undefined;
      this.#ready = false;
      for (const waiter of this.#readyWaiters.splice(0)) {
        waiter.deferred.promise.catch(() => {});
        waiter.deferred.reject(this.#endedError());
      }
      this.#logger.info({ cause: options.cause, stopReason: options.stopReason }, 'stream ended');
      const webhook = options.webhook
        ? this.#postWebhook(
            JSON.stringify(
              lifecycleWebhookBody({
                kind: 'rtms_stopped',
                stream: this.#identity,
                eventTs: now,
                stopReason: options.stopReason,
                payloadNesting: this.#payloadNesting,
              }),
            ),
          )
        : Promise.resolve();
      await Promise.allSettled([...closed, webhook]);
    } catch (error) {
      this.#logger.error({ err: error }, 'error while ending the stream');
    } finally {
      this.#backlog.clear();
      this.#ended.resolve(end);
    }
    return end;
  }

  /** Final signaling messages: participants leave (meeting ended), then stream and session states. */
  #sayGoodbye(stopReason: number, now: number): void {
    if (stopReason === StopReason.MEETING_ENDED) {
      if (this.product === 'contact_center') {
        const [agent, customer] = this.participants;
        if (customer !== undefined && this.#subscribed.has(ZccEvent.CONSUMER_END)) this.#sendZccEvent(ZccEvent.CONSUMER_END, customer, now);
        if (agent !== undefined && this.#subscribed.has(ZccEvent.USER_END)) this.#sendZccEvent(ZccEvent.USER_END, agent, now);
      } else if (this.#subscribed.has(EventType.PARTICIPANT_LEAVE)) {
        this.#sendEvent({ event_type: EventType.PARTICIPANT_LEAVE, timestamp: now, participants: this.participants.map((p) => ({ user_id: p.userId })) });
      }
    }
    for (const message of terminationMessages(this.#rtmsSessionId, stopReason, now)) this.#sendSignaling(message);
  }
}

/** Answers a refused handshake with its status code (msg 2 or 4 by channel), then closes the socket. */
export function refuseHandshake(socket: PeerSocket, statusCode: number, reason: string): void {
  socket.send(socket.channel === 'signaling' ? signalingHandshakeResponse(statusCode, reason) : dataHandshakeResponse(statusCode, reason));
  void socket.close(1000, nameOf(STATUS_CODE_NAMES, statusCode).slice(0, 120));
}
