import { WebSocket } from 'ws';
import { handshakeSignature } from '../../../../../src/rtms/signature.ts';

/**
 * A deliberately small RTMS client written from the protocol document, used to drive the
 * simulator over real sockets in tests. It is not the connector: it does exactly what each
 * test tells it and records everything it receives.
 */

export type Message = Record<string, unknown> & { msg_type?: number };

export class TestSocket {
  readonly messages: Message[] = [];
  readonly ws: WebSocket;
  /** Answer KEEP_ALIVE_REQ automatically (default true). */
  answerKeepAlive = true;
  /** Runs for every message, after it was recorded. */
  onMessage: (message: Message) => void = () => {};
  readonly closed: Promise<{ code: number; reason: string }>;
  #waiters: Array<{ predicate: (message: Message) => boolean; resolve: (message: Message) => void }> = [];

  private constructor(ws: WebSocket) {
    this.ws = ws;
    this.closed = new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
    ws.on('message', (data) => {
      const message = JSON.parse(data.toString()) as Message;
      this.messages.push(message);
      if (message.msg_type === 12 && this.answerKeepAlive) this.send({ msg_type: 13, timestamp: message['timestamp'] });
      this.onMessage(message);
      for (let i = this.#waiters.length - 1; i >= 0; i -= 1) {
        const waiter = this.#waiters[i];
        if (waiter !== undefined && waiter.predicate(message)) {
          this.#waiters.splice(i, 1);
          waiter.resolve(message);
        }
      }
    });
  }

  /** `ca`: the PEM to trust for a wss:// URL (the simulator's `caCertPath` content). */
  static open(url: string, ca?: string): Promise<TestSocket> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, ca === undefined ? undefined : { ca });
      const socket = new TestSocket(ws);
      ws.once('open', () => resolve(socket));
      ws.once('error', reject);
    });
  }

  send(message: object): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(message));
  }

  /** First message (already received or future) matching `predicate`. */
  waitFor(predicate: (message: Message) => boolean, timeoutMs = 15_000): Promise<Message> {
    const existing = this.messages.find(predicate);
    if (existing !== undefined) return Promise.resolve(existing);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`timed out waiting for a message; got types ${this.messages.map((m) => m.msg_type).join(',')}`)),
        timeoutMs,
      );
      this.#waiters.push({
        predicate,
        resolve: (message) => {
          clearTimeout(timer);
          resolve(message);
        },
      });
    });
  }

  waitForType(msgType: number, timeoutMs?: number): Promise<Message> {
    return this.waitFor((message) => message.msg_type === msgType, timeoutMs);
  }

  close(): void {
    this.ws.close();
  }

  terminate(): void {
    this.ws.terminate();
  }
}

export interface ReceivedTranscript {
  readonly userId: string;
  readonly userName: string;
  readonly text: string;
  readonly startTime: number;
  readonly endTime: number;
  readonly timestamp: number;
  readonly language: number;
}

/** Everything received on media sockets, across rejoins. */
export class MediaCollector {
  readonly audio = new Map<string, Buffer[]>();
  readonly audioTimestamps = new Map<string, number[]>();
  readonly video: Buffer[] = [];
  readonly deskshare: Buffer[] = [];
  /** `timestamp` of each picture in `video` / `deskshare`, same order. */
  readonly videoTimestamps: number[] = [];
  readonly deskshareTimestamps: number[] = [];
  readonly transcripts: ReceivedTranscript[] = [];
  readonly chats: Array<{ userId: string; text: string; timestamp: number }> = [];
  /** Messages whose `length` did not match the decoded data. */
  lengthMismatches = 0;

  add(message: Message): void {
    const content = message['content'] as Record<string, unknown> | undefined;
    if (content === undefined) return;
    const key = typeof content['channel_id'] === 'string' ? content['channel_id'] : String(content['user_id']);
    switch (message.msg_type) {
      case 14: {
        const data = Buffer.from(String(content['data']), 'base64');
        if (content['length'] !== data.length) this.lengthMismatches += 1;
        if (!this.audio.has(key)) {
          this.audio.set(key, []);
          this.audioTimestamps.set(key, []);
        }
        this.audio.get(key)?.push(data);
        this.audioTimestamps.get(key)?.push(Number(content['timestamp']));
        break;
      }
      case 15:
      case 16: {
        const data = Buffer.from(String(content['data']), 'base64');
        if (content['length'] !== data.length) this.lengthMismatches += 1;
        (message.msg_type === 15 ? this.video : this.deskshare).push(data);
        (message.msg_type === 15 ? this.videoTimestamps : this.deskshareTimestamps).push(Number(content['timestamp']));
        break;
      }
      case 17:
        this.transcripts.push({
          userId: key,
          userName: String(content['user_name']),
          text: String(content['data']),
          startTime: Number(content['start_time']),
          endTime: Number(content['end_time']),
          timestamp: Number(content['timestamp']),
          language: Number(content['language']),
        });
        break;
      case 18:
        this.chats.push({ userId: key, text: String(content['data']), timestamp: Number(content['timestamp']) });
        break;
      default:
        break; // other message types carry no media
    }
  }

