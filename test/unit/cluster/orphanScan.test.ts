import { describe, expect, it } from 'vitest';
import { KeyedQueue } from '../../../src/cluster/keyedQueue.ts';
import { OrphanScan, SCAN_LIMIT, type OrphanHint } from '../../../src/cluster/orphanScan.ts';
import type { ReplicaInfo } from '../../../src/cluster/replicaRegistry.ts';
import type { OrphanStream } from '../../../src/cluster/streamRegistry.ts';
import { createLogger } from '../../../src/logger.ts';

const CLUSTER = { orphanMaxAgeMs: 60_000, scanIntervalMs: 1000 };

function orphan(rtmsStreamId: string, fields: Partial<OrphanStream> = {}): OrphanStream {
  return { rtmsStreamId, orphanedMs: 1000, over: false, released: undefined, ...fields };
}

function replica(replicaId: string, free: number, draining = false): ReplicaInfo {
  return { replicaId, capacity: 10, active: 10 - free, free, draining, at: 0 };
}

function rig(options: { orphans: OrphanStream[]; replicas: ReplicaInfo[]; free: number; local?: string[] }) {
  const lanes = new KeyedQueue();
  const taken: Array<{ id: string; hint: OrphanHint }> = [];
  const removed: string[] = [];
  const abandoned: Array<{ id: string; reason: string }> = [];
  let limit = 0;
  const scan = new OrphanScan({
    replicaId: 'self',
    cluster: CLUSTER,
    registry: {
      orphans: async (max) => ((limit = max), options.orphans),
      removeOrphan: async (id) => (removed.push(id), true),
    },
    replicas: { live: async () => options.replicas },
    lanes,
    logger: createLogger({ level: 'silent' }),
    isLocal: (id) => (options.local ?? []).includes(id),
    free: () => options.free,
    takeOver: async (id, hint) => void taken.push({ id, hint }),
    abandoned: (id, reason) => abandoned.push({ id, reason }),
    warn: (message) => {
      throw new Error(message);
    },
  });
  return { scan, lanes, taken, removed, abandoned, limit: () => limit };
}

describe('OrphanScan', () => {
  it('claims the orphans the plan gives this replica, by free capacity', async () => {
    const r = rig({ orphans: [orphan('a'), orphan('b', { released: 'handoff' }), orphan('c')], replicas: [replica('self', 2), replica('peer', 1)], free: 2 });
    await r.scan.scan();
    await r.lanes.idle();
    expect(r.limit()).toBe(SCAN_LIMIT);
    // Sorted by id, each to the replica with the most room: a → self, b → peer (a tie goes to the lowest id), c → self.
    expect(r.taken).toEqual([
      { id: 'a', hint: 'takeover' },
      { id: 'c', hint: 'takeover' },
    ]);
  });

  it('a stream handed off is claimed as a hand-off', async () => {
    const r = rig({ orphans: [orphan('b', { released: 'handoff' })], replicas: [replica('self', 1)], free: 1 });
    await r.scan.scan();
    await r.lanes.idle();
    expect(r.taken).toEqual([{ id: 'b', hint: 'handoff' }]);
  });

  it('an orphan Zoom stopped, or one nobody took for too long, is removed instead', async () => {
    const r = rig({
      orphans: [orphan('stopped', { over: true }), orphan('old', { orphanedMs: CLUSTER.orphanMaxAgeMs + 1 })],
      replicas: [replica('self', 5)],
      free: 5,
    });
    await r.scan.scan();
    await r.lanes.idle();
    expect(r.removed.sort()).toEqual(['old', 'stopped']);
    expect(r.abandoned).toEqual([
      { id: 'stopped', reason: 'stopped' },
      { id: 'old', reason: 'orphan_max_age' },
    ]);
    expect(r.taken).toEqual([]);
  });

  it('streams that run or are held here are left alone; no room, no claim', async () => {
    const r = rig({ orphans: [orphan('mine'), orphan('x')], replicas: [replica('self', 0)], free: 0, local: ['mine'] });
    await r.scan.scan();
    await r.lanes.idle();
    expect(r.taken).toEqual([]);
    expect(r.removed).toEqual([]);
  });

  it('a draining peer gets nothing planned, so this replica takes what it has room for', async () => {
    const r = rig({ orphans: [orphan('a'), orphan('b')], replicas: [replica('self', 1), replica('big', 9, true)], free: 1 });
    await r.scan.scan();
    await r.lanes.idle();
    expect(r.taken.map(({ id }) => id)).toEqual(['a']);
  });
});
