import type { Logger } from 'pino';
import type { WebSocket } from 'ws';
import type { MediaKind } from '../config.ts';
import { MessageType } from '../rtms/codes.ts';
import { Deque } from './deque.ts';

/** Which of the simulator's WebSocket endpoints a client connected to. */
export type Channel = 'signaling' | 'media';

/** A message from the client: a parsed JSON object, or `undefined` when the frame was not one. */
export type InboundMessage = Record<string, unknown> | undefined;

interface InflightEntry {
  readonly item: unknown;
  done: boolean;
}

export type KeepAliveOutcome = 'idle' | 'sent' | 'missed' | 'timeout';

let nextSocketId = 1;

/**
 * One client WebSocket as the simulator sees it: JSON in and out, who closed it, the
 * keep-alive bookkeeping of §2.8, and delivery tracking for re-queueable media (a message
 * counts as delivered once `ws` wrote it to the socket; the rest is handed back when the
 * socket dies so it can be resent after the client rejoins).
 */
export class PeerSocket {
  readonly id = nextSocketId++;
  readonly channel: Channel;
  /** Failover generation of the URL the client connected to (1 = the original server). */
  readonly generation: number;
  /** Media carried by this socket once its handshake succeeded. */
  kinds: readonly MediaKind[] = [];
  /** The socket was negotiated with `media_type` 32 (all). */
  all = false;
  /** Set by the owner; receives every inbound message in order. */
  onMessage: (message: InboundMessage) => void = () => {};
  /** Set by the owner; `byServer` is true when the simulator closed or terminated it. */
  onClose: (byServer: boolean) => void = () => {};

  readonly #ws: WebSocket;
  readonly #logger: Logger;
  readonly #inflight = new Deque<InflightEntry>();
  readonly #closed: Promise<void>;
  #isClosed = false;
  #closedByServer = false;
  #closeTimer: NodeJS.Timeout | undefined;
  #nextKeepAliveAt: number | undefined;
  #awaitingKeepAlive = false;
  #lastKeepAliveTimestamp = 0;
  #misses = 0;

  constructor(options: { ws: WebSocket; channel: Channel; generation: number; logger: Logger }) {
    this.#ws = options.ws;
    this.channel = options.channel;
    this.generation = options.generation;
    this.#logger = options.logger;
    this.#closed = new Promise((resolve) => {
      this.#ws.on('close', () => {
        this.#isClosed = true;
        if (this.#closeTimer !== undefined) clearTimeout(this.#closeTimer);
        this.#closeTimer = undefined;
        resolve();
        this.onClose(this.#closedByServer);
      });
    });
    this.#ws.on('error', (error) => this.#logger.debug({ err: error, channel: this.channel }, 'client socket error'));
    this.#ws.on('message', (data, isBinary) => {
      if (this.#isClosed) return;
      this.onMessage(isBinary ? undefined : parseObject(data.toString()));
    });
  }

  /** The socket accepts writes. */
  get isOpen(): boolean {
    return !this.#isClosed && this.#ws.readyState === this.#ws.OPEN;
  }

  /** Bytes queued in `ws` but not yet written to the network. */
  get bufferedAmount(): number {
    return this.#ws.bufferedAmount;
  }

  /** Resolves once the socket is closed, whoever closed it. */
  whenClosed(): Promise<void> {
    return this.#closed;
  }

  /** Sends a JSON message; `onWritten` runs once the bytes reached the socket. */
  send(message: object, onWritten?: () => void): void {
    if (!this.isOpen) return;
    this.#ws.send(JSON.stringify(message), (error) => {
      if (error === undefined || error === null) onWritten?.();
    });
  }

  /**
   * Sends a message whose payload must not be lost: `onDelivered(item)` runs once it is
   * written; if the socket dies first, `takeUndelivered()` returns it (in send order).
   * Returns false (and keeps nothing) when the socket is not open.
   */
  sendTracked(message: object, item: unknown, onDelivered: (item: unknown) => void): boolean {
    if (!this.isOpen) return false;
    const entry: InflightEntry = { item, done: false };
    this.#inflight.push(entry);
    this.#ws.send(JSON.stringify(message), (error) => {
      // After 'close' the undelivered items were already handed back for resending.
      if (this.#isClosed || (error !== undefined && error !== null)) return;
      entry.done = true;
      onDelivered(item);
      while (this.#inflight.peek()?.done === true) this.#inflight.shift();
    });
    return true;
  }

  /** Items given to `sendTracked` that were never written, in send order. Call after close. */
  takeUndelivered(): unknown[] {
    const items: unknown[] = [];
    for (let entry = this.#inflight.shift(); entry !== undefined; entry = this.#inflight.shift()) {
      if (!entry.done) items.push(entry.item);
    }
    return items;
  }

  /** Starts the keep-alive schedule: the first request goes out one interval from `now`. */
  startKeepAlive(now: number, intervalMs: number): void {
    this.#nextKeepAliveAt = now + intervalMs;
  }

  /**
   * Sends KEEP_ALIVE_REQ when due. An earlier request still unanswered at that moment is a
   * miss; `missLimit` consecutive misses give 'timeout' (nothing is sent then).
   */
  keepAlive(now: number, intervalMs: number, missLimit: number): KeepAliveOutcome {
    if (this.#nextKeepAliveAt === undefined || now < this.#nextKeepAliveAt || !this.isOpen) return 'idle';
    this.#nextKeepAliveAt = now + intervalMs;
    let outcome: KeepAliveOutcome = 'sent';
    if (this.#awaitingKeepAlive) {
      this.#misses += 1;
      if (this.#misses >= missLimit) return 'timeout';
      outcome = 'missed';
    }
    // Strictly increasing, so every request is distinguishable even within one ms.
    this.#lastKeepAliveTimestamp = Math.max(now, this.#lastKeepAliveTimestamp + 1);
    this.#awaitingKeepAlive = true;
    this.send({ msg_type: MessageType.KEEP_ALIVE_REQ, timestamp: this.#lastKeepAliveTimestamp });
    return outcome;
  }

  /** A KEEP_ALIVE_RESP arrived: the peer is alive, whichever request it echoes. */
  keepAliveAnswered(): void {
    this.#awaitingKeepAlive = false;
    this.#misses = 0;
  }

  /** Drops the connection without a close handshake, like a network failure. */
  terminate(): void {
    this.#closedByServer = true;
    if (!this.#isClosed) this.#ws.terminate();
  }

  /** Close handshake; terminates if the client has not answered within `timeoutMs` (default 2000). */
  close(code = 1000, reason = '', timeoutMs = 2000): Promise<void> {
    this.#closedByServer = true;
    if (!this.#isClosed && this.#closeTimer === undefined) {
      this.#ws.close(code, reason);
      this.#closeTimer = setTimeout(() => this.#ws.terminate(), timeoutMs);
    }
    return this.#closed;
  }
}

function parseObject(text: string): InboundMessage {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
