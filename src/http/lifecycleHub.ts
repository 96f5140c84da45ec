import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Logger } from '../logger.ts';
import type { StreamLifecycle, StreamLifecycleEntry } from '../supervisor/streamLifecycle.ts';
import type { AuthFailureLimiter } from './authFailureLimiter.ts';
import { LIVE_CLOSE_TOO_SLOW, refuseAccess } from './liveHub.ts';
import { TokenAccess } from './tokenAccess.ts';

/**
 * `GET /streams/live` (WebSocket upgrade, bearer `ADMIN_TOKEN` or `CONSUMER_TOKEN`): every
 * stream's lifecycle on this instance, live, so consumers find streams as they start
 * instead of polling `GET /streams`. Text messages, JSON (docs/redis-and-live-consumers.md#finding-streams):
 * `{"type":"hello","streams":[entry…]}` first (the streams active now, as `started`), then
 * `{"type":"stream", ...entry}` per change (`StreamLifecycleEntry`: event, rtmsStreamId,
 * product, entityId, reason, at).
 *
 * Entries are small and rare; a consumer holding more than `maxBufferedBytes` unsent is
 * not reading at all and is disconnected (4008).
 */
export class LifecycleHub {
  readonly #auth: TokenAccess;
  readonly #lifecycle: Pick<StreamLifecycle, 'on' | 'active'>;
  readonly #logger: Logger;
  readonly #maxBufferedBytes: number;
  readonly #wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 4096 });
  readonly #subscribers = new Set<WebSocket>();

  constructor(options: {
    adminToken: string | undefined;
    consumerToken?: string | undefined;
    /** Slows repeated 401s per address; shared with the admin API and the stream feeds. */
    authFailures?: AuthFailureLimiter;
    lifecycle: Pick<StreamLifecycle, 'on' | 'active'>;
    logger: Logger;
    /** Default 1 MiB. */
    maxBufferedBytes?: number;
  }) {
    this.#auth = new TokenAccess(options);
    this.#lifecycle = options.lifecycle;
    this.#logger = options.logger.child({ component: 'lifecycle-feed' });
    this.#maxBufferedBytes = options.maxBufferedBytes ?? 1024 * 1024;
    this.#lifecycle.on('entry', (entry) => this.#broadcast(entry));
  }

  get subscriberCount(): number {
    return this.#subscribers.size;
  }

  /** Handles an HTTP upgrade; false when the path is not `/streams/live`. */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    if (new URL(request.url ?? '/', 'http://localhost').pathname !== '/streams/live') return false;
    const refusal = this.#auth.check(request.headers.authorization, 'read', request.socket.remoteAddress);
    if (refusal !== undefined) return refuseAccess(socket, refusal);
    this.#wss.handleUpgrade(request, socket, head, (ws) => {
      // Synchronous from the snapshot to the subscription: no entry falls in between.
      ws.send(JSON.stringify({ type: 'hello', streams: this.#lifecycle.active() }));
      this.#subscribers.add(ws);
      ws.on('error', () => ws.terminate());
      ws.on('close', () => this.#subscribers.delete(ws));
      this.#logger.info({ subscribers: this.#subscribers.size }, 'lifecycle consumer connected');
    });
    return true;
  }

  /** Disconnects every consumer (shutdown). */
  close(): void {
    for (const ws of this.#subscribers) ws.close(1001, 'shutting down');
    this.#subscribers.clear();
    this.#wss.close();
  }

  #broadcast(entry: StreamLifecycleEntry): void {
    const message = JSON.stringify({ type: 'stream', ...entry });
    for (const ws of this.#subscribers) {
      if (ws.bufferedAmount > this.#maxBufferedBytes) {
        this.#logger.warn('lifecycle consumer not reading; disconnecting');
        ws.close(LIVE_CLOSE_TOO_SLOW, 'consumer too slow');
        setTimeout(() => ws.terminate(), 2000).unref();
        this.#subscribers.delete(ws);
        continue;
      }
      ws.send(message);
    }
  }
}
