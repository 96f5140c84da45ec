import type { Logger } from '../logger.ts';
import type { Supervisor } from '../supervisor/supervisor.ts';
import type { StreamStats } from '../vocabulary/streamStats.ts';
import type { ClusterCommandBody } from './clusterCommand.ts';
import type { ClusterKeys } from './clusterKeys.ts';
import type { KeyedQueue } from './keyedQueue.ts';
import type { RedisConnection } from './redisConnection.ts';
import type { ReplicaRegistry } from './replicaRegistry.ts';
import type { StreamLeases } from './streamLeases.ts';
import type { StreamRegistry } from './streamRegistry.ts';

/**
 * The SIGTERM hand-off of a replica that is draining: each stream here is let go without
 * STREAM_CLOSE (files finalized), its lease released with the payload and latest statistics
 * kept, and a peer with room asked to adopt it (most room first); then we wait, up to a
 * deadline, until peers hold the leases. A stream Zoom ended meanwhile is simply finished.
 */

export interface HandOffContext {
  readonly replicaId: string;
  readonly supervisor: Supervisor;
  readonly leases: StreamLeases;
  readonly registry: StreamRegistry;
  readonly replicas: ReplicaRegistry;
  readonly lanes: KeyedQueue;
  readonly redis: RedisConnection;
  readonly keys: ClusterKeys;
  /** Streams being let go here: their `streamFinished` must not delete the shared record. */
  readonly releasing: Set<string>;
  readonly logger: Logger;
  readonly send: (to: string, body: ClusterCommandBody) => Promise<void>;
  readonly handedOff: (rtmsStreamId: string, to: string | undefined) => void;
  readonly warn: (message: string, rtmsStreamId: string | undefined, error: unknown) => void;
}

/** How often the wait for the peers' leases looks again, ms. */
const ADOPTION_POLL_MS = 100;

export async function handOffStreams(context: HandOffContext, waitMs: number): Promise<{ readonly released: number; readonly adopted: number }> {
  const { supervisor, leases, registry, lanes, releasing, logger } = context;
  const ids = supervisor.activeIds();
  if (ids.length === 0) return { released: 0, adopted: 0 };
  const room = new Map<string, number>();
  try {
    for (const replica of await context.replicas.live()) {
      if (replica.replicaId !== context.replicaId && !replica.draining && replica.free > 0) room.set(replica.replicaId, replica.free);
    }
  } catch (error) {
    context.warn('replica list unavailable for the hand-off', undefined, error);
  }
  const pickPeer = peerPicker(room);
  const started = Date.now();
  const released: string[] = [];
  await Promise.all(
    ids.map((id) =>
      lanes
        .run(id, async () => {
          const lease = leases.get(id);
          if (lease === undefined || !supervisor.has(id)) return;
          const to = pickPeer();
          releasing.add(id);
          let stats: StreamStats | undefined;
          try {
            stats = await supervisor.release(id, 'handed_off');
          } finally {
            releasing.delete(id);
          }
          leases.forget(id);
          if (stats?.stopReason !== undefined) {
            // Zoom ended it while we let go: nothing to hand over.
            await registry.finish(lease);
            return;
          }
          await leases.release(lease, 'handoff', { stats: stats === undefined ? undefined : JSON.stringify(stats), state: 'waitingReconnect' });
          released.push(id);
          if (to !== undefined) await context.send(to, { type: 'adopt', rtmsStreamId: id, reason: 'handoff' });
          context.handedOff(id, to);
          logger.info({ rtmsStreamId: id, to, releasedInMs: Date.now() - started }, 'stream handed off');
        })
        .catch((error: unknown) => context.warn('hand-off failed; the lease expires on its own', id, error)),
    ),
  );
  // Wait until the peers hold the leases: then the streams are theirs before we exit.
  const deadline = Date.now() + waitMs;
  let waiting = released;
  while (waiting.length > 0 && Date.now() < deadline) {
    const owners = await Promise.all(waiting.map((id) => context.redis.client.get(context.keys.lease(id)).catch(() => null)));
    waiting = waiting.filter((_, i) => owners[i] === null);
    if (waiting.length > 0) await sleep(ADOPTION_POLL_MS);
  }
  const adopted = released.length - waiting.length;
  logger.info({ released: released.length, adopted, notYetAdopted: waiting, tookMs: Date.now() - started }, 'hand-off complete');
  return { released: released.length, adopted };
}

/**
 * Picks, for each stream in turn, the peer with the most room left (free slots by replica id),
 * taking one slot each time; undefined once no peer has room.
 */
export function peerPicker(room: Map<string, number>): () => string | undefined {
  return () => {
    let best: string | undefined;
    for (const [replicaId, free] of room) if (free > 0 && (best === undefined || free > (room.get(best) ?? 0))) best = replicaId;
    if (best !== undefined) room.set(best, (room.get(best) ?? 1) - 1);
    return best;
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
