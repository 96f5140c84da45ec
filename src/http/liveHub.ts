import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { MEDIA_KINDS, type MediaKind } from '../vocabulary/mediaKind.ts';
import type { Logger } from '../logger.ts';
import type { LiveBatch, LiveItem } from '../vocabulary/liveBatch.ts';
import type { AuthFailureLimiter } from './authFailureLimiter.ts';
import { TokenAccess, type AccessRefusal } from './tokenAccess.ts';

/**
 * `GET /streams/{id}/live?media=audio,transcript` (WebSocket upgrade, bearer ADMIN_TOKEN or CONSUMER_TOKEN):
 * a stream's lifecycle events and frames, live, for downstream consumers.
 *
 * Messages (documented in docs/redis-and-live-consumers.md#live-consumers):
 * - text: `{"type":"hello","rtmsStreamId","media":[...]}` first; then
 *   `{"type":"event","event":{eventType,data,sentTime,version}}`,
 *   `{"type":"transcript","userId","userName","timestamp","startTime","endTime","language","text"}`,
 *   `{"type":"chat","userId","userName","timestamp","text"}`,
 *   `{"type":"skipped","media":{"video":12}}` after frames were skipped for this consumer;
 * - binary (audio, video, deskshare): 4-byte big-endian header length, the UTF-8 JSON header
 *   `{"type","userId","userName","timestamp"}`, then the frame's bytes exactly as Zoom sent them.
 *
 * A consumer never slows ingest: while its socket holds more than `maxBufferedBytes` unsent,
 * its frames are skipped and counted (events are kept); a consumer still that slow after
 * `slowTimeoutMs` is disconnected with close code 4008. When the stream ends: 1000.
 */
export interface LiveHubOptions {
  readonly adminToken: string | undefined;
  /** Slows repeated 401s per address; shared with the admin API. */
  readonly authFailures?: AuthFailureLimiter;
  /** Read-only bearer token (`CONSUMER_TOKEN`), accepted like `adminToken`. */
  readonly consumerToken?: string | undefined;
  readonly streams: {
    /** Starts delivery for an active stream; false when the stream is not active here. */
    subscribe(rtmsStreamId: string, subscriptionId: number, kinds: readonly MediaKind[]): boolean;
    unsubscribe(rtmsStreamId: string, subscriptionId: number): void;
  };
  readonly logger: Logger;
  /** Unsent bytes a consumer may hold before its frames are skipped. Default 1 MiB. */
  readonly maxBufferedBytes?: number;
  /** How long a consumer may keep skipping before it is disconnected, ms. Default 10 000. */
  readonly slowTimeoutMs?: number;
}

/** Close code for a consumer too slow to keep up. */
export const LIVE_CLOSE_TOO_SLOW = 4008;

interface Subscriber {
  readonly id: number;
  readonly socket: WebSocket;
  readonly kinds: ReadonlySet<MediaKind>;
  /** Frames skipped since the last `skipped` notice, by kind. */
  skipped: Partial<Record<MediaKind, number>>;
  /** When skipping started, ms epoch; undefined while keeping up. */
  slowSince: number | undefined;
}

export class LiveHub {
  readonly #auth: TokenAccess;
  readonly #streams: LiveHubOptions['streams'];
  readonly #logger: Logger;
  readonly #maxBufferedBytes: number;
  readonly #slowTimeoutMs: number;
  readonly #wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 4096 });
  readonly #byStream = new Map<string, Map<number, Subscriber>>();
  #nextId = 1;
  /** Frames skipped for slow consumers since start, by kind (for metrics). */
  readonly skippedTotal: Record<MediaKind, number> = { audio: 0, video: 0, deskshare: 0, transcript: 0, chat: 0 };
  /** Consumers disconnected for being too slow since start (for metrics). */
  slowDisconnects = 0;

