import type { MalformedVariant } from './chaosMessages.ts';
import { type EntityIdKey, type MediaKind, type Product, StopReason } from './connectorShared.ts';
import type { BacklogDrops, BacklogKind } from './mediaBacklog.ts';
import type { SimParticipant } from './participants.ts';
import type { Channel, PeerSocket } from './peerSocket.ts';
import type { SentMedia } from './sentRecord.ts';
import {
  jumpTimestamps,
  reportInterruption,
  resendLastWebhook,
  sendMalformed,
  sendOversized,
  sendRaw,
  sendStaleStart,
  sendUnknown,
  stall,
  stallReads,
  suppressKeepAlives,
} from './streamChaos.ts';
import { chaosSummary } from './streamChaosSchedule.ts';
import { dropMedia, interrupt } from './streamConnectionLoss.ts';
import { deferred, endedError, StreamCore } from './streamCore.ts';
import { acceptMedia, acceptSignaling, recordRejection } from './streamHandshakes.ts';
import { announce, failover, finish, resendStart } from './streamLifecycle.ts';
import { tick } from './streamMedia.ts';
import type {
  ChaosChannel,
  ConnectionStats,
  InterruptOptions,
  SimulatedStreamState,
  StartStreamOptions,
  StreamChaos,
  StreamEnd,
  StreamHost,
} from './streamTypes.ts';
import type { WebhookResponse } from './webhookSender.ts';

