import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/** Why a connection was closed by the cap: to make room (the longest-idle one), or refused because every open one had a request in flight. */
export type ConnectionDropReason = 'idle_evicted' | 'all_busy';
export const CONNECTION_DROP_REASONS: readonly ConnectionDropReason[] = ['idle_evicted', 'all_busy'];

/**
 * Caps the HTTP listener's open connections, so that clients who open sockets and send
 * nothing (each holds a descriptor until `requestTimeout` plus Node's 30 s check) cannot take
 * the descriptors the sinks and RTMS sockets need. A new connection past the cap closes the
 * connection that has been idle longest (no request in flight: never sent one, sent half
 * its headers, or a keep-alive socket between requests), so a genuine webhook still gets
 * in; only when every open connection is mid-request is the newcomer closed instead.
 * Upgraded sockets (live consumers, authenticated) count but are never closed here.
 */
export class ConnectionLimiter {
  readonly #max: number;
  /** Connections without a request in flight, longest idle first (Set order is insertion order). */
  readonly #idle = new Set<Socket>();
  /** Requests in flight per connection; an upgraded socket is busy for good. */
  readonly #busy = new Map<Socket, number>();
  readonly #dropped: Record<ConnectionDropReason, number> = { idle_evicted: 0, all_busy: 0 };
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
    });
    if (this.open >= this.#max) {
      const longestIdle = this.#idle.values().next();
      if (longestIdle.done === true) {
        this.#drop('all_busy');
        socket.destroy();
        return;
      }
      this.#idle.delete(longestIdle.value);
      longestIdle.value.destroy();
      this.#drop('idle_evicted');
    }
    this.#idle.add(socket);
  }

  /** A request has arrived on `socket`; it stays busy until `response` closes. */
  requestStarted(socket: Socket, response: ServerResponse): void {
    if (!this.#idle.delete(socket) && !this.#busy.has(socket)) return;
    this.#busy.set(socket, (this.#busy.get(socket) ?? 0) + 1);
    response.once('close', () => {
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
    this.#busy.set(socket, Number.POSITIVE_INFINITY);
  }

  #drop(reason: ConnectionDropReason): void {
    this.#dropped[reason] += 1;
    this.#onDrop(reason, this.#dropped.idle_evicted + this.#dropped.all_busy);
  }
}
