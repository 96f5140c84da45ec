import WebSocket, { type RawData } from 'ws';
import { systemClock, type Clock } from '../clock.ts';
import { ConnectorError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { certificateRefusal } from './certificateRefusal.ts';
import { MessageType } from './codes.ts';
import { assertRtmsUrlAllowed, type HostAllowList } from './hostAllowList.ts';
import { numberField } from './messageFields.ts';

/** A parsed RTMS message: a JSON object with an integer `msg_type`. */
export interface RtmsMessage {
  readonly msg_type: number;
  readonly [field: string]: unknown;
}

export type MalformedFrameReason = 'binary_frame' | 'invalid_json' | 'no_msg_type';

export interface SocketClosed {
  readonly code: number;
  readonly reason: string;
  /** True when we closed it (stop, teardown), false when it was lost. */
  readonly byUs: boolean;
  /**
   * Why it was lost: `closed` by the peer, `silence` (no keep-alive or data), `error`;
   * `too_big` (a message over `maxPayloadBytes`) and `protocol_error` (a frame breaking the
   * WebSocket protocol) when we closed it for that, and then `code` is the code we sent
   * (1009, 1002, 1007; 1001 for `silence`), not the 1006 a peer that never answers the close would leave.
   */
  readonly cause: 'closed' | 'silence' | 'error' | 'local' | 'too_big' | 'protocol_error';
}

export interface RtmsSocketOptions {
  readonly url: string;
  /** Hosts `url` may name; anything else is refused before a connection is attempted. */
  readonly allowedHosts: HostAllowList;
  /** For logs and errors: `signaling`, `media:audio`, ... */
  readonly channel: string;
  /** Deadline for the TCP/TLS/WebSocket open, ms. */
  readonly connectTimeoutMs: number;
  /** A socket that receives nothing (not even a keep-alive) for this long is lost, ms. */
  readonly silenceTimeoutMs: number;
  /** Largest accepted message, bytes (`RTMS_MAX_MESSAGE_BYTES`); a bigger one closes the socket with 1009. */
  readonly maxPayloadBytes: number;
  readonly onMessage: (message: RtmsMessage, wireBytes: number) => void;
  /** A frame that is not a JSON object with an integer msg_type; counted and skipped. */
  readonly onMalformed: (reason: MalformedFrameReason, wireBytes: number) => void;
  readonly onClose: (closed: SocketClosed) => void;
  /** Called for each KEEP_ALIVE_REQ answered, with the request's server timestamp (ms) if numeric. */
  readonly onKeepAlive?: (serverTimestamp: number | undefined) => void;
  readonly logger: Logger;
  readonly clock?: Clock;
}

/**
 * One RTMS WebSocket (signaling or media). Owns what both kinds share: JSON framing,
 * answering KEEP_ALIVE_REQ with KEEP_ALIVE_RESP, a silence watchdog, and awaiting a
 * specific reply (handshakes). `onClose` fires exactly once.
 */
export class RtmsSocket {
  readonly #options: RtmsSocketOptions;
  readonly #clock: Clock;
  readonly #ws: WebSocket;
  #closedByUs = false;
  #closeCause: SocketClosed['cause'] = 'closed';
  #closeNotified = false;
  /** The close code we sent because the peer broke the protocol (ws closes on its own then). */
  #sentCloseCode: number | undefined;
  #silenceTimer: NodeJS.Timeout | undefined;
  #lastReceivedAt: number;
  #waiters = new Map<number, { resolve: (message: RtmsMessage) => void; reject: (error: Error) => void }>();
  #markClosed!: () => void;
  /** Settles once the socket is closed, whoever closed it. */
  readonly closed: Promise<void> = new Promise((resolve) => (this.#markClosed = resolve));

  private constructor(options: RtmsSocketOptions, ws: WebSocket) {
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.#ws = ws;
    this.#lastReceivedAt = this.#clock.now();
  }

  /**
   * Opens the socket; rejects with a retryable `RTMS_CONNECTION_FAILED` on failure or abort,
   * a final `RTMS_HOST_NOT_ALLOWED` (nothing opened) for a URL outside `allowedHosts`, or a
   * final `RTMS_CERTIFICATE_REJECTED` for a wss:// server whose certificate is not trusted.
   */
  static open(options: RtmsSocketOptions, signal?: AbortSignal): Promise<RtmsSocket> {
    try {
      assertRtmsUrlAllowed(options.url, options.allowedHosts, options.channel);
    } catch (error) {
      return Promise.reject(error);
    }
    const ws = new WebSocket(options.url, {
      perMessageDeflate: false,
      handshakeTimeout: options.connectTimeoutMs,
      maxPayload: options.maxPayloadBytes,
    });
    const socket = new RtmsSocket(options, ws);
    return new Promise((resolve, reject) => {
      const fail = (cause: unknown): void => {
        signal?.removeEventListener('abort', onAbort);
        ws.removeAllListeners();
        ws.on('error', () => {});
        ws.terminate();
        const refusal = certificateRefusal(cause);
        if (refusal !== undefined) {
          const message = `${options.channel} server certificate not trusted (${refusal}): ${describe(cause)}; a private CA must be given in NODE_EXTRA_CA_CERTS`;
          reject(new ConnectorError('RTMS_CERTIFICATE_REJECTED', message, { retryable: false, cause }));
          return;
        }
        reject(new ConnectorError('RTMS_CONNECTION_FAILED', `${options.channel} connection failed: ${describe(cause)}`, { retryable: true, cause }));
      };
      const onAbort = (): void => fail(signal?.reason ?? new Error('aborted'));
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      ws.once('error', fail);
      ws.once('open', () => {
        signal?.removeEventListener('abort', onAbort);
        ws.off('error', fail);
        socket.#attach();
        resolve(socket);
      });
    });
  }

  get channel(): string {
    return this.#options.channel;
  }

  get isOpen(): boolean {
    return this.#ws.readyState === WebSocket.OPEN;
  }

  send(message: RtmsMessage): void {
    if (this.#ws.readyState === WebSocket.OPEN) this.#ws.send(JSON.stringify(message));
  }

  /** Sends `message` and resolves with the first message of type `replyType`. */
  request(message: RtmsMessage, replyType: number, timeoutMs: number, signal?: AbortSignal): Promise<RtmsMessage> {
    const reply = this.expect(replyType, timeoutMs, signal);
    this.send(message);
    return reply;
  }

  /** Resolves with the next message of type `replyType`; rejects on timeout, abort or close. */
  expect(replyType: number, timeoutMs: number, signal?: AbortSignal): Promise<RtmsMessage> {
    return new Promise((resolve, reject) => {
      const settle = (): void => {
        this.#clock.clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.#waiters.delete(replyType);
      };
      const timer = this.#clock.setTimeout(() => {
        settle();
        reject(new ConnectorError('RTMS_CONNECTION_FAILED', `${this.channel}: no reply (msg_type ${replyType}) within ${timeoutMs} ms`, { retryable: true }));
      }, timeoutMs);
      const onAbort = (): void => {
        settle();
        reject(new ConnectorError('RTMS_CONNECTION_FAILED', `${this.channel}: aborted while waiting for msg_type ${replyType}`, { retryable: true }));
      };
      // An already aborted signal never fires 'abort'.
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiters.set(replyType, {
        resolve: (message) => {
          settle();
          resolve(message);
        },
        reject: (error) => {
          settle();
          reject(error);
        },
      });
    });
  }

  /** Stops reading from the socket so TCP pushes back on the server (backpressure). */
  pause(): void {
    this.#ws.pause();
  }

  resume(): void {
    this.#ws.resume();
  }

  get isPaused(): boolean {
    return this.#ws.isPaused;
  }

  /** Graceful close; `onClose` reports `byUs: true`. Idempotent. */
  close(code = 1000, reason = ''): void {
    this.#closedByUs = true;
    this.#closeCause = 'local';
    if (this.#ws.readyState === WebSocket.OPEN || this.#ws.readyState === WebSocket.CONNECTING) {
      this.#ws.close(code, reason);
      // A peer that never answers the close frame must not keep the socket alive.
      const timer = this.#clock.setTimeout(() => this.#ws.terminate(), 2000);
      this.#ws.once('close', () => this.#clock.clearTimeout(timer));
    }
  }

  /** Immediate teardown without a close handshake. Idempotent. */
  terminate(): void {
    this.#closedByUs = true;
    this.#closeCause = 'local';
    this.#ws.terminate();
  }

  #attach(): void {
    this.#ws.on('message', (data: RawData, isBinary: boolean) => this.#onData(data, isBinary));
    this.#ws.on('error', (error) => {
      this.#options.logger.debug({ channel: this.channel, err: error.message }, 'rtms socket error');
      if (this.#closedByUs) return;
      const sent = closeSentFor(error);
      this.#closeCause = sent?.cause ?? 'error';
      if (sent === undefined) return;
      // ws has sent this close code and stopped reading; a peer that never answers the close
      // would keep the socket (and the rejoin) waiting for ws's 30 s close timeout.
      this.#sentCloseCode = sent.code;
      const timer = this.#clock.setTimeout(() => this.#ws.terminate(), 1000);
      this.#ws.once('close', () => this.#clock.clearTimeout(timer));
    });
    this.#ws.on('close', (code, reason) => this.#onClose(code, reason.toString()));
    this.#armSilenceWatchdog();
  }

  #onData(data: RawData, isBinary: boolean): void {
    this.#lastReceivedAt = this.#clock.now();
    const bytes = rawLength(data);
    if (isBinary) {
      this.#options.onMalformed('binary_frame', bytes);
      return;
    }
    let message: unknown;
    try {
      message = JSON.parse(data.toString());
    } catch {
      this.#options.onMalformed('invalid_json', bytes);
      return;
    }
    if (message === null || typeof message !== 'object' || !Number.isInteger((message as { msg_type?: unknown }).msg_type)) {
      this.#options.onMalformed('no_msg_type', bytes);
      return;
    }
    const rtmsMessage = message as RtmsMessage;
    if (rtmsMessage.msg_type === MessageType.KEEP_ALIVE_REQ) {
      this.send({ msg_type: MessageType.KEEP_ALIVE_RESP, timestamp: rtmsMessage['timestamp'] });
      this.#options.onKeepAlive?.(numberField(rtmsMessage, 'timestamp'));
    }
    const waiter = this.#waiters.get(rtmsMessage.msg_type);
    if (waiter !== undefined) {
      waiter.resolve(rtmsMessage);
      return;
    }
    this.#options.onMessage(rtmsMessage, bytes);
  }

  #armSilenceWatchdog(): void {
    const limit = this.#options.silenceTimeoutMs;
    const check = (): void => {
      if (this.#clock.now() - this.#lastReceivedAt < limit) {
        this.#silenceTimer = this.#clock.setTimeout(check, limit - (this.#clock.now() - this.#lastReceivedAt));
        return;
      }
      // Timers run before socket reads in a loop turn: a message already received by the
      // kernel must be read (and counted) before the socket is called silent.
      setImmediate(() => {
        const quietFor = this.#clock.now() - this.#lastReceivedAt;
        if (quietFor < limit || this.#ws.readyState !== WebSocket.OPEN) {
          if (this.#ws.readyState === WebSocket.OPEN) this.#silenceTimer = this.#clock.setTimeout(check, limit - quietFor);
          return;
        }
        this.#options.logger.warn({ channel: this.channel, quietForMs: quietFor }, 'rtms socket silent past the keep-alive limit');
        this.#closeCause = 'silence';
        this.#closeSilent();
      });
    };
    this.#silenceTimer = this.#clock.setTimeout(check, limit);
  }

  /**
   * A silent peer may only be quiet, not gone: a terminate would discard whatever it writes
   * before it sees our FIN, frames it believes delivered. A close frame instead tells it to stop,
   * and ws keeps reading (and we keep counting) everything it sent before it saw that frame.
   * A peer that is really gone never answers: terminated after SILENT_CLOSE_DEADLINE_MS.
   */
  #closeSilent(): void {
    this.#sentCloseCode = SILENT_CLOSE_CODE;
    this.#ws.resume();
    this.#ws.close(SILENT_CLOSE_CODE, 'keep-alive timeout');
    const timer = this.#clock.setTimeout(() => this.#ws.terminate(), SILENT_CLOSE_DEADLINE_MS);
    this.#ws.once('close', () => this.#clock.clearTimeout(timer));
    // Reported now, as the loss it is: the rejoin starts at once (before a webhook Zoom sends
    // when it sees our close), while what the peer wrote meanwhile is still read and counted.
    this.#notifyClosed(SILENT_CLOSE_CODE, 'keep-alive timeout');
  }

  #notifyClosed(code: number, reason: string): void {
    if (this.#closeNotified) return;
    this.#closeNotified = true;
    this.#options.onClose({ code: this.#sentCloseCode ?? code, reason, byUs: this.#closedByUs, cause: this.#closedByUs ? 'local' : this.#closeCause });
  }

  #onClose(code: number, reason: string): void {
    this.#markClosed();
    if (this.#silenceTimer !== undefined) this.#clock.clearTimeout(this.#silenceTimer);
    const error = new ConnectorError('RTMS_CONNECTION_LOST', `${this.channel} closed (${code}${reason ? ` ${reason}` : ''})`, { retryable: true });
    for (const waiter of [...this.#waiters.values()]) waiter.reject(error);
    this.#notifyClosed(code, reason);
  }
}

/** Close code sent to a peer silent past the keep-alive limit (1001, going away). */
export const SILENT_CLOSE_CODE = 1001;
/** How long a silent peer has to answer our close frame before the socket is terminated, ms. */
export const SILENT_CLOSE_DEADLINE_MS = 1000;

/** ws's receiver errors (it closes the socket with their status code): which code, and why. */
function closeSentFor(error: Error): { code: number; cause: 'too_big' | 'protocol_error' } | undefined {
  const code = (error as NodeJS.ErrnoException).code;
  if (typeof code !== 'string' || !code.startsWith('WS_ERR_')) return undefined;
  if (code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH' || code === 'WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH' || code === 'WS_ERR_TOO_MANY_BUFFERED_PARTS') {
    return { code: 1009, cause: 'too_big' };
  }
  return { code: code === 'WS_ERR_INVALID_UTF8' ? 1007 : 1002, cause: 'protocol_error' };
}

function rawLength(data: RawData): number {
  if (Array.isArray(data)) return data.reduce((sum, chunk) => sum + chunk.length, 0);
  return data instanceof ArrayBuffer ? data.byteLength : data.length;
}

function describe(cause: unknown): string {
  return cause instanceof Error ? cause.message : String(cause);
}
