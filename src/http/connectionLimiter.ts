import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/**
 * Why a connection was closed by the cap: to make room, the longest-idle one
 * (`idle_evicted`) or else the oldest still sending its request body (`upload_evicted`); or
 * the newcomer, because every open one had a whole request being answered (`all_busy`).
 */
export type ConnectionDropReason = 'idle_evicted' | 'upload_evicted' | 'all_busy';
export const CONNECTION_DROP_REASONS: readonly ConnectionDropReason[] = ['idle_evicted', 'upload_evicted', 'all_busy'];

/**
 * Caps the HTTP listener's open connections, so that clients who open sockets and send
 * nothing (each holds a descriptor until `requestTimeout` plus Node's 30 s check) cannot take
 * the descriptors the sinks and RTMS sockets need. A new connection past the cap closes the
 * connection that has been idle longest (no request in flight: never sent one, sent half
 * its headers, or a keep-alive socket between requests), else the one that has been sending
 * a request body longest (Zoom's few hundred bytes arrive at once; a body dribbled in holds a
 * socket up to `requestTimeout`), so a genuine webhook still gets in. Only when every open
 * connection has a whole request being answered is the newcomer closed instead.
 * Upgraded sockets (live consumers, authenticated) count but are never closed here.
 */
export class ConnectionLimiter {
  readonly #max: number;
  /** Connections without a request in flight, longest idle first (Set order is insertion order). */
  readonly #idle = new Set<Socket>();
  /** Requests in flight per connection; an upgraded socket is busy for good. */
  readonly #busy = new Map<Socket, number>();
  /** Busy connections whose request body is still arriving, oldest first. */
  readonly #receiving = new Set<Socket>();
  readonly #dropped: Record<ConnectionDropReason, number> = { idle_evicted: 0, upload_evicted: 0, all_busy: 0 };
  readonly #onDrop: (reason: ConnectionDropReason, total: number) => void;

  constructor(options: { maxConnections: number; onDrop?: (reason: ConnectionDropReason, total: number) => void }) {
    if (!Number.isSafeInteger(options.maxConnections) || options.maxConnections < 1) {
      throw new RangeError('ConnectionLimiter: maxConnections must be a positive integer');
    }
    this.#max = options.maxConnections;
    this.#onDrop = options.onDrop ?? (() => {});
  }

  /** Connections open now. */
  get open(): number {
    return this.#idle.size + this.#busy.size;
  }

  /** Connections closed by the cap so far, by reason. */
  get dropped(): Readonly<Record<ConnectionDropReason, number>> {
    return { ...this.#dropped };
  }

  /** The server's `'connection'` event. */
  accept(socket: Socket): void {
    socket.once('close', () => {
      this.#idle.delete(socket);
      this.#busy.delete(socket);
      this.#receiving.delete(socket);
    });
    if (this.open >= this.#max) {
      const longestIdle = this.#idle.values().next().value;
      const longestUpload = this.#receiving.values().next().value;
      if (longestIdle !== undefined) {
        this.#idle.delete(longestIdle);
        longestIdle.destroy();
        this.#drop('idle_evicted');
      } else if (longestUpload !== undefined) {
        this.#receiving.delete(longestUpload);
        this.#busy.delete(longestUpload);
        longestUpload.destroy();
        this.#drop('upload_evicted');
      } else {
        this.#drop('all_busy');
        socket.destroy();
        return;
      }
    }
    this.#idle.add(socket);
  }

  /** A request has arrived on `socket`; it stays busy until `response` closes. */
  requestStarted(socket: Socket, request: IncomingMessage, response: ServerResponse): void {
    if (!this.#idle.delete(socket) && !this.#busy.has(socket)) return;
    this.#busy.set(socket, (this.#busy.get(socket) ?? 0) + 1);
    const declaresBody = request.headers['transfer-encoding'] !== undefined || Number(request.headers['content-length'] ?? 0) > 0;
    if (declaresBody && !request.complete) {
      this.#receiving.add(socket);
      request.once('end', () => this.#receiving.delete(socket));
    }
    response.once('close', () => {
      this.#receiving.delete(socket);
      const left = (this.#busy.get(socket) ?? 1) - 1;
      if (left > 0) {
        this.#busy.set(socket, left);
        return;
      }
      this.#busy.delete(socket);
      // Back of the queue: a keep-alive connection that just worked is idle the shortest.
      if (!socket.destroyed) this.#idle.add(socket);
    });
  }

  /** `socket` was upgraded (a live consumer): counted, never closed to make room. */
  upgraded(socket: Socket): void {
    if (!this.#idle.delete(socket) && !this.#busy.has(socket)) return;
    this.#receiving.delete(socket);
    this.#busy.set(socket, Number.POSITIVE_INFINITY);
  }

  #drop(reason: ConnectionDropReason): void {
    this.#dropped[reason] += 1;
    this.#onDrop(reason, this.#dropped.idle_evicted + this.#dropped.upload_evicted + this.#dropped.all_busy);
  }
}
