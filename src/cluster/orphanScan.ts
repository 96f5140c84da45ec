import type { Config } from '../config.ts';
import type { Logger } from '../logger.ts';
import type { KeyedQueue } from './keyedQueue.ts';
import type { ReplicaRegistry } from './replicaRegistry.ts';
import type { StreamRegistry } from './streamRegistry.ts';
import { planTakeovers } from './takeoverPlanner.ts';

/**
 * The takeover scan a replica runs every `CLUSTER_SCAN_INTERVAL_MS`: streams without a live
 * lease (their owner died, or let them go) are claimed by the replicas with room, spread by
 * free capacity (takeoverPlanner.ts). An orphan Zoom stopped meanwhile, or one no replica
 * took within `CLUSTER_ORPHAN_MAX_AGE_MS`, is removed instead.
 */

/** Orphans examined per scan. */
export const SCAN_LIMIT = 200;

export type OrphanHint = 'handoff' | 'takeover';

export interface OrphanScanOptions {
  readonly replicaId: string;
  readonly cluster: Pick<Config['cluster'], 'orphanMaxAgeMs' | 'scanIntervalMs'>;
  readonly registry: Pick<StreamRegistry, 'orphans' | 'removeOrphan'>;
  readonly replicas: Pick<ReplicaRegistry, 'live'>;
  readonly lanes: KeyedQueue;
  readonly logger: Logger;
  /** The stream runs here or is held here: not ours to take over. */
  readonly isLocal: (rtmsStreamId: string) => boolean;
  /** Streams this replica could claim now. */
  readonly free: () => number;
  /** Claims the orphan if there is still room (in its lane). */
  readonly takeOver: (rtmsStreamId: string, hint: OrphanHint) => Promise<void>;
  readonly abandoned: (rtmsStreamId: string, reason: 'stopped' | 'orphan_max_age') => void;
  readonly warn: (message: string, rtmsStreamId: string | undefined, error: unknown) => void;
}

export class OrphanScan {
  readonly #options: OrphanScanOptions;
  /** When this replica first saw each current orphan, ms epoch. */
  readonly #seen = new Map<string, number>();

  constructor(options: OrphanScanOptions) {
    this.#options = options;
  }

  /** The orphan was claimed here. */
  claimed(rtmsStreamId: string): void {
    this.#seen.delete(rtmsStreamId);
  }

  async scan(): Promise<void> {
    const { registry, lanes, logger, cluster } = this.#options;
    const orphans = await registry.orphans(SCAN_LIMIT);
    const now = Date.now();
    const current = new Set(orphans.map((orphan) => orphan.rtmsStreamId));
    for (const id of [...this.#seen.keys()]) if (!current.has(id)) this.#seen.delete(id);
    const claimable: string[] = [];
    const hints = new Map<string, OrphanHint>();
    for (const orphan of orphans) {
      const id = orphan.rtmsStreamId;
      if (!this.#seen.has(id)) this.#seen.set(id, now);
      if (this.#options.isLocal(id)) continue;
      if (orphan.over || orphan.orphanedMs > cluster.orphanMaxAgeMs) {
        const reason = orphan.over ? 'stopped' : 'orphan_max_age';
        void lanes
          .run(id, async () => {
            if (await registry.removeOrphan(id)) {
              logger.warn({ rtmsStreamId: id, reason, orphanedMs: orphan.orphanedMs }, 'stream without an owner removed');
              this.#options.abandoned(id, reason);
            }
          })
          .catch((error: unknown) => this.#options.warn('orphan removal failed', id, error));
        continue;
      }
      claimable.push(id);
      hints.set(id, orphan.released === 'handoff' ? 'handoff' : 'takeover');
    }
    const selfFree = this.#options.free();
    if (claimable.length === 0 || selfFree <= 0) return;
    const replicas = (await this.#options.replicas.live()).filter((replica) => !replica.draining);
    const plan = planTakeovers({
      orphans: claimable,
      replicas,
      self: this.#options.replicaId,
      selfFree,
      seenForMs: (id) => now - (this.#seen.get(id) ?? now),
      fallbackAfterMs: 2 * cluster.scanIntervalMs,
    });
    for (const id of plan) {
      void lanes
        .run(id, () => this.#options.takeOver(id, hints.get(id) ?? 'takeover'))
        .catch((error: unknown) => this.#options.warn('takeover failed', id, error));
    }
  }
}
