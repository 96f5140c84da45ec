import { randomBytes, randomInt } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { Duplex } from 'node:stream';
import pino, { type Logger } from 'pino';
import { WebSocketServer, type WebSocket } from 'ws';
import {
  type Clock,
  type Credentials,
  type MediaKind,
  MessageType,
  nameOf,
  safeEqual,
  STATUS_CODE_NAMES,
  StatusCode,
  systemClock,
  urlValidationToken,
} from './connectorShared.ts';
import { resolveChaosOptions } from './chaos.ts';
import { MediaScheduler } from './mediaScheduler.ts';
import { PeerSocket } from './peerSocket.ts';
import { deriveSeed } from './prng.ts';
import { matchRoute, type Route } from './routes.ts';
import { SimulatedStream, type StartStreamOptions, type StreamHost, type StreamSettings, refuseHandshake } from './simulatedStream.ts';
import { SimulatorError } from './simulatorErrors.ts';
import { type SimulatorOptions, type UnattributedRejection, keepAliveWhen, positive } from './simulatorOptions.ts';
import { resolveSyncMarks } from './syncMarks.ts';
import { type TlsMaterial, loadTlsMaterial } from './tlsMaterial.ts';
import { urlValidationBody } from './webhookBodies.ts';
import { acknowledged, retryOptions, WebhookRetrier } from './webhookRetry.ts';
import { type WebhookPostOptions, type WebhookResponse, WebhookSender } from './webhookSender.ts';

export type {
  StartStreamOptions,
  StreamEnd,
  StreamEndCause,
  SimulatedStreamState,
  ConnectionStats,
  ChaosChannel,
  InterruptOptions,
  StreamChaos,
} from './simulatedStream.ts';
export type { ChaosOptions, ChaosKind, ChaosLogEntry } from './chaos.ts';
export { CHAOS_KINDS, DEFAULT_CHAOS_WEIGHTS } from './chaos.ts';
export type { MalformedVariant } from './chaosMessages.ts';
export { MALFORMED_VARIANTS } from './chaosMessages.ts';
export { SimulatedStream } from './simulatedStream.ts';
export type { SentMedia, SentTranscript, SentChat, SentSyncMark, SentTime, RecordKind, UnknownChannel } from './sentRecord.ts';
export type { SyncMarksOptions } from './syncMarks.ts';
export { SYNC_TONE } from './syncMarks.ts';
export type { SimParticipant } from './participants.ts';
export type { WebhookResponse, WebhookPostOptions } from './webhookSender.ts';
export { SimulatorError } from './simulatorErrors.ts';
export type { SimulatorOptions, UnattributedRejection } from './simulatorOptions.ts';

/**
 * A stand-in for Zoom's RTMS servers on one HTTP port: WebSocket signaling at `/signaling`
 * (`/signaling-N` after N-1 failovers) and media at `/media[-N]/<kind>`; webhooks POSTed to
 * `webhookUrl`. Streams are started with `startStream()`; one shared scheduler paces all.
 */
export class Simulator {
  /** Handshakes refused before a stream was identified, in order. */
  readonly rejections: UnattributedRejection[] = [];

  readonly #server: http.Server;
  readonly #wss: WebSocketServer;
  readonly #sender: WebhookSender;
  /** Zoom's redelivery schedule (none unless `webhookRetries`). */
  readonly #retrier: WebhookRetrier;
  readonly #scheduler: MediaScheduler;
  readonly #credentials: Credentials;
  readonly #logger: Logger;
  readonly #clock: Clock;
  readonly #settings: StreamSettings;
  readonly #handshakeTimeoutMs: number;
  readonly #seed: number;
  readonly #streams = new Map<string, SimulatedStream>();
  readonly #sockets = new Set<PeerSocket>();
  readonly #host: StreamHost;
  readonly #tls: TlsMaterial | undefined;
  #listenHost = '127.0.0.1';
  #port = 0;
  #streamIndex = 0;
  #tlsClientErrors = 0;
  #closing: Promise<void> | undefined;

