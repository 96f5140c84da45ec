import type { Supervisor } from '../supervisor/supervisor.ts';
import { initialStreamStats, type StreamStats } from '../vocabulary/streamStats.ts';
import type { StoredStream, StreamRegistry } from './streamRegistry.ts';

/**
 * The cluster's streams as the admin API shows them: this replica's in full detail from its
 * supervisor, the others' from their records in Redis. Without Redis, this replica's only.
 */

export interface StreamViewSources {
  readonly supervisor: Pick<Supervisor, 'list' | 'has' | 'get'>;
  readonly registry: Pick<StreamRegistry, 'list' | 'get'>;
  readonly warn: (message: string, rtmsStreamId: string | undefined, error: unknown) => void;
}

export async function listClusterStreams({ supervisor, registry, warn }: StreamViewSources): Promise<StreamStats[]> {
  const local = supervisor.list();
  const localIds = new Set(local.map((stats) => stats.rtmsStreamId));
  let stored: StoredStream[];
  try {
    stored = await registry.list();
  } catch (error) {
    warn('cluster stream list unavailable; listing this replica only', undefined, error);
    return local;
  }
  const remote = stored
    .filter((stream) => !localIds.has(stream.rtmsStreamId))
    .map(storedStats)
    .filter((stats) => stats !== undefined);
  return [...local, ...remote];
}

export async function getClusterStream({ supervisor, registry, warn }: StreamViewSources, rtmsStreamId: string): Promise<StreamStats | undefined> {
  if (supervisor.has(rtmsStreamId)) return supervisor.get(rtmsStreamId);
  try {
    const stored = await registry.get(rtmsStreamId);
    const stats = stored === undefined ? undefined : storedStats(stored);
    if (stats !== undefined) return stats;
  } catch (error) {
    warn('cluster stream lookup failed', rtmsStreamId, error);
  }
  return supervisor.get(rtmsStreamId);
}

/** A stored stream as `GET /streams` shows it; one without an owner is waiting for a takeover. */
export function storedStats(stored: StoredStream): StreamStats | undefined {
  const start = stored.start;
  if (start === undefined) return undefined;
  const base: StreamStats = stored.stats ?? initialStreamStats(start, 'idle', stored.createdAt ?? Date.now());
  const state = stored.owner === undefined ? (base.liveAt === undefined ? 'idle' : 'waitingReconnect') : (stored.state ?? base.state);
  return { ...base, state, endedAt: undefined };
}
