import { EventEmitter } from 'node:events';
import { createClient } from 'redis';
import { describeError } from '../errors.ts';
import { ClusterError } from './clusterError.ts';
import type { Logger } from '../logger.ts';

/** A node-redis client as `createClient()` makes it. */
export type RedisClient = ReturnType<typeof createClient>;

export interface RedisConnectionOptions {
  /** `REDIS_URL` (may carry a password: never logged). */
  readonly url: string;
  /** Client name shown by `CLIENT LIST`, e.g. `rtms-connector:<replica>`. */
  readonly name: string;
  readonly logger: Logger;
  /**
   * Deadline of every command, ms. A command that gets no answer in time rejects, so a hung
   * Redis looks like an unreachable one instead of stalling lease renewal.
   */
  readonly commandTimeoutMs: number;
  /** Deadline of one TCP connect attempt, ms. Default 2000. */
  readonly connectTimeoutMs?: number;
}

export interface RedisConnectionEvents {
  /** Connected and ready (again). */
  up: [];
  /** The connection was lost; commands fail fast until `up`. */
  down: [];
}

/** Reconnect delay: 50 ms doubling to 1 s, with jitter so replicas do not reconnect in step. */
function reconnectDelay(retries: number): number {
  const base = Math.min(1000, 50 * 2 ** Math.min(retries, 10));
  return Math.round(base / 2 + Math.random() * (base / 2));
}

/**
 * One node-redis connection that reconnects forever (with jittered backoff) and fails fast
 * while it is down (`disableOfflineQueue`): callers decide what an unreachable Redis means
 * (fail open for webhook dedup, keep leases until their local deadline, retry later) instead
 * of queueing commands that would run after the decision they were for has passed. `up` and
 * `down` are emitted once per transition, and one log line per outage.
 */
export class RedisConnection extends EventEmitter<RedisConnectionEvents> {
  readonly client: RedisClient;
  readonly #logger: Logger;
  #up = false;
  #closed = false;
  #downSince: number | undefined;

  private constructor(options: RedisConnectionOptions) {
    super();
    this.#logger = options.logger;
    this.client = createClient({
      url: options.url,
      name: options.name,
      disableOfflineQueue: true,
      commandOptions: { timeout: options.commandTimeoutMs },
      socket: {
        connectTimeout: options.connectTimeoutMs ?? 2000,
        reconnectStrategy: (retries: number) => (this.#closed ? false : reconnectDelay(retries)),
      },
    });
    // node-redis emits 'error' for every failed reconnect attempt; without a listener it throws.
    this.client.on('error', (error: unknown) => this.#onDown(error));
    this.client.on('ready', () => this.#onUp());
    this.client.on('end', () => this.#onDown(undefined));
  }

  /**
   * Connects, retrying until `startupTimeoutMs` has passed; rejects with
   * `ClusterError('REDIS_UNAVAILABLE')` then. After start-up the connection never gives up.
   */
  static async connect(options: RedisConnectionOptions & { readonly startupTimeoutMs: number }): Promise<RedisConnection> {
    const connection = new RedisConnection(options);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new ClusterError('REDIS_UNAVAILABLE', `Redis not reachable within ${options.startupTimeoutMs} ms (REDIS_URL)`)),
        options.startupTimeoutMs,
      );
    });
    try {
      await Promise.race([connection.client.connect(), timedOut]);
      return connection;
    } catch (error) {
      connection.destroy();
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  get isUp(): boolean {
    return this.#up && this.client.isReady;
  }

  /** Quits gracefully (pending replies arrive first), else drops the socket. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      if (this.client.isReady) await this.client.close();
      else this.client.destroy();
    } catch {
      this.client.destroy();
    }
  }

  /** Drops the socket at once; pending commands reject. Idempotent. */
  destroy(): void {
    this.#closed = true;
    try {
      this.client.destroy();
    } catch {
      // already closed
    }
  }

  #onUp(): void {
    if (this.#up) return;
    this.#up = true;
    if (this.#downSince !== undefined) {
      this.#logger.info({ downMs: Date.now() - this.#downSince }, 'redis connection restored');
      this.#downSince = undefined;
    }
    this.emit('up');
  }

  #onDown(error: unknown): void {
    if (this.#closed) return;
    if (this.#downSince === undefined) {
      this.#downSince = Date.now();
      this.#logger.warn({ err: error === undefined ? undefined : describeError(error) }, 'redis connection lost; retrying');
    }
    if (!this.#up) return;
    this.#up = false;
    this.emit('down');
  }
}