export type {
  ChaosChannel,
  ConnectionStats,
  InterruptOptions,
  SimulatedStreamState,
  StartStreamOptions,
  StreamChaos,
  StreamEnd,
  StreamEndCause,
  StreamHost,
  StreamSettings,
} from './streamTypes.ts';
export { refuseHandshake } from './streamHandshakes.ts';

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
  readonly connections: ConnectionStats;
  /** Every webhook sent for this stream with its outcome, in order. */
  readonly webhooks: StreamCore['webhooks'];
  readonly #core: StreamCore;

  constructor(options: StartStreamOptions & { host: StreamHost; seed: number; chaosSeed?: number }) {
    const core = new StreamCore(options, this);
    this.#core = core;
    this.product = core.product;
    this.rtmsStreamId = core.rtmsStreamId;
    this.entityId = core.entityId;
    this.entityIdKey = core.entityIdKey;
    this.sessionKey = core.sessionKey;
    this.scopes = core.scopes;
    this.participants = core.participants;
    this.sent = core.record;
    this.connections = core.connections;
    this.webhooks = core.webhooks;
  }

  get state(): SimulatedStreamState {
    return this.#core.state;
  }

  /** Current signaling URL (changes on failover). */
  get signalingUrl(): string {
    return this.#core.signalingUrl;
  }

  /** `server_urls` of the latest `rtms_started`. */
  get serverUrls(): string {
    return this.signalingUrl;
  }

  /** Times the stream became fully connected and flowing (first join, then every complete rejoin). */
  get readyCount(): number {
    return this.#core.readyCount;
  }

  /** How the stream ended, once it has. */
  get end(): StreamEnd | undefined {
    return this.#core.end;
  }

  /** Media that could not be delivered: backlog overflow (audio, text) and pictures skipped under backpressure. */
  get dropped(): Readonly<BacklogDrops & { videoFrames: number; deskshareFrames: number }> {
    return { ...this.#core.backlog.dropped, ...this.#core.droppedPictures };
  }

  /** Buffered media not yet delivered (audio packets, transcript lines, chat messages). */
  backlogSize(kind: BacklogKind): number {
    return this.#core.backlog.size(kind);
  }

  /** The latest `rtms_started` body, exactly as sent. */
  get startedBody(): string | undefined {
    return this.#core.startedBody;
  }

  /** FIRST_PACKET_TIMESTAMP: wall time of media time 0, once a client has joined. */
  get firstPacketTimestamp(): number | undefined {
    return this.#core.producer?.mediaStartAt;
  }

  /**
   * Resolves when the client has completed its `occurrence`-th join: signaling up,
   * CLIENT_READY_ACK received, media sockets (back) up and media flowing. Rejects with
   * `SimulatorError('STREAM_ENDED')` if the stream ends first.
   */
  whenReady(occurrence = 1): Promise<void> {
    if (this.#core.readyCount >= occurrence) return Promise.resolve();
    if (this.#core.state === 'ended') return Promise.reject(endedError(this.#core));
    const waiter = { count: occurrence, deferred: deferred<void>() };
    this.#core.readyWaiters.push(waiter);
    return waiter.deferred.promise;
  }

  /** Resolves once the stream has ended: sockets closed and `*.rtms_stopped` attempted. Never rejects. */
  whenEnded(): Promise<StreamEnd> {
    return this.#core.ended.promise;
  }

  /**
   * Ends the stream like Zoom: STREAM_STATE_UPDATE(TERMINATED, reason) and
   * SESSION_STATE_UPDATE(STOPPED) on signaling, close sockets, POST `*.rtms_stopped`.
   * @param stopReason RTMS_STOP_REASON (default 6, MEETING_ENDED)
   */
  async stop(stopReason: number = StopReason.MEETING_ENDED): Promise<void> {
    await finish(this.#core, { stopReason, cause: 'stopped', notifyClient: true, webhook: true, graceful: true });
  }

  /**
   * Holds the next media handshake `delayMs` before answering it (`Infinity`: never, a lost
   * reply), calling `onArrival` as it comes in: lets a test lose another media socket while
   * the client is in the middle of a media rejoin, with the client's view of that loss
   * guaranteed to come first, or let a handshake time out on the client.
   */
  holdNextMediaHandshake(delayMs: number, onArrival: () => void = () => undefined): void {
    this.#core.mediaHandshakeHold = { delayMs, onArrival };
  }

  /** Ends the stream without telling anyone (webhook refused, simulator closing). */
  async abort(cause: 'webhookRejected' | 'simulatorClosed'): Promise<void> {
    await finish(this.#core, { stopReason: StopReason.UNDEFINED, cause, notifyClient: false, webhook: false, graceful: false });
  }

  /** A bug in the simulator broke this stream: end it as Zoom would on a server error (reason 10). */
  async fail(): Promise<void> {
    await finish(this.#core, { stopReason: StopReason.INTERNAL_EXCEPTION, cause: 'internalError', notifyClient: true, webhook: true, graceful: true });
  }

  /** Chaos log and counters of this stream. */
  get chaos(): StreamChaos {
    return chaosSummary(this.#core);
  }

  /**
   * Network loss on the signaling path: terminates signaling and media sockets, POSTs
   * `*.rtms_interrupted`, keeps producing audio into the backlog and delivers it after the
   * client rejoins; stops with reason 19 when the client is not back within
   * `reconnectGraceMs`. Resolves when the webhook got its answer. No-op unless connected.
   * `options.webhook` delays the webhook until the client has rejoined ('afterRejoin', out
   * of order, with the original `event_ts`) or leaves it out ('never').
   */
  interrupt(options: InterruptOptions = {}): Promise<void> {
    return interrupt(this.#core, options);
  }

  /**
   * Media-only loss: terminates the media sockets (only the one carrying `kind`, when
   * given), sends EVENT_UPDATE 7 and STREAM_STATE_UPDATE(INTERRUPTED, 14) on signaling,
   * buffers audio until the client rejoins media. No-op unless connected with media sockets.
   */
  dropMedia(kind?: MediaKind): Promise<void> {
    return dropMedia(this.#core, kind);
  }

  /**
   * Server failure: closes every socket, moves the stream to a new signaling URL and POSTs a
   * new `*.rtms_started` for the same stream id with the new `server_urls`. The client must
   * rejoin there within `reconnectGraceMs`. Resolves with the webhook answer.
   * @param options.webhookDelayMs POST the new `rtms_started` this much later (default 0): a
   *   client that retries the old server on its own meanwhile is refused there (status 2).
   */
  failover(options: { webhookDelayMs?: number; eventTsOffsetMs?: number } = {}): Promise<WebhookResponse> {
    return failover(this.#core, options);
  }

  /** Zoom's webhook retry: POSTs the latest `rtms_started` body again, byte for byte. */
  resendStart(): Promise<WebhookResponse> {
    return resendStart(this.#core);
  }

  /**
   * POSTs `*.rtms_started` with the current signaling URL (a new `event_ts` each call).
   * Called by the simulator when the stream starts and by `failover()`.
   * @param options.eventTsOffsetMs dates `event_ts` this far off the simulator's clock (Zoom's
   *   clock wrong for this event); the request timestamp header stays right.
   */
  announce(options: { eventTsOffsetMs?: number | undefined } = {}): Promise<WebhookResponse> {
    return announce(this.#core, options);
  }

  /**
   * Stall: the socket of `channel` (default signaling) writes nothing for `ms`, keep-alive
   * requests included; signaling messages are held and written afterwards, audio and text
   * wait in the backlog, pictures due meanwhile are skipped (`dropped`). A client that
   * watches for silence drops the socket if `ms` exceeds its limit. False when there is no
   * such open socket.
   */
  stall(ms: number, channel: ChaosChannel = 'signaling'): boolean {
    return stall(this.#core, ms, channel);
  }

  /**
   * The socket of `channel` (default signaling) reads nothing from the client for `ms`: a
   * client close frame is seen only afterwards, so a client that opens its next signaling
   * connection without waiting for the close to complete is refused as a duplicate (status 8).
   * False when there is no such open socket.
   */
  stallReads(ms: number, channel: ChaosChannel = 'signaling'): boolean {
    return stallReads(this.#core, ms, channel);
  }

  /**
   * No KEEP_ALIVE_REQ for `ms` on every socket (or only on `channel`); media keeps flowing.
   * False when the stream has no open socket.
   */
  suppressKeepAlives(ms: number, channel?: ChaosChannel): boolean {
    return suppressKeepAlives(this.#core, ms, channel);
  }

  /**
   * Writes a deliberately malformed media message of `kind` on the socket carrying it
   * (`variant` default: unparsable JSON). Counted in `sent.malformedCount(kind)` once
   * written; resolves whether it was. Needs a ready client and a socket that is not stalled.
   */
  sendMalformed(kind: MediaKind, variant: MalformedVariant = 'invalidJson', seed?: number): Promise<boolean> {
    return sendMalformed(this.#core, kind, variant, seed);
  }

  /**
   * Writes a message with an undefined `msg_type` on signaling or the socket carrying a
   * media kind. Counted in `sent.unknownCount(channel)` once written.
   */
  sendUnknown(channel: ChaosChannel = 'signaling', seed?: number): Promise<boolean> {
    return sendUnknown(this.#core, channel, seed);
  }

  /**
   * Writes `text` as is on signaling or the socket carrying a media kind; counted in
   * `sent.rawCount(channel)` only (the caller knows what it sent). Resolves whether written.
   */
  sendRaw(channel: ChaosChannel, text: string): Promise<boolean> {
    return sendRaw(this.#core, channel, text);
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
    return sendOversized(this.#core, kind, bytes);
  }

  /** POSTs the latest `rtms_started` or `rtms_interrupted` again, byte for byte (Zoom's retry). */
  resendLastWebhook(): Promise<WebhookResponse | undefined> {
    return resendLastWebhook(this.#core);
  }

  /**
   * POSTs an `rtms_started` older than the latest one (smaller `event_ts`, never one sent
   * before): after a failover it names the previous server's `server_urls`, as a delayed
   * delivery of the earlier announcement would. A client should ignore it.
   */
  sendStaleStart(): Promise<WebhookResponse | undefined> {
    return sendStaleStart(this.#core);
  }

  /**
   * POSTs `*.rtms_interrupted` dated `eventTsOffsetMs` off the simulator's clock, leaving the
   * sockets as they are: Zoom saw a signaling break the client has not noticed (a half-open
   * connection). The client should rejoin.
   */
  reportInterruption(options: { eventTsOffsetMs?: number } = {}): Promise<WebhookResponse> {
    return reportInterruption(this.#core, options);
  }

  /**
   * Media timestamp trouble: from the next audio packet on, every timestamp is `deltaMs` off
   * (a server clock change); with `once`, only the next audio packet is (one misdated packet).
   * False before media started.
   */
  jumpTimestamps(deltaMs: number, options: { once?: boolean } = {}): boolean {
    return jumpTimestamps(this.#core, deltaMs, options);
  }

  /** Handles a SIGNALING_HAND_SHAKE_REQ for this stream; the socket is adopted or refused and closed. */
  acceptSignaling(socket: PeerSocket, message: Record<string, unknown>): void {
    acceptSignaling(this.#core, socket, message);
  }

  /** Handles a DATA_HAND_SHAKE_REQ for this stream; the socket is adopted or refused and closed. */
  acceptMedia(socket: PeerSocket, message: Record<string, unknown>): void {
    acceptMedia(this.#core, socket, message);
  }

  /** Records a refused handshake for this stream (also used by the simulator for its own checks). */
  recordRejection(channel: Channel, statusCode: number, reason: string): void {
    recordRejection(this.#core, channel, statusCode, reason);
  }

  /** Called by the shared scheduler. */
  tick(now: number): void {
    tick(this.#core, now);
  }
}
