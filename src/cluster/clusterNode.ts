import { EventEmitter } from 'node:events';
import type { Config } from '../config.ts';
import { describeError } from '../errors.ts';
import type { StreamControl } from '../http/adminRoutes.ts';
import type { WebhookDeduplicator } from '../http/webhookDeduplicator.ts';
import type { WebhookEvent } from '../http/webhookEvent.ts';
import type { Logger } from '../logger.ts';
import type { Supervisor } from '../supervisor/supervisor.ts';
import type { StreamStats } from '../vocabulary/streamStats.ts';
import { type ClusterCommand, type ClusterCommandBody, type ClusterCommandType, commandStreamId } from './clusterCommand.ts';
import { ClusterKeys } from './clusterKeys.ts';
import { CommandBus } from './commandBus.ts';
import { type ClusterParts, wireClusterParts } from './clusterParts.ts';
import { handOffStreams } from './handOff.ts';
import { KeyedQueue } from './keyedQueue.ts';
import type { RedisConnection } from './redisConnection.ts';
import { RedisWebhookDeduplicator } from './redisWebhookDeduplicator.ts';
import { COMMAND_BLOCK_MS, connectReplica } from './replicaConnections.ts';
import { ReplicaRegistry } from './replicaRegistry.ts';
import type { AcquireReason } from './streamClaims.ts';
import { type StreamViewSources, getClusterStream, listClusterStreams } from './streamView.ts';
import { StreamLeases } from './streamLeases.ts';
import { StreamRegistry } from './streamRegistry.ts';

/*
 * Multi-replica mode (REDIS_URL). Each replica runs this next to its supervisor:
 *
 *   webhook ─▶ any replica ─▶ announce (store payload; claim if room) ─┬─ claimed: start here
 *                                                                     ├─ owned elsewhere: command ─▶ owner
 *                                                                     └─ no room: left as orphan (+ adopt hint)
 *   every scan: orphans (lease expired or released) ─▶ plan by free capacity ─▶ claim ─▶ resume
 *   every ttl/3: renew all leases; lost (taken / deadline) ─▶ release the stream locally at once
 *   SIGTERM: release each stream (no STREAM_CLOSE), release its lease keeping the payload,
 *            tell a peer with room to adopt it, wait until peers hold the leases
 *
 * Everything done for one stream runs in that stream's lane (KeyedQueue), one step at a time.
 * The steps live in streamClaims, ownedStreams, heldStreams, commandRouting, orphanScan, handOff;
 * clusterParts wires them together, replicaConnections names the replica and opens its connections.
 */

export type { AcquireReason } from './streamClaims.ts';

export interface ClusterNodeEvents {
  leaseAcquired: [{ readonly rtmsStreamId: string; readonly reason: AcquireReason }];
  leaseLost: [{ readonly rtmsStreamId: string; readonly reason: 'taken' | 'expired' }];
  /** A stream another replica had (or that waited for room) now runs here; `orphanedMs` = time without an owner (Redis clock). */
  takeover: [{ readonly rtmsStreamId: string; readonly reason: AcquireReason; readonly orphanedMs: number | undefined }];
  /** A command sent to, or received from, another replica; `lagMs` from sending to handling. */
  command: [{ readonly type: ClusterCommandType; readonly direction: 'sent' | 'received'; readonly lagMs: number | undefined }];
  redis: [{ readonly up: boolean }];
  handedOff: [{ readonly rtmsStreamId: string; readonly to: string | undefined }];
  /** A stream without an owner was removed: stopped meanwhile, or no replica had room for too long. */
  abandoned: [{ readonly rtmsStreamId: string; readonly reason: 'stopped' | 'orphan_max_age' }];
}

export interface ClusterNodeOptions {
  readonly config: Config;
  readonly logger: Logger;
}