  private constructor(options: SimulatorOptions, tls: TlsMaterial | undefined) {
    const { credentials } = options;
    for (const key of ['clientId', 'clientSecret', 'webhookSecretToken'] as const) {
      if (typeof credentials?.[key] !== 'string' || credentials[key] === '') {
        throw new SimulatorError('INVALID_OPTION', `credentials.${key} must be a non-empty string`);
      }
    }
    this.#credentials = credentials;
    this.#logger = options.logger ?? pino({ level: 'silent' });
    this.#clock = options.clock ?? systemClock;
    const reconnectGraceMs = positive('reconnectGraceMs', options.reconnectGraceMs, 60_000);
    this.#settings = {
      handshakeRefusal: options.handshakeRefusal ?? 'statusMessage',
      keepAliveIntervalMs: positive('keepAliveIntervalMs', options.keepAliveIntervalMs, 10_000),
      keepAliveWhen: keepAliveWhen(options.keepAliveWhen),
      keepAliveMissLimit: Math.max(1, Math.floor(positive('keepAliveMissLimit', options.keepAliveMissLimit, 3))),
      reconnectGraceMs,
      mediaReconnectGraceMs: positive('mediaReconnectGraceMs', options.mediaReconnectGraceMs, reconnectGraceMs),
      joinTimeoutMs: positive('joinTimeoutMs', options.joinTimeoutMs, 60_000, true),
      socketHighWaterBytes: positive('socketHighWaterBytes', options.socketHighWaterBytes, 4 * 1024 * 1024),
      backlog: {
        audioMaxMs: positive('audioBufferMaxMs', options.audioBufferMaxMs, 60_000),
        audioMaxBytes: 64 * 1024 * 1024,
        textMaxItems: 2000,
      },
      recordContent: options.recordContent ?? true,
      recordMaxBytes: positive('recordMaxBytesPerStream', options.recordMaxBytesPerStream, 256 * 1024 * 1024),
      syncMarks: resolveSyncMarks(options.syncMarks),
    };
    this.#handshakeTimeoutMs = positive('handshakeTimeoutMs', options.handshakeTimeoutMs, 10_000);
    this.#seed = options.seed ?? randomInt(0, 2 ** 32);
    const chaos =
      options.chaos === undefined || options.chaos === false ? undefined : resolveChaosOptions(options.chaos === true ? {} : options.chaos, this.#seed);
    this.#sender = new WebhookSender({
      url: options.webhookUrl,
      secretToken: credentials.webhookSecretToken,
      timeoutMs: positive('webhookTimeoutMs', options.webhookTimeoutMs, 3000),
      logger: this.#logger,
      now: () => this.#clock.now(),
    });
    const post = (rawBody: string): Promise<WebhookResponse> => this.#sender.post(rawBody);
    this.#retrier = new WebhookRetrier({ ...retryOptions(options.webhookRetries), clock: this.#clock, post, logger: this.#logger });
    this.#scheduler = new MediaScheduler({
      tickMs: positive('tickMs', options.tickMs, 10),
      clock: this.#clock,
      logger: this.#logger,
      onError: (member, error) => {
        // One broken stream must not stop the others: end it like a server error.
        this.#logger.error({ err: error }, 'simulated stream failed');
        this.#scheduler.delete(member);
        if (member instanceof SimulatedStream) void member.fail();
      },
    });
    this.#wss = new WebSocketServer({ noServer: true, maxPayload: 256 * 1024, perMessageDeflate: false });
    this.#tls = tls;
    const notFound = (request: http.IncomingMessage, response: http.ServerResponse): void => {
      request.resume();
      response.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'not found' }));
    };
    this.#server = tls === undefined ? http.createServer(notFound) : https.createServer({ key: tls.key, cert: tls.cert }, notFound);
    this.#server.on('upgrade', (request: http.IncomingMessage, socket: Duplex, head: Buffer) => this.#onUpgrade(request, socket, head));
    this.#server.on('clientError', (_error, socket) => socket.destroy());
    // A client that refuses our certificate aborts the TLS handshake: counted, for tests.
    this.#server.on('tlsClientError', () => (this.#tlsClientErrors += 1));
    this.#host = {
      credentials: this.#credentials,
      logger: this.#logger,
      now: () => this.#clock.now(),
      settings: this.#settings,
      signalingUrl: (generation) => `${this.#wsBase()}/signaling${generation > 1 ? `-${generation}` : ''}`,
      mediaUrl: (generation, kind: MediaKind | 'all') => `${this.#wsBase()}/media${generation > 1 ? `-${generation}` : ''}/${kind}`,
      postWebhook: (rawBody, onRetry) => this.#retrier.deliver(rawBody, onRetry),
      webhookRetries: this.#retrier.enabled,
      schedule: (stream) => this.#scheduler.add(stream),
      unschedule: (stream) => this.#scheduler.delete(stream),
      chaos,
    };
  }

  /** Creates a simulator and starts listening. */
  static async start(options: SimulatorOptions): Promise<Simulator> {
    const tls = options.tls === undefined || options.tls === false ? undefined : await loadTlsMaterial(options.tls === true ? undefined : options.tls.dir);
    const simulator = new Simulator(options, tls);
    try {
      await simulator.#listen(options.host ?? '127.0.0.1', options.port ?? 0);
    } catch (error) {
      await simulator.close();
      throw error;
    }
    return simulator;
  }

  /** Bound port. */
  get port(): number {
    return this.#port;
  }

  get host(): string {
    return this.#listenHost;
  }

  /** TLS handshakes that failed, e.g. a client that does not trust the CA (0 for ws://). */
  get tlsClientErrors(): number {
    return this.#tlsClientErrors;
  }

  /** The CA file clients must trust (NODE_EXTRA_CA_CERTS) when serving wss://; undefined for ws://. */
  get caCertPath(): string | undefined {
    return this.#tls?.caCertPath;
  }

  /** The original signaling URL, e.g. `ws://127.0.0.1:PORT/signaling` (`wss://` with `tls`). */
  get signalingUrl(): string {
    return this.#host.signalingUrl(1);
  }

  /** Base seed of this simulator (stream N uses a seed derived from it and N). */
  get seed(): number {
    return this.#seed;
  }

  /** Seed of chaos mode (stream N's schedule derives from it and N), when chaos mode is on. */
  get chaosSeed(): number | undefined {
    return this.#host.chaos?.seed;
  }

  /** Where webhooks go. */
  get webhookUrl(): string {
    return this.#sender.url;
  }

  /**
   * Sends `endpoint.url_validation` and checks the answer: HTTP 200 with the same `plainToken`
   * and `encryptedToken` = HMAC(webhook secret token, plainToken). Throws
   * `SimulatorError('URL_VALIDATION_FAILED')` otherwise.
   */
  async validateEndpoint(): Promise<void> {
    const plainToken = randomBytes(16).toString('base64url');
    const response = await this.#sender.post(urlValidationBody(plainToken, this.#clock.now()));
    const fail = (why: string): never => {
      throw new SimulatorError('URL_VALIDATION_FAILED', `endpoint.url_validation failed: ${why}`, { httpStatus: response.status });
    };
    if (response.status !== 200) fail(`HTTP ${response.status}`);
    let answer: unknown;
    try {
      answer = JSON.parse(response.body);
    } catch {
      fail('the answer is not JSON');
    }
    const { plainToken: echoed, encryptedToken } = (answer ?? {}) as Record<string, unknown>;
    if (echoed !== plainToken) fail('plainToken not echoed');
    const expected = urlValidationToken({ secretToken: this.#credentials.webhookSecretToken, plainToken });
    if (typeof encryptedToken !== 'string' || !safeEqual(expected, encryptedToken)) fail('wrong encryptedToken');
  }

  /**
   * POSTs any body to the webhook URL, signed like Zoom (or as `options` dictate: another
   * secret, a stale timestamp, unsigned). An object is JSON-serialised; a string or Buffer is
   * sent as is. Resolves with the answer whatever its status.
   */
  sendWebhook(body: unknown, options: WebhookPostOptions = {}): Promise<WebhookResponse> {
    return this.#sender.post(body, options);
  }

  /**
   * Creates a stream and POSTs its signed `*.rtms_started`. Resolves once the webhook got a
   * 2xx; otherwise the stream is discarded and this rejects with
   * `SimulatorError('WEBHOOK_DELIVERY_FAILED')` (with `webhookRetries`: resolves anyway,
   * the stream waits for a join while Zoom's retries run).
   */
  async startStream(options: StartStreamOptions = {}): Promise<SimulatedStream> {
    if (this.#closing !== undefined) throw new SimulatorError('SIMULATOR_CLOSED', 'the simulator is closed');
    const stream = new SimulatedStream({
      ...options,
      host: this.#host,
      seed: deriveSeed(this.#seed, this.#streamIndex),
      chaosSeed: deriveSeed(this.#host.chaos?.seed ?? this.#seed, 'chaos', this.#streamIndex),
    });
    this.#streamIndex += 1;
    if (this.#streams.has(stream.rtmsStreamId)) {
      throw new SimulatorError('INVALID_OPTION', `a stream with rtms_stream_id ${stream.rtmsStreamId} already exists`);
    }
    this.#streams.set(stream.rtmsStreamId, stream);
    let response: WebhookResponse;
    try {
      response = await stream.announce();
    } catch (error) {
      // With Zoom's retries the stream waits for a join while the start is redelivered.
      if (this.#retrier.enabled) return stream;
      await stream.abort('webhookRejected');
      throw error;
    }
    if (!acknowledged(response.status) && !this.#retrier.enabled) {
      await stream.abort('webhookRejected');
      throw new SimulatorError('WEBHOOK_DELIVERY_FAILED', `rtms_started was answered with HTTP ${response.status}`, { httpStatus: response.status });
    }
    return stream;
  }

  /** Zoom's webhook retries scheduled and not yet sent (`webhookRetries`). */
  get pendingWebhookRetries(): number {
    return this.#retrier.pending;
  }

  /** Every stream started, including ended ones, in start order. */
  streams(): SimulatedStream[] {
    return [...this.#streams.values()];
  }

  stream(rtmsStreamId: string): SimulatedStream | undefined {
    return this.#streams.get(rtmsStreamId);
  }

  /**
   * Ends every stream without webhooks, drops every socket, stops the scheduler, aborts
   * webhook requests in flight and stops listening. Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    this.#scheduler.close();
    await Promise.allSettled([...this.#streams.values()].map((stream) => stream.abort('simulatorClosed')));
    for (const socket of this.#sockets) socket.terminate();
    await Promise.allSettled([...this.#sockets].map((socket) => socket.whenClosed()));
    this.#retrier.close();
    this.#sender.close();
    this.#wss.close();
    await new Promise<void>((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
  }

  async #listen(host: string, port: number): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      const onError = (error: Error): void => reject(error);
      this.#server.once('error', onError);
      this.#server.listen(port, host, () => {
        this.#server.off('error', onError);
        resolve();
      });
    });
    const address = this.#server.address();
    if (address === null || typeof address === 'string') throw new Error('simulator: unexpected server address');
    this.#listenHost = host;
    this.#port = address.port;
    this.#server.on('error', (error) => this.#logger.error({ err: error }, 'simulator server error'));
    this.#logger.info({ signalingUrl: this.signalingUrl }, 'simulator listening');
  }

  #wsBase(): string {
    const host = this.#listenHost.includes(':') ? `[${this.#listenHost}]` : this.#listenHost;
    return `${this.#tls === undefined ? 'ws' : 'wss'}://${host}:${this.#port}`;
  }

  #onUpgrade(request: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    const route = this.#closing === undefined ? matchRoute(new URL(request.url ?? '/', 'http://simulator').pathname) : undefined;
    if (route === undefined) {
      socket.end(`HTTP/1.1 ${this.#closing === undefined ? '404 Not Found' : '503 Service Unavailable'}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      return;
    }
    this.#wss.handleUpgrade(request, socket, head, (ws) => this.#onConnection(ws, route));
  }

  #onConnection(ws: WebSocket, route: Route): void {
    const peer = new PeerSocket({ ws, channel: route.channel, generation: route.generation, logger: this.#logger });
    if (this.#closing !== undefined) {
      peer.terminate();
      return;
    }
    this.#sockets.add(peer);
    const timer = setTimeout(() => void peer.close(1008, 'handshake timeout'), this.#handshakeTimeoutMs);
    void peer.whenClosed().then(() => {
      clearTimeout(timer);
      this.#sockets.delete(peer);
    });
    peer.onMessage = (message) => {
      clearTimeout(timer);
      peer.onMessage = () => {};
      this.#route(peer, message);
    };
  }

  /** First message of a socket: must be the handshake of its channel and name a known stream. */
  #route(peer: PeerSocket, message: Record<string, unknown> | undefined): void {
    const expected = peer.channel === 'signaling' ? MessageType.SIGNALING_HAND_SHAKE_REQ : MessageType.DATA_HAND_SHAKE_REQ;
    const streamId = typeof message?.['rtms_stream_id'] === 'string' ? message['rtms_stream_id'] : undefined;
    const refuse = (statusCode: number, reason: string): void => {
      this.rejections.push({ channel: peer.channel, statusCode, reason, rtmsStreamId: streamId });
      this.#logger.info({ channel: peer.channel, statusCode, status: nameOf(STATUS_CODE_NAMES, statusCode) }, 'handshake refused');
      refuseHandshake(peer, statusCode, reason, this.#settings.handshakeRefusal);
    };
    if (message === undefined) return refuse(StatusCode.INVALID_PAYLOAD, 'the first message must be a JSON object');
    if (message['msg_type'] !== expected) return refuse(StatusCode.INVALID_MESSAGE_TYPE, `expected msg_type ${expected}`);
    const stream = streamId === undefined ? undefined : this.#streams.get(streamId);
    if (stream === undefined) return refuse(StatusCode.INVALID_RTMS_STREAM_ID, 'unknown rtms_stream_id');
    if (peer.channel === 'signaling') stream.acceptSignaling(peer, message);
    else stream.acceptMedia(peer, message);
  }
}

/** Starts a simulator listening on `host:port` (default 127.0.0.1, any free port). */
export function startSimulator(options: SimulatorOptions): Promise<Simulator> {
  return Simulator.start(options);
}
