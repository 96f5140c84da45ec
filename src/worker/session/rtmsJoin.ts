import type { Clock } from '../../clock.ts';
import type { Config } from '../../config.ts';
import { ConnectorError, HandshakeRejectedError, describeError } from '../../errors.ts';
import type { Logger } from '../../logger.ts';
import { MediaTypeBit, MessageType, STATUS_CODE_NAMES, StatusCode, SUBSCRIBED_EVENTS, isRetryableStatus, nameOf } from '../../rtms/codes.ts';
import { mediaTypeMask, requestedMediaParams } from '../../rtms/mediaParams.ts';
import { decodeHandshakeResponse, decodeRtmsMessage } from '../../rtms/decodeRtmsMessage.ts';
import type { HandshakeResponse } from '../../rtms/rtmsMessages.ts';
import type { StreamStart } from '../../rtms/products.ts';
import { RtmsSocket, type MalformedFrameReason, type RtmsMessage, type RtmsSocketOptions, type SocketClosed } from '../../rtms/rtmsSocket.ts';
import { handshakeSignature } from '../../rtms/signature.ts';
import type { WorkerMetrics } from '../workerMetrics.ts';
import type { IgnoredMessages } from './ignoredMessages.ts';
import { planMedia, type MediaConnection } from './mediaPlan.ts';
import { SocketRelease } from './socketRelease.ts';

/**
 * The RTMS join procedure and the sockets it opens: the signaling handshake, the event
 * subscription, then one handshake per media socket, each acknowledged with CLIENT_READY_ACK
 * (README, "Running it against Zoom"). A media-only rejoin reopens the media sockets that are
 * down. A socket lost (not closed by us) is reported and handed to the rejoin policy. Each failure is a typed error whose `retryable` tells the rejoin whether to try again;
 * an attempt that was superseded (aborted) closes what it opened and hands nothing over.
 */

export interface RtmsJoinOptions {
  readonly config: Pick<Config, 'credentials' | 'media' | 'rtms'>;
  /** The stream as last started (a failover brings new URLs). */
  readonly start: () => StreamStart;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: Pick<WorkerMetrics, 'handshake' | 'keepAliveAge'>;
  readonly event: (eventType: string, data: Record<string, unknown>) => void;
  /** The stream was live once: an unknown stream id on its rejoin is a failover under way, so retryable. */
  readonly wasLive: () => boolean;
  /** Media is paused by backpressure: a socket opened now starts paused. */
  readonly paused: () => boolean;
  /** Unreadable signaling messages and sockets closed for a bad message are counted here. */
  readonly ignored: Pick<IgnoredMessages, 'record'>;
  /** The stream is over or ending: a lost socket is no news. */
  readonly ended: () => boolean;
  readonly onSignalingMessage: (message: RtmsMessage) => void;
  /** Signaling was lost (not closed by us): everything must be rejoined. */
  readonly onSignalingLost: (trigger: 'keep_alive_timeout' | 'signaling_closed') => void;
  readonly onMediaMessage: (connection: MediaConnection, message: RtmsMessage, wireBytes: number) => void;
  readonly onMediaMalformed: (connection: MediaConnection, reason: MalformedFrameReason, wireBytes: number) => void;
  /** A media socket was lost while signaling is up: that media must be rejoined. */
  readonly onMediaLost: (connection: MediaConnection) => void;
  /** A media handshake was accepted with these `media_params`. */
  readonly onMediaJoined: (mediaParams: unknown) => void;
  /** The signaling connection Zoom accepted has ended: an interruption Zoom may report. */
  readonly onJoinedSignalingEnded: () => void;
}

export class RtmsJoin {
  readonly #options: RtmsJoinOptions;
  /** Sockets closed by us and not yet gone; a new signaling connection waits for them. */
  readonly #released: SocketRelease;
  #signaling: RtmsSocket | undefined;
  /** The signaling connection whose handshake Zoom accepted (its end is an interruption Zoom reports). */
  #joinedSignaling: RtmsSocket | undefined;
  #media: MediaConnection[] = [];

  constructor(options: RtmsJoinOptions) {
    this.#options = options;
    this.#released = new SocketRelease(options.clock);
  }

  get signaling(): RtmsSocket | undefined {
    return this.#signaling;
  }

