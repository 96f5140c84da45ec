import { describeError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { ClusterKeys } from './clusterKeys.ts';
import { type ClusterCommand, type ClusterCommandBody, decodeCommand, encodeCommand } from './clusterCommand.ts';
import type { RedisConnection } from './redisConnection.ts';
import { COMMAND_STREAM_TTL_MS } from './replicaRegistry.ts';

/** Consumer group on every command stream; the owner replica is its only consumer. */
export const COMMAND_GROUP = 'owner';
/** Entries kept per command stream at most (XADD MAXLEN ~): a replica that never reads cannot grow Redis. */
const COMMAND_STREAM_MAX = 10_000;

/** One XREADGROUP entry: its id and its fields. */
interface StreamEntry {
  readonly id: string;
  readonly message: Record<string, unknown>;
}

export interface CommandBusOptions {
  /** For XADD, XACK, XDEL, XPENDING, XAUTOCLAIM. */
  readonly redis: RedisConnection;
  /** A connection of its own for the blocking XREADGROUP; its command deadline must exceed `blockMs`. */
  readonly reader: RedisConnection;
  readonly keys: ClusterKeys;
  readonly replicaId: string;
  readonly logger: Logger;
  /** Acts on a command; a rejection leaves it pending, to be delivered again. */
  readonly handle: (command: ClusterCommand) => Promise<void>;
  /** XREADGROUP BLOCK, ms. Default 1000. */
  readonly blockMs?: number;
  /** A command read but not acknowledged for this long is delivered again, ms. Default 5000. */
  readonly redeliverAfterMs?: number;
  /** Deliveries after which a command that keeps failing is dropped (logged). Default 5. */
  readonly maxDeliveries?: number;
}

/**
 * The per-replica command stream `<p>cmd:<replicaId>`: peers XADD commands for the streams
 * this replica owns; it reads them through the consumer group `owner` (XREADGROUP), acts,
 * and acknowledges (XACK, then XDEL to keep the stream short). A command whose handling
 * failed stays in the pending list and is claimed again (XPENDING to find and drop ones that
 * keep failing, XAUTOCLAIM to take the rest back) once it has been idle `redeliverAfterMs`.
 * If the stream or group vanished (Redis restarted), the group is recreated from id 0, so
 * commands added since are still read.
 */
export class CommandBus {
  readonly #options: CommandBusOptions;
  readonly #key: string;
  readonly #blockMs: number;
  readonly #redeliverAfterMs: number;
  readonly #maxDeliveries: number;
  #loop: Promise<void> | undefined;
  #closed = false;
  #failing = false;

  constructor(options: CommandBusOptions) {
    this.#options = options;
    this.#key = options.keys.commands(options.replicaId);
    this.#blockMs = options.blockMs ?? 1000;
    this.#redeliverAfterMs = options.redeliverAfterMs ?? 5000;
    this.#maxDeliveries = options.maxDeliveries ?? 5;
  }

  /** Creates the group and starts reading. */
  start(): void {
    this.#loop ??= this.#run();
  }

  /** Appends a command to `to`'s stream. */
  async send(to: string, body: ClusterCommandBody, hops = 0): Promise<void> {
    const command = { ...body, from: this.#options.replicaId, sentAt: Date.now(), hops } as ClusterCommand;
    const key = this.#options.keys.commands(to);
    const client = this.#options.redis.client;
    await Promise.all([
      client.xAdd(key, '*', { c: encodeCommand(command) }, { TRIM: { strategy: 'MAXLEN', strategyModifier: '~', threshold: COMMAND_STREAM_MAX } }),
      client.pExpire(key, COMMAND_STREAM_TTL_MS),
    ]);
  }

  /** Stops reading (the blocking read is cut) and deletes this replica's stream. */
  async close(options: { readonly deleteStream?: boolean } = {}): Promise<void> {
    this.#closed = true;
    this.#options.reader.destroy();
    await this.#loop;
    if (options.deleteStream) await this.#options.redis.client.del(this.#key).catch(() => undefined);
  }

  async #run(): Promise<void> {
    let groupReady = false;
    let lastRedelivery = 0;
    while (!this.#closed) {
      try {
        if (!groupReady) {
          await this.#ensureGroup();
          groupReady = true;
        }
        const reply = await this.#options.reader.client.xReadGroup(
          COMMAND_GROUP,
          this.#options.replicaId,
          { key: this.#key, id: '>' },
          { COUNT: 100, BLOCK: this.#blockMs },
        );
        // node-redis types the RESP3 reply's entries as any; each is an entry id and its fields.
        for (const stream of reply ?? []) for (const message of stream.messages as readonly StreamEntry[]) await this.#process(message.id, message.message);
        if (Date.now() - lastRedelivery >= this.#redeliverAfterMs / 2) {
          lastRedelivery = Date.now();
          await this.#redeliver();
        }
        if (this.#failing) this.#options.logger.info('command stream readable again');
        this.#failing = false;
      } catch (error) {
        if (this.#closed) return;
        const described = describeError(error);
        if (described.message.includes('NOGROUP')) groupReady = false;
        if (!this.#failing) this.#options.logger.warn({ err: described }, 'command stream read failed; retrying');
        this.#failing = true;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    }
  }

  async #ensureGroup(): Promise<void> {
    const client = this.#options.redis.client;
    try {
      await client.xGroupCreate(this.#key, COMMAND_GROUP, '0', { MKSTREAM: true });
    } catch (error) {
      if (!describeError(error).message.includes('BUSYGROUP')) throw error;
    }
    await client.pExpire(this.#key, COMMAND_STREAM_TTL_MS);
  }

  async #process(id: string, fields: Record<string, unknown>): Promise<void> {
    const encoded = fields['c'];
    const command = decodeCommand(typeof encoded === 'string' ? encoded : '');
    if (command === undefined) {
      this.#options.logger.warn({ entry: id }, 'unreadable cluster command dropped');
      await this.#ack([id]);
      return;
    }
    try {
      await this.#options.handle(command);
    } catch (error) {
      // Not acknowledged: XAUTOCLAIM delivers it again after redeliverAfterMs.
      this.#options.logger.warn({ entry: id, command: command.type, err: describeError(error) }, 'cluster command failed; it will be delivered again');
      return;
    }
    await this.#ack([id]);
  }

  async #redeliver(): Promise<void> {
    const client = this.#options.redis.client;
    const pending = await client.xPendingRange(this.#key, COMMAND_GROUP, '-', '+', 100, { IDLE: this.#redeliverAfterMs });
    const poisoned = pending.filter((entry) => entry.deliveriesCounter >= this.#maxDeliveries).map((entry) => entry.id);
    if (poisoned.length > 0) {
      this.#options.logger.error({ entries: poisoned, deliveries: this.#maxDeliveries }, 'cluster commands kept failing; dropped');
      await this.#ack(poisoned);
    }
    if (pending.length === poisoned.length) return;
    const claimed = await client.xAutoClaim(this.#key, COMMAND_GROUP, this.#options.replicaId, this.#redeliverAfterMs, '0-0', { COUNT: 100 });
    for (const message of claimed.messages) {
      if (message === null) continue;
      this.#options.logger.info({ entry: message.id }, 'delivering an unacknowledged cluster command again');
      await this.#process(message.id, message.message);
    }
  }

  async #ack(ids: readonly string[]): Promise<void> {
    const client = this.#options.redis.client;
    await Promise.all([client.xAck(this.#key, COMMAND_GROUP, [...ids]), client.xDel(this.#key, [...ids])]);
  }
}
