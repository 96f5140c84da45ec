import { createClient, type RedisClientType } from 'redis';
import type { MediaKind } from '../vocabulary/mediaKind.ts';
import { describeError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { PublishDropReason } from '../vocabulary/reasons.ts';

/** A Redis stream entry: field → value; binary media goes in as bytes. */
export type StreamEntry = Record<string, string | Buffer>;

/** Why an entry was not appended. */

export interface RedisStreamPublisherOptions {
  readonly url: string;
  /** Approximate cap of every stream (`XADD … MAXLEN ~`): consumers that fall behind lose the oldest. */
  readonly maxLen: number;
  /** Appends in flight before new ones are dropped (and counted), so Redis never slows ingest. Default 10 000. */
  readonly maxInFlight?: number;
  /** Called for every entry: appended, or dropped with the reason. */
  readonly onOutcome: (output: MediaKind | 'events', dropReason: PublishDropReason | undefined) => void;
  readonly logger: Logger;
}

/**
 * One Redis connection per worker thread, shared by its streams' Redis sinks. Appends are
 * fire-and-forget (node-redis pipelines what is issued in the same tick); there is no
 * offline queue, so while Redis is away entries are dropped and counted instead of piling
 * up in memory.
 */
export class RedisStreamPublisher {
  readonly #client: RedisClientType;
  readonly #maxLen: number;
  readonly #maxInFlight: number;
  readonly #logger: Logger;
  readonly #onOutcome: RedisStreamPublisherOptions['onOutcome'];
  #inFlight = 0;
  #lastErrorLogAt = 0;

  constructor(options: RedisStreamPublisherOptions) {
    this.#maxLen = options.maxLen;
    this.#maxInFlight = options.maxInFlight ?? 10_000;
    this.#logger = options.logger.child({ component: 'redis-stream' });
    this.#onOutcome = options.onOutcome;
    this.#client = createClient({ url: options.url, disableOfflineQueue: true });
    this.#client.on('error', (error: unknown) => this.#logError('redis connection error', error));
    this.#client.connect().catch((error: unknown) => this.#logError('redis connect failed', error));
  }

  /** Appends `entry` to `key`, counted under `output`; never waits, never throws. */
  append(key: string, output: MediaKind | 'events', entry: StreamEntry): void {
    if (!this.#client.isReady || this.#inFlight >= this.#maxInFlight) {
      this.#onOutcome(output, this.#client.isReady ? 'backlog' : 'redis_unavailable');
      return;
    }
    this.#inFlight += 1;
    this.#client
      .xAdd(key, '*', entry, { TRIM: { strategy: 'MAXLEN', strategyModifier: '~', threshold: this.#maxLen } })
      .then(
        () => this.#onOutcome(output, undefined),
        (error: unknown) => {
          this.#onOutcome(output, 'redis_error');
          this.#logError('redis append failed', error);
        },
      )
      .finally(() => (this.#inFlight -= 1));
  }

  /**
   * Retention of a finished stream's keys: `EXPIRE` each of them after `seconds`. Issued on
   * the connection that carried the stream's appends, so it lands after the last of them.
   * While Redis is away the keys keep no TTL; that is logged.
   */
  expire(keys: readonly string[], seconds: number): void {
    this.#forEachKey(keys, 'redis expire failed', (key) => this.#client.expire(key, seconds));
  }

  /** A stream resumed here after another worker or replica let it go: its keys live again. */
  persist(keys: readonly string[]): void {
    this.#forEachKey(keys, 'redis persist failed', (key) => this.#client.persist(key));
  }

  #forEachKey(keys: readonly string[], failure: string, command: (key: string) => Promise<unknown>): void {
    if (!this.#client.isReady) {
      this.#logError(failure, new Error(`redis not connected; ${keys.length} keys unchanged`));
      return;
    }
    for (const key of keys) command(key).catch((error: unknown) => this.#logError(failure, error));
  }

  /** Consumer-group lag of one stream: the largest `lag` of its groups, or undefined without groups. */
  async consumerLag(key: string): Promise<number | undefined> {
    if (!this.#client.isReady) return undefined;
    const groups = (await this.#client.xInfoGroups(key).catch(() => [])) as Array<{ lag?: unknown }>;
    const lags = groups.map((group) => (typeof group.lag === 'number' ? group.lag : 0));
    return lags.length === 0 ? undefined : Math.max(...lags);
  }

  async close(): Promise<void> {
    if (this.#client.isOpen) await this.#client.close().catch(() => undefined);
  }

  /** At most one log line per 10 s: a Redis outage must not flood the logs. */
  #logError(message: string, error: unknown): void {
    const now = Date.now();
    if (now - this.#lastErrorLogAt < 10_000) return;
    this.#lastErrorLogAt = now;
    this.#logger.warn({ err: describeError(error) }, message);
  }
}