  /** The signaling socket and every media socket open now. */
  sockets(): RtmsSocket[] {
    return [this.#signaling, ...this.#media.map((connection) => connection.socket)].filter((socket) => socket !== undefined);
  }

  pauseMedia(): void {
    for (const connection of this.#media) connection.socket?.pause();
  }

  resumeMedia(): void {
    for (const connection of this.#media) connection.socket?.resume();
  }

  /** One join attempt. Media cannot be rejoined without signaling; an attempt that finds it down joins everything. */
  attempt(scope: 'full' | 'media', signal: AbortSignal): Promise<void> {
    return scope === 'full' || !this.#signaling?.isOpen ? this.#joinAll(signal) : this.#joinMissingMedia(signal);
  }

  /** Asks Zoom to close the stream (STREAM_CLOSE_REQ) over the open signaling socket, and records its answer. */
  async requestStreamClose(): Promise<void> {
    const signaling = this.#signaling;
    if (!signaling?.isOpen) return;
    try {
      const reply = decodeRtmsMessage(
        await signaling.request(
          { msg_type: MessageType.STREAM_CLOSE_REQ, rtms_stream_id: this.#options.start().rtmsStreamId },
          MessageType.STREAM_CLOSE_RESP,
          this.#options.config.rtms.handshakeTimeoutMs,
        ),
        this.#options.clock.now(),
      );
      const statusCode = reply.ok && reply.message.type === 'response' ? reply.message.statusCode : undefined;
      this.#options.event('rtms.stream_close_resp', { statusCode, statusName: statusName(statusCode) });
    } catch (error) {
      this.#options.logger.warn({ err: describeError(error) }, 'no STREAM_CLOSE_RESP; closing locally');
    }
  }

  /** Closes every socket (tracked until gone: the next signaling connection waits for them). */
  closeSockets(): void {
    if (this.#signaling !== undefined) this.signalingEnded(this.#signaling);
    this.#released.release([this.#signaling, ...this.#media.map((connection) => connection.socket)]);
    this.#signaling = undefined;
    for (const connection of this.#media) connection.socket = undefined;
  }

  /** This signaling socket is gone; if it was the one Zoom accepted, Zoom may report an interruption. */
  signalingEnded(socket: RtmsSocket): void {
    if (socket !== this.#joinedSignaling) return;
    this.#joinedSignaling = undefined;
    this.#options.onJoinedSignalingEnded();
  }

  /** Signaling handshake, then every media socket, then CLIENT_READY_ACK. */
  async #joinAll(signal: AbortSignal): Promise<void> {
    const { config, clock, metrics } = this.#options;
    this.closeSockets();
    // Zoom refuses a second signaling connection (status 8) while the previous one is open.
    await this.#released.settled();
    if (signal.aborted) throw superseded();
    const startedAt = clock.now();
    const start = this.#options.start();
    const signaling = await RtmsSocket.open(
      {
        ...this.#socketSettings(start.signalingUrl, 'signaling'),
        onMessage: (message) => this.#options.onSignalingMessage(message),
        onMalformed: (reason) => this.#options.ignored.record('signaling', reason),
        onClose: (closed) => this.#signalingClosed(signaling, closed),
        onKeepAlive: (timestamp) => this.#keepAlive('signaling', timestamp),
      },
      signal,
    );
    // A superseded attempt must not hand-shake: the rejoin that replaced it owns the stream.
    if (signal.aborted) {
      this.#released.release([signaling]);
      throw superseded();
    }
    this.#signaling = signaling;
    const reply = await this.#handshake(
      signaling,
      'signaling',
      { ...handshakeFields(MessageType.SIGNALING_HAND_SHAKE_REQ, this.#options.start(), config.credentials), buffer_data: config.media.bufferStartupAudio },
      MessageType.SIGNALING_HAND_SHAKE_RESP,
      signal,
    );
    this.#joinedSignaling = signaling;
    metrics.handshake('signaling', (clock.now() - startedAt) / 1000);
    const plan = planMedia(reply, config.media.kinds);
    if (plan.unavailable.length > 0) this.#options.event('media.unavailable', { kinds: plan.unavailable });
    this.#media = plan.connections;
    if (this.#options.start().product !== 'contact_center') {
      signaling.send({ msg_type: MessageType.EVENT_SUBSCRIPTION, events: SUBSCRIBED_EVENTS.map((event_type) => ({ event_type, subscribe: true })) });
    }
    await this.#joinMissingMedia(signal);
  }

  /**
   * (Re)opens every media socket that is not open; the signaling socket must be up. Checks
   * again after each handshake: Zoom's EVENT_UPDATE 7 can arrive before the close of a socket
   * it dropped, and that close, joining this rejoin, must not be left behind.
   */
  async #joinMissingMedia(signal: AbortSignal): Promise<void> {
    const { config, clock, metrics } = this.#options;
    const signaling = this.#signaling;
    if (!signaling?.isOpen) throw new ConnectorError('RTMS_CONNECTION_LOST', 'signaling closed during the media handshake', { retryable: true });
    const reopened = new Set<MediaConnection>();
    for (let connection = this.#closedMedia(); connection !== undefined; connection = this.#closedMedia()) {
      // Lost again within this attempt: back off (p-retry) rather than loop on a failing server.
      if (reopened.has(connection))
        throw new ConnectorError('RTMS_CONNECTION_LOST', `media socket ${connection.key} closed again during the rejoin`, { retryable: true });
      reopened.add(connection);
      connection.socket?.terminate();
      connection.socket = undefined;
      const startedAt = clock.now();
      const current = connection;
      const socket = await RtmsSocket.open(
        {
          ...this.#socketSettings(current.url, `media:${current.key}`),
          onMessage: (message, bytes) => this.#options.onMediaMessage(current, message, bytes),
          onMalformed: (reason, bytes) => this.#options.onMediaMalformed(current, reason, bytes),
          onClose: (closed) => this.#mediaClosed(current, socket, closed),
          onKeepAlive: (timestamp) => this.#keepAlive('media', timestamp),
        },
        signal,
      );
      if (signal.aborted) {
        this.#released.release([socket]);
        throw superseded();
      }
      current.socket = socket;
      let reply: HandshakeResponse;
      try {
        reply = await this.#handshake(
          socket,
          `media:${current.key}`,
          {
            ...handshakeFields(MessageType.DATA_HAND_SHAKE_REQ, this.#options.start(), config.credentials),
            media_type: current.key === 'all' ? MediaTypeBit.all : mediaTypeMask(current.kinds),
            media_params: requestedMediaParams(config.media, current.kinds),
            payload_encryption: false,
          },
          MessageType.DATA_HAND_SHAKE_RESP,
          signal,
        );
      } catch (error) {
        // An open socket without an accepted handshake carries nothing: the next attempt must
        // not take it for a joined one.
        socket.terminate();
        current.socket = undefined;
        throw error;
      }
      metrics.handshake('media', (clock.now() - startedAt) / 1000);
      this.#options.onMediaJoined(reply.mediaParams);
      if (this.#options.paused()) socket.pause();
      // Zoom's library acknowledges each media handshake; media flows after the ack.
      signaling.send({ msg_type: MessageType.CLIENT_READY_ACK, rtms_stream_id: this.#options.start().rtmsStreamId });
    }
  }

  #signalingClosed(socket: RtmsSocket, closed: SocketClosed): void {
    if (this.#signaling !== socket) return;
    this.#signaling = undefined;
    if (closed.byUs || this.#options.ended()) return;
    this.#options.logger.warn({ code: closed.code, cause: closed.cause }, 'signaling connection lost');
    this.signalingEnded(socket);
    this.#lost('signaling', closed);
    this.#options.onSignalingLost(closed.cause === 'silence' ? 'keep_alive_timeout' : 'signaling_closed');
  }

  #mediaClosed(connection: MediaConnection, socket: RtmsSocket, closed: SocketClosed): void {
    if (connection.socket !== socket) return;
    connection.socket = undefined;
    if (closed.byUs || this.#options.ended()) return;
    this.#options.logger.warn({ channel: connection.key, code: closed.code, cause: closed.cause }, 'media connection lost');
    this.#lost(`media:${connection.key}`, closed);
    // If signaling is gone too, its own close handler asks for the full rejoin.
    if (this.#signaling?.isOpen) this.#options.onMediaLost(connection);
  }

  #lost(channel: string, closed: SocketClosed): void {
    this.#options.event('rtms.connection_lost', { channel, code: closed.code, cause: closed.cause });
    if (closed.cause === 'too_big' || closed.cause === 'protocol_error') this.#options.ignored.record(channel, closed.cause, { closeCode: closed.code });
  }

  #closedMedia(): MediaConnection | undefined {
    return this.#media.find((connection) => connection.socket?.isOpen !== true);
  }

  #keepAlive(scope: 'signaling' | 'media', serverTimestamp: number | undefined): void {
    if (serverTimestamp !== undefined) this.#options.metrics.keepAliveAge(scope, (this.#options.clock.now() - serverTimestamp) / 1000);
  }

  /** Sends a handshake and returns Zoom's answer; a refusal (a status, or a close without one) throws. */
  async #handshake(socket: RtmsSocket, channel: string, message: RtmsMessage, replyType: number, signal: AbortSignal): Promise<HandshakeResponse> {
    let reply: HandshakeResponse;
    try {
      reply = decodeHandshakeResponse(await socket.request(message, replyType, this.#options.config.rtms.handshakeTimeoutMs, signal));
    } catch (error) {
      const refused = closedWithoutStatus(channel, socket.peerCloseCode, this.#options.wasLive());
      if (refused === undefined) throw error;
      this.#refused(channel, refused);
    }
    const refused = handshakeRejection(channel, reply, { signalingOpen: this.#signaling?.isOpen === true, wasLive: this.#options.wasLive() });
    if (refused !== undefined) this.#refused(channel, refused);
    return reply;
  }

  #refused(channel: string, error: HandshakeRejectedError): never {
    this.#options.event('rtms.handshake_rejected', { channel, statusCode: error.statusCode, statusName: error.statusName });
    throw error;
  }

  #socketSettings(
    url: string,
    channel: string,
  ): Pick<RtmsSocketOptions, 'url' | 'allowedHosts' | 'maxPayloadBytes' | 'channel' | 'connectTimeoutMs' | 'silenceTimeoutMs' | 'logger' | 'clock'> {
    const { rtms } = this.#options.config;
    return {
      url,
      allowedHosts: rtms.allowedHosts,
      maxPayloadBytes: rtms.maxMessageBytes,
      channel,
      connectTimeoutMs: rtms.handshakeTimeoutMs,
      silenceTimeoutMs: rtms.keepAliveTimeoutMs,
      logger: this.#options.logger,
      clock: this.#options.clock,
    };
  }
}

/** The error a handshake answer with a non-zero `status_code` stands for; undefined when accepted. */
export function handshakeRejection(
  channel: string,
  reply: HandshakeResponse,
  context: { signalingOpen: boolean; wasLive: boolean },
): HandshakeRejectedError | undefined {
  const { statusCode } = reply;
  if (statusCode === StatusCode.OK) return undefined;
  return new HandshakeRejectedError({
    channel,
    statusCode,
    statusName: statusName(statusCode),
    reason: reply.reason,
    // A media handshake refused after our signaling connection dropped (Zoom: "no signaling
    // connection for this stream") says nothing about the stream: rejoin everything.
    retryable:
      isRetryableStatus(statusCode) ||
      (channel !== 'signaling' && !context.signalingOpen) ||
      // An unknown stream on a rejoin of a stream that was live: the old server forgot it in a
      // failover whose new rtms_started (new URL) has not arrived yet; it restarts the rejoin.
      (statusCode === StatusCode.INVALID_RTMS_STREAM_ID && context.wasLive),
  });
}

/**
 * A handshake Zoom answered by closing the socket normally (1000) without a status message,
 * as forum reports describe for refused credentials (docs/protocol.md#handshake-messages): on
 * a first join it fails the stream at once, like a refused signature; on a rejoin of a stream
 * that was live (its credentials worked) it is retried within the rejoin budget.
 */
export function closedWithoutStatus(channel: string, peerCloseCode: number | undefined, wasLive: boolean): HandshakeRejectedError | undefined {
  if (peerCloseCode !== 1000) return undefined;
  return new HandshakeRejectedError({
    channel,
    statusCode: undefined,
    statusName: 'CLOSED_WITHOUT_STATUS',
    reason: 'Zoom closed the connection (1000) without answering the handshake, usually a credential mismatch',
    retryable: wasLive,
  });
}

/** What signaling and media handshakes both carry: who we are, which stream, and the signature. */
export function handshakeFields(msgType: number, start: StreamStart, credentials: Config['credentials']): RtmsMessage {
  return {
    msg_type: msgType,
    protocol_version: 1,
    sequence: 1,
    [start.entityIdKey]: start.entityId,
    rtms_stream_id: start.rtmsStreamId,
    signature: handshakeSignature({
      clientId: credentials.clientId,
      clientSecret: credentials.clientSecret,
      entityId: start.entityId,
      rtmsStreamId: start.rtmsStreamId,
    }),
  };
}

export function statusName(code: unknown): string {
  return typeof code === 'number' ? nameOf(STATUS_CODE_NAMES, code) : 'UNKNOWN';
}

function superseded(): ConnectorError {
  return new ConnectorError('RTMS_CONNECTION_FAILED', 'rejoin superseded by a newer one', { retryable: true });
}
