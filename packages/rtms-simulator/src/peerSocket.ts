import type { Logger } from 'pino';
import type { WebSocket } from 'ws';
import { type MediaKind, MessageType } from './connectorShared.ts';
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
 * keep-alive bookkeeping (docs/protocol.md#keep-alive), and delivery tracking for re-queueable media (a message
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
  /** Something other than a keep-alive was written since the last `keepAlive()` call. */
  #wroteData = false;
  /** When data was last seen written by `keepAlive()` (ms epoch), for the `idle` mode. */
  #lastDataAt: number | undefined;
  /** Chaos: until this instant (ms epoch) nothing is written; messages given to `send` are held. */
  #stalledUntil: number | undefined;
  readonly #held: Array<{ readonly text: string; readonly onWritten: (() => void) | undefined }> = [];
  /** Chaos: no KEEP_ALIVE_REQ before this instant (ms epoch). */
  #keepAlivesSuppressedUntil: number | undefined;
  /** Chaos: the client will drop this socket (a frame above its payload limit was sent); write nothing more. */
  #doomed = false;

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

  /**
   * Sends a JSON message; `onWritten` runs once the bytes reached the socket. While the
   * socket is stalled the message is held and written, in order, when the stall ends.
   */
  send(message: object, onWritten?: () => void): void {
    this.sendText(JSON.stringify(message), onWritten);
  }

  /** Sends text exactly as given (chaos: malformed or truncated JSON); held during a stall like `send`. */
  sendText(text: string, onWritten?: () => void): void {
    if (!this.isOpen || this.#doomed) return;
    if (this.#stalledUntil !== undefined) {
      this.#held.push({ text, onWritten });
      return;
    }
    this.#wroteData = true;
    this.#ws.send(text, (error) => {
      if (error === undefined || error === null) onWritten?.();
    });
  }

  /**
   * Writes text now, bypassing a stall (the owner decides), and reports whether `ws` wrote it.
   * Resolves false when the socket is not open or the write failed.
   */
  sendTextNow(text: string): Promise<boolean> {
    if (!this.isOpen || this.#doomed) return Promise.resolve(false);
    this.#wroteData = true;
    return new Promise((resolve) => this.#ws.send(text, (error) => resolve(error === undefined || error === null)));
  }

  /** The socket is stalled (chaos), doomed, or otherwise cannot take media now. */
  get isStalled(): boolean {
    return this.#stalledUntil !== undefined || this.#doomed;
  }

  /** When the current stall ends, ms epoch. */
  get stalledUntil(): number | undefined {
    return this.#stalledUntil;
  }

  /**
   * Chaos: write nothing at all, keep-alive requests included, until `until` (ms epoch).
   * Messages sent meanwhile are held and written when `resume()` is called. Inbound
   * messages are still processed.
   */
  stall(until: number): void {
    this.#stalledUntil = Math.max(until, this.#stalledUntil ?? 0);
  }

  /**
   * Ends a stall: held messages are written in order and the keep-alive schedule restarts
   * one interval from `now` with a clean miss count (the silence was ours, not the client's).
   */
  resume(now: number, keepAliveIntervalMs: number): void {
    if (this.#stalledUntil === undefined) return;
    this.#stalledUntil = undefined;
    for (const { text, onWritten } of this.#held.splice(0)) this.sendText(text, onWritten);
    this.#restartKeepAlive(now, keepAliveIntervalMs);
  }

  /**
   * Chaos: read nothing from the client for `ms` (a busy or laggy front end): its messages,
   * close frame included, wait in the network until then. No keep-alives are asked meanwhile,
   * so the client's unread answers do not count as misses.
   */
  stallReads(now: number, ms: number): void {
    this.suppressKeepAlives(now + ms);
    this.#ws.pause();
    setTimeout(() => this.#ws.resume(), ms).unref();
  }

  /** Chaos: send no KEEP_ALIVE_REQ until `until` (ms epoch); data keeps flowing. */
  suppressKeepAlives(until: number): void {
    this.#keepAlivesSuppressedUntil = Math.max(until, this.#keepAlivesSuppressedUntil ?? 0);
  }

  /** When keep-alive suppression ends, ms epoch. */
  get keepAlivesSuppressedUntil(): number | undefined {
    return this.#keepAlivesSuppressedUntil;
  }

  /** Chaos: after a frame the client cannot accept, write nothing more; the client closes the socket. */
  doom(): void {
    this.#doomed = true;
    this.#held.length = 0;
  }

  #restartKeepAlive(now: number, intervalMs: number): void {
    if (this.#nextKeepAliveAt === undefined) return;
    this.#nextKeepAliveAt = now + intervalMs;
    this.#awaitingKeepAlive = false;
    this.#misses = 0;
  }

  /**
   * Sends a message whose payload must not be lost: `onDelivered(item)` runs once it is
   * written; if the socket dies first, `takeUndelivered()` returns it (in send order).
   * Returns false (and keeps nothing) when the socket is not open.
   */
  sendTracked(message: object, item: unknown, onDelivered: (item: unknown) => void): boolean {
    if (!this.isOpen || this.isStalled) return false;
    const entry: InflightEntry = { item, done: false };
    this.#inflight.push(entry);
    this.#wroteData = true;
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
   * miss; `missLimit` consecutive misses give 'timeout' (nothing is sent then). With `when`
   * 'idle', a request is due only once nothing else was written for `intervalMs` (data seen
   * by one call counts as written at that call's `now`: the scheduler's tick is the resolution).
   */
  keepAlive(now: number, intervalMs: number, missLimit: number, when: 'idle' | 'always' = 'always'): KeepAliveOutcome {
    if (this.#wroteData) {
      this.#wroteData = false;
      this.#lastDataAt = now;
    }
    if (this.#nextKeepAliveAt === undefined || !this.isOpen || this.isStalled) return 'idle';
    if (when === 'idle' && this.#lastDataAt !== undefined && now - this.#lastDataAt < intervalMs) {
      // Data flows: the next request, if the socket goes quiet, one interval after the last data.
      this.#nextKeepAliveAt = Math.max(this.#nextKeepAliveAt, this.#lastDataAt + intervalMs);
      return 'idle';
    }
    if (this.#keepAlivesSuppressedUntil !== undefined) {
      if (now < this.#keepAlivesSuppressedUntil) return 'idle';
      // Suppression over: the schedule restarts one interval from now with a clean miss count,
      // so the client is never blamed for a request that was never sent.
      this.#keepAlivesSuppressedUntil = undefined;
      this.#restartKeepAlive(now, intervalMs);
      return 'idle';
    }
    if (now < this.#nextKeepAliveAt) return 'idle';
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
    // The request itself is not data: it must not hold back the next one.
    this.#wroteData = false;
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
