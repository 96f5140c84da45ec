import { describeError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { Supervisor } from '../supervisor/supervisor.ts';
import { TERMINAL_STATES } from '../vocabulary/streamState.ts';
import type { StreamStats } from '../vocabulary/streamStats.ts';
import type { HeldStreams } from './heldStreams.ts';
import type { KeyedQueue } from './keyedQueue.ts';
import type { HeldLease, StreamLeases } from './streamLeases.ts';
import type { StreamRegistry } from './streamRegistry.ts';

/**
 * The streams that run on this replica, as Redis sees them: their state and statistics
 * written to their record (fenced by the lease, throttled), a record Redis lost written back,
 * a lost lease answered by stopping the stream here at once (kept to claim back when it
 * expired with Redis away), and a finished stream's record deleted.
 */

export interface OwnedStreamsOptions {
  readonly supervisor: () => Supervisor;
  readonly leases: StreamLeases;
  readonly registry: Pick<StreamRegistry, 'write' | 'restore' | 'finish'>;
  readonly held: Pick<HeldStreams, 'suspend' | 'unfinished'>;
  readonly lanes: KeyedQueue;
  /** Statistics are written at most this often per stream (and every 2 s at most), ms. */
  readonly leaseRenewMs: number;
  readonly redisUp: () => boolean;
  /** The replica is shutting down: a stream it lets go is not kept to claim back. */
  readonly draining: () => boolean;
  readonly leaseLost: (rtmsStreamId: string, reason: 'taken' | 'expired') => void;
  readonly reacquired: (rtmsStreamId: string) => void;
  readonly logger: Logger;
  readonly warn: (message: string, rtmsStreamId: string | undefined, error: unknown) => void;
}

export class OwnedStreams {
  readonly #options: OwnedStreamsOptions;
  /** Streams being let go here: their `streamFinished` must not delete the shared record. */
  readonly releasing = new Set<string>();
  /** Last metadata write per stream, ms epoch. */
  readonly #lastSync = new Map<string, number>();

  constructor(options: OwnedStreamsOptions) {
    this.#options = options;
  }

  /** Follows the supervisor's streams and this replica's leases. */
  attach(supervisor: Supervisor): void {
    const { lanes, leases, leaseRenewMs, warn } = this.#options;
    supervisor.on('streamState', ({ rtmsStreamId, to }) => {
      if (!TERMINAL_STATES.has(to)) this.#sync(rtmsStreamId, { state: to });
    });
    supervisor.on('stats', (streams) => {
      const now = Date.now();
      const every = Math.min(2000, leaseRenewMs);
      for (const stats of streams) {
        if (TERMINAL_STATES.has(stats.state) || now - (this.#lastSync.get(stats.rtmsStreamId) ?? 0) < every) continue;
        this.#lastSync.set(stats.rtmsStreamId, now);
        this.#sync(stats.rtmsStreamId, { state: stats.state, stats });
      }
    });
    supervisor.on('streamFinished', (stats) => {
      this.#lastSync.delete(stats.rtmsStreamId);
      void lanes.run(stats.rtmsStreamId, () => this.#finished(stats)).catch((error: unknown) => warn('finish bookkeeping failed', stats.rtmsStreamId, error));
    });
    leases.on('lost', ({ rtmsStreamId, reason }) => this.#leaseLost(rtmsStreamId, reason));
    leases.on('reacquired', ({ rtmsStreamId, lease }) => {
      void lanes.run(rtmsStreamId, () => this.#restore(lease)).catch((error: unknown) => warn('record restore failed', rtmsStreamId, error));
    });
  }

  async #finished(stats: StreamStats): Promise<void> {
    const id = stats.rtmsStreamId;
    if (this.releasing.has(id)) return;
    const lease = this.#options.leases.forget(id);
    if (lease === undefined) return;
    try {
      await this.#options.registry.finish(lease);
    } catch (error) {
      this.#options.held.unfinished(id, lease);
      this.#options.warn('could not delete the finished stream record; retrying', id, error);
    }
  }

  /** The lease is gone: stop the stream here at once (before any bookkeeping). */
  #leaseLost(rtmsStreamId: string, reason: 'taken' | 'expired'): void {
    const supervisor = this.#options.supervisor();
    this.#options.leaseLost(rtmsStreamId, reason);
    const info = supervisor.streamInfo(rtmsStreamId);
    if (info === undefined) return;
    this.releasing.add(rtmsStreamId);
    const released = supervisor.release(rtmsStreamId, `lease_${reason}`);
    void this.#options.lanes
      .run(rtmsStreamId, async () => {
        const stats = await released.finally(() => this.releasing.delete(rtmsStreamId));
        if (reason === 'expired' && stats !== undefined && stats.stopReason === undefined && !this.#options.draining()) {
          this.#options.held.suspend(rtmsStreamId, { start: info.start, stats, excluded: info.excluded });
        }
      })
      .catch((error: unknown) => this.#options.warn('release after lease loss failed', rtmsStreamId, error));
  }

  /** Redis lost the record (restart without persistence): write back what this owner knows. */
  async #restore(lease: HeldLease): Promise<void> {
    const info = this.#options.supervisor().streamInfo(lease.rtmsStreamId);
    if (info === undefined || this.#options.leases.get(lease.rtmsStreamId) !== lease) return;
    await this.#options.registry.restore(lease, info);
    this.#options.reacquired(lease.rtmsStreamId);
  }

  /** Fenced metadata write; a record Redis lost is restored. */
  #sync(rtmsStreamId: string, fields: { readonly state?: StreamStats['state']; readonly stats?: StreamStats }): void {
    const lease = this.#options.leases.get(rtmsStreamId);
    if (lease === undefined || !this.#options.redisUp()) return;
    void this.#options.registry
      .write(lease, fields)
      .then((result) => (result === 'missing' ? this.#options.lanes.run(rtmsStreamId, () => this.#restore(lease)) : undefined))
      .catch((error: unknown) => this.#options.logger.debug({ rtmsStreamId, err: describeError(error) }, 'stream metadata write failed'));
  }
}
