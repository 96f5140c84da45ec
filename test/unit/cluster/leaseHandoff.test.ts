import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClusterKeys } from '../../../src/cluster/clusterKeys.ts';
import { RedisConnection } from '../../../src/cluster/redisConnection.ts';
import { StreamLeases } from '../../../src/cluster/streamLeases.ts';
import { StreamRegistry } from '../../../src/cluster/streamRegistry.ts';
import { createLogger } from '../../../src/logger.ts';
import type { StreamStart } from '../../../src/rtms/products.ts';
import { initialStreamStats } from '../../../src/vocabulary/streamStats.ts';
import { RedisServer } from '../../integration/redisServer.ts';

/**
 * The hand-off between replicas as Redis sees it, in milliseconds against a private
 * redis-server: the owner releases its lease and leaves its statistics in the record, the
 * next replica finds the orphan, claims it with a higher fencing token and gets those
 * statistics; the old owner's lease no longer writes anything.
 */

const logger = createLogger({ level: 'silent' });
let redis: RedisServer;
let connection: RedisConnection;

beforeAll(async () => {
  redis = await RedisServer.start();
  connection = await RedisConnection.connect({ url: redis.url, name: 'unit', logger, commandTimeoutMs: 1000, startupTimeoutMs: 4000 });
});

afterAll(async () => {
  connection?.destroy();
  await redis?.stop();
});

function replica(keys: ClusterKeys, replicaId: string): { leases: StreamLeases; registry: StreamRegistry } {
  const leases = new StreamLeases({ redis: connection, keys, replicaId, ttlMs: 30_000, renewMs: 10_000, logger });
  return { leases, registry: new StreamRegistry({ redis: connection, keys, leases }) };
}

function start(): StreamStart {
  const rtmsStreamId = randomBytes(16).toString('hex');
  return {
    product: 'meeting',
    rtmsStreamId,
    entityIdKey: 'meeting_uuid',
    entityId: 'entity==',
    serverUrls: 'ws://127.0.0.1:1/s',
    signalingUrl: 'ws://127.0.0.1:1/s',
    eventTs: Date.now(),
  };
}

describe('lease hand-off', () => {
  it('released with its statistics, claimed by the next replica with a higher token; the old lease is fenced out', async () => {
    const keys = new ClusterKeys(`unit:${randomBytes(4).toString('hex')}:`);
    const a = replica(keys, 'replica-a');
    const b = replica(keys, 'replica-b');
    const stream = start();
    const announced = await a.registry.announce(stream, { claim: true });
    expect(announced.status === 'created' && announced.claim?.status).toBe('claimed');
    const oldLease = a.leases.get(stream.rtmsStreamId)!;
    expect(await b.registry.note(stream.rtmsStreamId, 'interrupt')).toEqual({ status: 'owned', owner: 'replica-a' });
    expect(await b.leases.claim(stream.rtmsStreamId)).toEqual({ status: 'held', owner: 'replica-a' });

    const stats = { ...initialStreamStats(stream, 'live', 1000), reconnects: 2 };
    expect(await a.leases.release(oldLease, 'handoff', { stats: JSON.stringify(stats), state: 'live' })).toBe(true);
    expect(a.leases.holds(stream.rtmsStreamId)).toBe(false);

    const [orphan] = (await b.registry.orphans(10)).filter((candidate) => candidate.rtmsStreamId === stream.rtmsStreamId);
    expect(orphan).toMatchObject({ released: 'handoff', over: false });
    const claim = await b.leases.claim(stream.rtmsStreamId);
    if (claim.status !== 'claimed') throw new Error(`expected a claim, got ${claim.status}`);
    expect(claim.lease.token).toBeGreaterThan(oldLease.token);
    expect(JSON.parse(claim.record['stats'] ?? '{}')).toMatchObject({ reconnects: 2, state: 'live' });
    expect(await b.registry.get(stream.rtmsStreamId)).toMatchObject({ owner: 'replica-b', state: 'live' });

    // The old owner's lease writes nothing and releases nothing any more.
    expect(await a.registry.write(oldLease, { state: 'ended' })).toBe('notOwner');
    expect(await a.leases.release(oldLease, 'handoff')).toBe(false);
    expect(await a.registry.finish(oldLease)).toBe(false);
    expect(await b.registry.get(stream.rtmsStreamId)).toMatchObject({ owner: 'replica-b', state: 'live' });

    // The new owner finishes it: nothing of the stream is left.
    expect(await b.registry.finish(claim.lease)).toBe(true);
    expect(await b.registry.list()).toEqual([]);
    expect(await connection.client.keys(`${keys.prefix}*`)).toEqual([]);
  });
});