  constructor(options: LiveHubOptions) {
    this.#auth = new TokenAccess(options);
    this.#streams = options.streams;
    this.#logger = options.logger.child({ component: 'live' });
    this.#maxBufferedBytes = options.maxBufferedBytes ?? 1024 * 1024;
    this.#slowTimeoutMs = options.slowTimeoutMs ?? 10_000;
  }

  get subscriberCount(): number {
    let count = 0;
    for (const subscribers of this.#byStream.values()) count += subscribers.size;
    return count;
  }

  /** Handles an HTTP upgrade; false when the path is not a live route (the caller answers 404). */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const match = /^\/streams\/([^/]+)\/live$/.exec(url.pathname);
    if (match === null) return false;
    const refusal = this.#auth.check(request.headers.authorization, 'read', request.socket.remoteAddress);
    if (refusal !== undefined) return refuseAccess(socket, refusal);
    let rtmsStreamId: string;
    try {
      rtmsStreamId = decodeURIComponent(match[1] ?? '');
    } catch {
      return refuse(socket, 400, 'path: invalid percent-encoding');
    }
    const requested = (url.searchParams.get('media') ?? 'audio,video,deskshare,transcript,chat')
      .split(',')
      .map((kind) => kind.trim())
      .filter(Boolean);
    const unknown = requested.filter((kind) => !(MEDIA_KINDS as readonly string[]).includes(kind));
    if (unknown.length > 0) return refuse(socket, 400, `media: unknown kinds ${unknown.join(', ')}; expected any of ${MEDIA_KINDS.join(', ')}`);
    const kinds = requested as MediaKind[];
    const id = this.#nextId++;
    if (!this.#streams.subscribe(rtmsStreamId, id, kinds)) return refuse(socket, 404, 'no active stream with that id');

    this.#wss.handleUpgrade(request, socket, head, (ws) => {
      const subscriber: Subscriber = { id, socket: ws, kinds: new Set(kinds), skipped: {}, slowSince: undefined };
      let subscribers = this.#byStream.get(rtmsStreamId);
      if (subscribers === undefined) this.#byStream.set(rtmsStreamId, (subscribers = new Map<number, Subscriber>()));
      subscribers.set(id, subscriber);
      ws.on('error', () => ws.terminate());
      ws.on('close', () => this.#remove(rtmsStreamId, id));
      ws.send(JSON.stringify({ type: 'hello', rtmsStreamId, media: kinds }));
      this.#logger.info({ rtmsStreamId, subscriptionId: id, media: kinds }, 'live consumer connected');
    });
    return true;
  }

  /** Fans a batch out to the stream's consumers. */
  deliver(batch: LiveBatch): void {
    const subscribers = this.#byStream.get(batch.rtmsStreamId);
    if (subscribers === undefined) return;
    const payload = Buffer.from(batch.payload);
    const now = Date.now();
    for (const subscriber of subscribers.values()) {
      for (const item of batch.items) this.#send(subscriber, item, payload);
      this.#checkSlow(batch.rtmsStreamId, subscriber, now);
    }
  }

