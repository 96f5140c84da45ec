import type { ChildProcess } from 'node:child_process';
import type { Credentials } from '../../src/config.ts';

/**
 * The messages between the perf benchmark and its two helper processes (the load simulator,
 * forked by `loadSimulatorProcess.ts`, and the baseline client, forked by `clientUnderTest.ts`),
 * over Node's IPC channel. Each request carries an `id`; the child answers with
 * `{ type: 'reply', id, ... }`.
 */

/** Configuration of the load simulator, passed as JSON in `PERF_SIM_CONFIG`. */
export interface LoadSimulatorConfig {
  readonly credentials: Credentials;
  readonly webhookUrl: string;
  readonly seed: number;
  /** KEEP_ALIVE_REQ period, ms (default: the simulator's 10 000). */
  readonly keepAliveIntervalMs?: number;
  /** Scheduler period, ms (default: the simulator's 10). */
  readonly tickMs?: number;
  /**
   * Pad every video frame with trailing zero bytes to this size (Annex B allows them; the
   * simulator's `sendOversized`), to give the 160x90 fixture the byte rate of 720p H.264.
   */
  readonly videoFrameBytes?: number;
}

export type LoadSimulatorRequest =
  /** Starts `count` more streams (of which `withVideo` also carry video), spread over `spreadMs`; replies once every one is ready or failed. */
  | {
      readonly type: 'start';
      readonly id: number;
      readonly count: number;
      readonly withVideo: number;
      readonly spreadMs: number;
      readonly readyTimeoutMs: number;
    }
  | { readonly type: 'stats'; readonly id: number }
  | { readonly type: 'close'; readonly id: number };

/** Totals over every stream the load simulator started. */
export interface LoadSimulatorStats {
  /** ms epoch when the stats were taken. */
  readonly at: number;
  readonly streamsStarted: number;
  readonly streamsReady: number;
  readonly streamsEnded: number;
  /** Media messages written to client sockets, by kind. */
  readonly sent: { readonly audio: number; readonly video: number; readonly transcript: number; readonly chat: number; readonly deskshare: number };
  /** What could not be delivered in real time: backlog overflow (audio, text), pictures skipped because a socket was congested. */
  readonly dropped: { readonly audioPackets: number; readonly transcripts: number; readonly chats: number; readonly videoFrames: number };
  /** Media items waiting in the simulator's backlogs now (a client that does not keep up makes them grow). */
  readonly backlog: { readonly audio: number; readonly transcript: number };
  /** Keep-alive misses noticed by the simulator (a client too busy to answer). */
  readonly keepAliveMisses: number;
  /** Event-loop delay p99 of the simulator since the previous `stats`, seconds. */
  readonly eventLoopP99Seconds: number;
  /** Handshakes the simulator refused. */
  readonly handshakeRejections: number;
}

export type LoadSimulatorMessage =
  | { readonly type: 'listening'; readonly port: number; readonly signalingUrl: string }
  | {
      readonly type: 'reply';
      readonly id: number;
      readonly ok: true;
      readonly stats?: LoadSimulatorStats;
      readonly ready?: number;
      readonly failed?: number;
      readonly errors?: readonly string[];
    }
  | { readonly type: 'reply'; readonly id: number; readonly ok: false; readonly error: string };

/** Configuration of the baseline client, passed as JSON in `PERF_BASELINE_CONFIG`. */
export interface BaselineClientConfig {
  readonly clientId: string;
  readonly clientSecret: string;
  /** Media kinds to request, like the connector's RTMS_MEDIA. */
  readonly media: readonly ('audio' | 'video' | 'transcript' | 'chat' | 'deskshare')[];
  /** Audio packet interval to request, ms (RTMS_AUDIO_SEND_RATE_MS). */
  readonly audioSendRateMs: number;
}

export type BaselineRequest =
  /** Starts a new measurement window: latency histogram and event-loop delay are reset. */
  { readonly type: 'resetWindow'; readonly id: number } | { readonly type: 'stats'; readonly id: number };

export interface BaselineStats {
  readonly at: number;
  readonly streamsStarted: number;
  /** Streams whose media sockets are all up. */
  readonly streamsLive: number;
  readonly joinFailures: number;
  readonly socketsLost: number;
  /** Media messages received (cumulative), by kind. */
  readonly frames: { readonly audio: number; readonly video: number; readonly transcript: number; readonly chat: number; readonly deskshare: number };
  /** Messages that failed JSON.parse or base64 checks (cumulative). */
  readonly malformed: number;
  readonly keepAlivesAnswered: number;
  /**
   * Since the last `resetWindow`: latency (receipt − server timestamp, ms, both `Date.now()`
   * clocks like the connector's histogram) of audio and video frames, as sparse
   * `[milliseconds, count]` pairs; the last bucket (`LATENCY_MAX_MS`) holds everything above.
   */
  readonly latency: { readonly audio: ReadonlyArray<readonly [number, number]>; readonly video: ReadonlyArray<readonly [number, number]> };
  /** Event-loop delay p99 since the last `resetWindow`, seconds. */
  readonly eventLoopP99Seconds: number;
}

export type BaselineMessage =
  { readonly type: 'listening'; readonly port: number } | { readonly type: 'reply'; readonly id: number; readonly stats?: BaselineStats };

/** Largest latency the baseline's 1 ms histogram resolves, ms. */
export const LATENCY_MAX_MS = 60_000;

/** `Omit` applied to each member of a union. */
export type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;

/** Request/reply over a child's IPC channel. */
export class IpcClient<Req extends { readonly id: number }, Msg extends { readonly type: string }> {
  readonly #child: ChildProcess;
  readonly #pending = new Map<number, { resolve: (message: Msg) => void; reject: (error: Error) => void }>();
  #nextId = 1;

  constructor(child: ChildProcess) {
    this.#child = child;
    child.on('message', (message: Msg & { id?: number }) => {
      if (message.type !== 'reply' || message.id === undefined) return;
      const waiter = this.#pending.get(message.id);
      this.#pending.delete(message.id);
      waiter?.resolve(message);
    });
    child.once('exit', (code, signal) => {
      for (const waiter of this.#pending.values()) waiter.reject(new Error(`child exited (${code ?? signal}) with a request pending`));
      this.#pending.clear();
    });
  }

  request(body: WithoutId<Req>, timeoutMs = 120_000): Promise<Msg> {
    const id = this.#nextId++;
    return new Promise<Msg>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`IPC request ${JSON.stringify(body)} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(id, {
        resolve: (message) => {
          clearTimeout(timer);
          resolve(message);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      this.#child.send({ ...body, id });
    });
  }
}