export class ClusterNode extends EventEmitter<ClusterNodeEvents> implements StreamControl {
  readonly replicaId: string;
  readonly deduplicator: WebhookDeduplicator;
  readonly #config: Config;
  readonly #logger: Logger;
  readonly #redis: RedisConnection;
  readonly #reader: RedisConnection;
  readonly #keys: ClusterKeys;
  readonly #leases: StreamLeases;
  readonly #registry: StreamRegistry;
  readonly #replicas: ReplicaRegistry;
  readonly #lanes = new KeyedQueue();
  #bus: CommandBus | undefined;
  #supervisor: Supervisor | undefined;
  /** Streams owned, held, claimed and taken over here, and commands for them (clusterParts.ts). */
  readonly #parts: ClusterParts;
  /** Claims in flight: they count against free capacity. */
  #reserved = 0;
  #draining = false;
  #closed = false;
  #ticking = false;
  readonly #timers: NodeJS.Timeout[] = [];

  private constructor(options: ClusterNodeOptions & { replicaId: string; redis: RedisConnection; reader: RedisConnection }) {
    super();
    this.#config = options.config;
    this.replicaId = options.replicaId;
    this.#logger = options.logger.child({ component: 'cluster', replica: options.replicaId });
    this.#redis = options.redis;
    this.#reader = options.reader;
    const cluster = options.config.cluster;
    this.#keys = new ClusterKeys(cluster.keyPrefix);
    this.#leases = new StreamLeases({
      redis: this.#redis,
      keys: this.#keys,
      replicaId: this.replicaId,
      ttlMs: cluster.leaseTtlMs,
      renewMs: cluster.leaseRenewMs,
      logger: this.#logger,
    });
    this.#registry = new StreamRegistry({ redis: this.#redis, keys: this.#keys, leases: this.#leases });
    this.#replicas = new ReplicaRegistry({ redis: this.#redis, keys: this.#keys, liveWindowMs: 3 * cluster.leaseRenewMs });
    this.deduplicator = new RedisWebhookDeduplicator({ redis: this.#redis, keys: this.#keys, ttlMs: cluster.dedupTtlMs });
    this.#parts = wireClusterParts({
      config: options.config,
      replicaId: this.replicaId,
      leases: this.#leases,
      registry: this.#registry,
      replicas: this.#replicas,
      lanes: this.#lanes,
      logger: this.#logger,
      supervisor: () => this.#requireSupervisor(),
      attached: () => this.#supervisor,
      free: () => this.#free(),
      reserve: () => this.#reserve(),
      send: (to, body, hops) => this.#send(to, body, hops),
      hintAdopt: (rtmsStreamId, reason) => this.#hintAdopt(rtmsStreamId, reason),
      redisUp: () => this.#redis.isUp,
      draining: () => this.#draining,
      warn: (message, rtmsStreamId, error) => this.#warn(message, rtmsStreamId, error),
      events: this,
    });
  }

  /** Connects to Redis (up to 15 s); call `attach()` once the supervisor runs. */
  static async connect(options: ClusterNodeOptions): Promise<ClusterNode> {
    const connections = await connectReplica(options.config, options.logger);
    return new ClusterNode({ ...options, ...connections });
  }

  /** The supervisor's fencing check. */
  get leaseGuard(): StreamLeases {
    return this.#leases;
  }

  /** Leases this replica holds. */
  get leasesHeld(): number {
    return this.#leases.size;
  }

  get redisUp(): boolean {
    return this.#redis.isUp;
  }

  /** Starts lease renewal, the heartbeat, the command stream and the takeover scan. */
  async attach(supervisor: Supervisor): Promise<void> {
    this.#supervisor = supervisor;
    const cluster = this.#config.cluster;
    this.#parts.owned.attach(supervisor);
    this.#redis.on('up', () => {
      this.emit('redis', { up: true });
      // Renew at once: a Redis that restarted empty gets the owners' leases back before any
      // peer could see their streams as orphans.
      void this.#leases.renewAll();
      void this.#heartbeat();
      void this.#tick();
    });
    this.#redis.on('down', () => this.emit('redis', { up: false }));

    this.#bus = new CommandBus({
      redis: this.#redis,
      reader: this.#reader,
      keys: this.#keys,
      replicaId: this.replicaId,
      logger: this.#logger,
      handle: (command) => this.#onCommand(command),
      blockMs: COMMAND_BLOCK_MS,
    });
    this.#leases.start();
    await this.#heartbeat();
    this.#bus.start();
    const heartbeat = setInterval(() => void this.#heartbeat(), cluster.leaseRenewMs);
    const scan = setInterval(() => void this.#tick(), cluster.scanIntervalMs);
    this.#timers.push(heartbeat, scan);
    this.#logger.info(
      {
        leaseTtlMs: cluster.leaseTtlMs,
        leaseRenewMs: cluster.leaseRenewMs,
        scanIntervalMs: cluster.scanIntervalMs,
        keyPrefix: cluster.keyPrefix,
        maxStreams: this.#config.maxStreams,
      },
      'cluster mode: replica joined',
    );
  }

  // ── webhooks and the admin API ───────────────────────────────────────────────────────

  /** Acts on a verified webhook, wherever its stream runs. */
  async handleWebhook(event: WebhookEvent): Promise<void> {
    const supervisor = this.#requireSupervisor();
    switch (event.kind) {
      case 'started':
        return this.#lanes.run(event.start.rtmsStreamId, () => this.#parts.claims.started(event.start, 0));
      case 'interrupted':
        await this.#lanes.run(event.rtmsStreamId, () =>
          this.#parts.commands.route({ type: 'interrupt', rtmsStreamId: event.rtmsStreamId, eventTs: event.eventTs }, 0),
        );
        return;
      case 'stopped':
        await this.#lanes.run(event.rtmsStreamId, () =>
          this.#parts.commands.route({ type: 'stop', rtmsStreamId: event.rtmsStreamId, stopReason: event.stopReason }, 0),
        );
        return;
      default:
        supervisor.handleWebhook(event);
    }
  }

  /** The whole cluster's streams: this replica's in full detail, the others' from Redis. */
  async list(): Promise<StreamStats[]> {
    return listClusterStreams(this.#viewSources());
  }

  async get(rtmsStreamId: string): Promise<StreamStats | undefined> {
    return getClusterStream(this.#viewSources(), rtmsStreamId);
  }

  close(rtmsStreamId: string): Promise<boolean> {
    return this.#lanes.run(rtmsStreamId, () => this.#parts.commands.route({ type: 'close', rtmsStreamId }, 0));
  }

  excludeParticipant(rtmsStreamId: string, userId: string): Promise<boolean> {
    return this.#lanes.run(rtmsStreamId, () => this.#parts.commands.route({ type: 'exclude', rtmsStreamId, userId }, 0));
  }

  // ── shutdown ─────────────────────────────────────────────────────────────────────────

  /**
   * SIGTERM in cluster mode: stops claiming, lets go of every stream here without
   * STREAM_CLOSE (files finalized), releases its lease with the payload and latest
   * statistics kept, asks a peer with room to adopt it, and waits (up to `waitMs`) until
   * peers hold the leases. Streams that could not be released stay with the supervisor,
   * whose `close()` ends them as in single-instance mode.
   */
  async handOff(waitMs: number): Promise<{ readonly released: number; readonly adopted: number }> {
    const supervisor = this.#requireSupervisor();
    this.#draining = true;
    await this.#heartbeat();
    return handOffStreams(
      {
        replicaId: this.replicaId,
        supervisor,
        leases: this.#leases,
        registry: this.#registry,
        replicas: this.#replicas,
        lanes: this.#lanes,
        redis: this.#redis,
        keys: this.#keys,
        releasing: this.#parts.owned.releasing,
        logger: this.#logger,
        send: (to, body) => this.#send(to, body),
        handedOff: (rtmsStreamId, to) => this.emit('handedOff', { rtmsStreamId, to }),
        warn: (message, rtmsStreamId, error) => this.#warn(message, rtmsStreamId, error),
      },
      waitMs,
    );
  }

  /** Stops every loop, leaves the replica registry and closes the Redis connections. Idempotent. */
  async stop(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#draining = true;
    for (const timer of this.#timers) clearInterval(timer);
    this.#leases.stop();
    await this.#bus?.close({ deleteStream: true });
    await this.#replicas.unregister(this.replicaId).catch(() => undefined);
    await this.#redis.close();
    this.#reader.destroy();
  }

  // ── commands ─────────────────────────────────────────────────────────────────────────

  async #onCommand(command: ClusterCommand): Promise<void> {
    this.emit('command', { type: command.type, direction: 'received', lagMs: Math.max(0, Date.now() - command.sentAt) });
    const id = commandStreamId(command);
    await this.#lanes.run(id, async () => {
      switch (command.type) {
        case 'started':
          return this.#parts.claims.started(command.start, command.hops);
        case 'adopt':
          return this.#parts.claims.takeOver(id, command.reason === 'handoff' ? 'handoff' : 'adopt');
        default:
          await this.#parts.commands.route(command, command.hops);
      }
    });
  }

  async #send(to: string, body: ClusterCommandBody, hops = 0): Promise<void> {
    if (this.#bus === undefined) return;
    await this.#bus.send(to, body, hops);
    this.emit('command', { type: body.type, direction: 'sent', lagMs: undefined });
  }

  /** Tells the live replica with the most room to claim an orphan now. */
  async #hintAdopt(rtmsStreamId: string, reason: string): Promise<void> {
    try {
      const peers = (await this.#replicas.live()).filter((replica) => replica.replicaId !== this.replicaId && !replica.draining && replica.free > 0);
      const best = peers.sort((a, b) => b.free - a.free)[0];
      if (best !== undefined) await this.#send(best.replicaId, { type: 'adopt', rtmsStreamId, reason });
    } catch (error) {
      this.#logger.debug({ rtmsStreamId, err: describeError(error) }, 'adopt hint not sent; the takeover scan finds the stream');
    }
  }

  // ── periodic work ────────────────────────────────────────────────────────────────────

  async #heartbeat(): Promise<void> {
    const supervisor = this.#supervisor;
    if (supervisor === undefined || this.#closed || !this.#redis.isUp) return;
    try {
      await this.#replicas.heartbeat({
        replicaId: this.replicaId,
        capacity: this.#config.maxStreams,
        active: supervisor.activeStreams,
        free: this.#free(),
        draining: this.#draining,
      });
    } catch (error) {
      this.#logger.debug({ err: describeError(error) }, 'heartbeat failed');
    }
  }

  /** Every scan interval: retry what waited for Redis, then look for orphans to take over. */
  async #tick(): Promise<void> {
    if (this.#ticking || this.#closed || !this.#redis.isUp) return;
    this.#ticking = true;
    try {
      await this.#parts.held.retryUnfinished();
      this.#parts.held.retryHeld();
      if (!this.#draining) await this.#parts.orphans.scan();
    } catch (error) {
      this.#logger.debug({ err: describeError(error) }, 'takeover scan failed');
    } finally {
      this.#ticking = false;
    }
  }

  // ── helpers ──────────────────────────────────────────────────────────────────────────

  /** Streams this replica could claim now. */
  #free(): number {
    if (this.#draining || this.#supervisor === undefined) return 0;
    return Math.max(0, this.#supervisor.freeSlots - this.#reserved);
  }

  /** Counts a claim in flight against free capacity until the returned function is called. */
  #reserve(): () => void {
    this.#reserved += 1;
    return () => void (this.#reserved -= 1);
  }

  #viewSources(): StreamViewSources {
    return { supervisor: this.#requireSupervisor(), registry: this.#registry, warn: (message, id, error) => this.#warn(message, id, error) };
  }

  #requireSupervisor(): Supervisor {
    if (this.#supervisor === undefined) throw new Error('ClusterNode: attach() the supervisor first');
    return this.#supervisor;
  }

  #warn(message: string, rtmsStreamId: string | undefined, error: unknown): void {
    this.#logger.warn({ rtmsStreamId, err: describeError(error) }, message);
  }
}