  audioOf(key: string): Buffer {
    return Buffer.concat(this.audio.get(key) ?? []);
  }

  get audioBytes(): number {
    let total = 0;
    for (const chunks of this.audio.values()) for (const chunk of chunks) total += chunk.length;
    return total;
  }
}

export interface MediaRequest {
  /** Which advertised URL to use: a kind or 'all'. */
  readonly url: string;
  readonly mediaType: number;
  readonly mediaParams?: object;
}

export interface JoinOptions {
  readonly signalingUrl: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly rtmsStreamId: string;
  readonly entityId: string;
  readonly entityKey?: string;
  /** Default: one `all` socket. */
  readonly media?: readonly MediaRequest[];
  /** Event types to subscribe to. */
  readonly subscribe?: readonly number[];
  readonly collector?: MediaCollector;
  /** Override the signature (bad-signature tests). */
  readonly signature?: string;
  /** CA to trust for wss:// (PEM). */
  readonly ca?: string;
}

export interface Session {
  readonly signaling: TestSocket;
  readonly media: TestSocket[];
  readonly handshake: Message;
  readonly collector: MediaCollector;
}

/** Signaling handshake; resolves with the socket and the msg 2 answer (whatever its status). */
export async function signalingHandshake(options: JoinOptions): Promise<{ socket: TestSocket; answer: Message }> {
  const socket = await TestSocket.open(options.signalingUrl, options.ca);
  socket.send({
    msg_type: 1,
    protocol_version: 1,
    sequence: 0,
    [options.entityKey ?? 'meeting_uuid']: options.entityId,
    rtms_stream_id: options.rtmsStreamId,
    signature: options.signature ?? signatureOf(options),
  });
  const answer = await socket.waitForType(2);
  return { socket, answer };
}

/** Media handshake on `url`; resolves with the socket and the msg 4 answer. */
export async function mediaHandshake(url: string, options: JoinOptions, request: MediaRequest): Promise<{ socket: TestSocket; answer: Message }> {
  const socket = await TestSocket.open(url, options.ca);
  socket.send({
    msg_type: 3,
    protocol_version: 1,
    sequence: 0,
    [options.entityKey ?? 'meeting_uuid']: options.entityId,
    rtms_stream_id: options.rtmsStreamId,
    signature: options.signature ?? signatureOf(options),
    media_type: request.mediaType,
    ...(request.mediaParams === undefined ? {} : { media_params: request.mediaParams }),
  });
  const answer = await socket.waitForType(4);
  return { socket, answer };
}

export function signatureOf(options: Pick<JoinOptions, 'clientId' | 'clientSecret' | 'entityId' | 'rtmsStreamId'>): string {
  return handshakeSignature({ clientId: options.clientId, clientSecret: options.clientSecret, entityId: options.entityId, rtmsStreamId: options.rtmsStreamId });
}

/** Full join: signaling, subscription, media sockets, CLIENT_READY_ACK. Throws on any non-zero status. */
export async function joinStream(options: JoinOptions): Promise<Session> {
  const collector = options.collector ?? new MediaCollector();
  const { socket: signaling, answer } = await signalingHandshake(options);
  if (answer['status_code'] !== 0) throw new Error(`signaling handshake status ${String(answer['status_code'])}`);
  if (options.subscribe !== undefined && options.subscribe.length > 0) {
    signaling.send({ msg_type: 5, events: options.subscribe.map((eventType) => ({ event_type: eventType, subscribe: true })) });
  }
  const urls = (answer['media_server'] as { server_urls: Record<string, string> }).server_urls;
  const media: TestSocket[] = [];
  for (const request of options.media ?? [{ url: 'all', mediaType: 32 }]) {
    const url = urls[request.url];
    if (url === undefined) throw new Error(`no ${request.url} media URL offered`);
    const { socket, answer: mediaAnswer } = await mediaHandshake(url, options, request);
    if (mediaAnswer['status_code'] !== 0) throw new Error(`media handshake status ${String(mediaAnswer['status_code'])}`);
    collectInto(socket, collector);
    media.push(socket);
    signaling.send({ msg_type: 7, rtms_stream_id: options.rtmsStreamId });
  }
  return { signaling, media, handshake: answer, collector };
}

/** Feeds a media socket's messages, including any that arrived with the handshake answer, to `collector`. */
export function collectInto(socket: TestSocket, collector: MediaCollector): void {
  for (const message of socket.messages) collector.add(message);
  socket.onMessage = (message) => collector.add(message);
}