  /** The stream finished: its consumers get a normal close. */
  streamEnded(rtmsStreamId: string): void {
    for (const subscriber of this.#byStream.get(rtmsStreamId)?.values() ?? []) subscriber.socket.close(1000, 'stream ended');
    this.#byStream.delete(rtmsStreamId);
  }

  /** Disconnects every consumer (shutdown). */
  close(): void {
    for (const subscribers of this.#byStream.values()) for (const subscriber of subscribers.values()) subscriber.socket.close(1001, 'shutting down');
    this.#byStream.clear();
    this.#wss.close();
  }

  #send(subscriber: Subscriber, item: LiveItem, payload: Buffer): void {
    if (item.type === 'event') {
      subscriber.socket.send(JSON.stringify({ type: 'event', event: item.event }));
      return;
    }
    if (!subscriber.kinds.has(item.type)) return;
    if (subscriber.socket.bufferedAmount > this.#maxBufferedBytes) {
      subscriber.skipped[item.type] = (subscriber.skipped[item.type] ?? 0) + 1;
      this.skippedTotal[item.type] += 1;
      return;
    }
    const data = payload.subarray(item.offset, item.offset + item.length);
    if (item.type === 'transcript' || item.type === 'chat') {
      const { offset: _offset, length: _length, ...fields } = item;
      subscriber.socket.send(JSON.stringify({ ...fields, text: data.toString('utf8') }));
      return;
    }
    const header = Buffer.from(JSON.stringify({ type: item.type, userId: item.userId, userName: item.userName, timestamp: item.timestamp }));
    const prefix = Buffer.allocUnsafe(4);
    prefix.writeUInt32BE(header.length, 0);
    subscriber.socket.send(Buffer.concat([prefix, header, data]), { binary: true });
  }

  #checkSlow(rtmsStreamId: string, subscriber: Subscriber, now: number): void {
    const skipping = Object.keys(subscriber.skipped).length > 0;
    if (!skipping) {
      subscriber.slowSince = undefined;
      return;
    }
    if (subscriber.socket.bufferedAmount <= this.#maxBufferedBytes) {
      // Caught up: tell the consumer what it missed, then carry on.
      subscriber.socket.send(JSON.stringify({ type: 'skipped', media: subscriber.skipped }));
      subscriber.skipped = {};
      subscriber.slowSince = undefined;
      return;
    }
    subscriber.slowSince ??= now;
    if (now - subscriber.slowSince >= this.#slowTimeoutMs) {
      this.slowDisconnects += 1;
      this.#logger.warn({ rtmsStreamId, subscriptionId: subscriber.id, skipped: subscriber.skipped }, 'live consumer too slow; disconnecting');
      subscriber.socket.close(LIVE_CLOSE_TOO_SLOW, 'consumer too slow');
      // A consumer that does not read does not read the close frame either.
      setTimeout(() => subscriber.socket.terminate(), 2000).unref();
      this.#remove(rtmsStreamId, subscriber.id);
    }
  }

  #remove(rtmsStreamId: string, id: number): void {
    const subscribers = this.#byStream.get(rtmsStreamId);
    if (subscribers?.delete(id) !== true) return;
    if (subscribers.size === 0) this.#byStream.delete(rtmsStreamId);
    this.#streams.unsubscribe(rtmsStreamId, id);
  }
}

const REFUSALS = {
  400: { code: 'PATH_INVALID', text: 'Bad Request' },
  401: { code: 'ADMIN_UNAUTHORIZED', text: 'Unauthorized' },
  404: { code: 'STREAM_NOT_FOUND', text: 'Not Found' },
  429: { code: 'ADMIN_RATE_LIMITED', text: 'Too Many Requests' },
} as const;

/** Answers an upgrade request with a plain HTTP error and closes the socket. */
export function refuse(socket: Duplex, status: keyof typeof REFUSALS, reason: string, headers: Record<string, string> = {}): true {
  const body = JSON.stringify({ error: REFUSALS[status].code, reason });
  const lines = [
    `HTTP/1.1 ${status} ${REFUSALS[status].text}`,
    'content-type: application/json; charset=utf-8',
    `content-length: ${Buffer.byteLength(body)}`,
    'connection: close',
    ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
  ];
  socket.end(`${lines.join('\r\n')}\r\n\r\n${body}`);
  return true;
}

/** Answers an upgrade whose bearer token does not grant reading: 401, or 429 with `retry-after`. */
export function refuseAccess(socket: Duplex, refusal: AccessRefusal): true {
  if (refusal.status === 429) return refuse(socket, 429, refusal.reason, { 'retry-after': String(refusal.retryAfterSeconds ?? 1) });
  return refuse(socket, 401, refusal.reason, { 'www-authenticate': refusal.challenge });
}
