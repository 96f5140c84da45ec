import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClusterKeys } from '../../../src/cluster/clusterKeys.ts';
import type { ClusterCommand } from '../../../src/cluster/clusterCommand.ts';
import { CommandBus } from '../../../src/cluster/commandBus.ts';
import { RedisConnection } from '../../../src/cluster/redisConnection.ts';
import { RedisWebhookDeduplicator } from '../../../src/cluster/redisWebhookDeduplicator.ts';
import { ReplicaRegistry } from '../../../src/cluster/replicaRegistry.ts';
import { StreamLeases } from '../../../src/cluster/streamLeases.ts';
import { StreamRegistry } from '../../../src/cluster/streamRegistry.ts';
import { planTakeovers } from '../../../src/cluster/takeoverPlanner.ts';
import { createLogger } from '../../../src/logger.ts';
import type { StreamStart } from '../../../src/rtms/products.ts';
import { eventually } from '../../support/eventually.ts';
import { RedisServer } from '../redisServer.ts';

/**
 * The Redis side of multi-replica mode, driven directly against a real redis-server: lease
 * claim/renew/release with fencing tokens, the stream record, command delivery with
 * redelivery, dedup. The process-level behaviour is in the other tests of this folder.
 */

const logger = createLogger({ level: 'silent' });
let redis: RedisServer;
const connections: RedisConnection[] = [];

async function connect(commandTimeoutMs = 1000): Promise<RedisConnection> {
  const connection = await RedisConnection.connect({ url: redis.url, name: 'test', logger, commandTimeoutMs, startupTimeoutMs: 5000 });
  connections.push(connection);
  return connection;
}

function replica(connection: RedisConnection, keys: ClusterKeys, replicaId: string, ttlMs = 3000): { leases: StreamLeases; registry: StreamRegistry } {
  const leases = new StreamLeases({ redis: connection, keys, replicaId, ttlMs, renewMs: Math.floor(ttlMs / 3), logger });
  return { leases, registry: new StreamRegistry({ redis: connection, keys, leases }) };
}

function start(overrides: Partial<StreamStart> = {}): StreamStart {
  return {
    product: 'meeting',
    rtmsStreamId: randomBytes(16).toString('hex'),
    entityIdKey: 'meeting_uuid',
    entityId: 'entity==',
    serverUrls: 'ws://127.0.0.1:1/signaling',
    signalingUrl: 'ws://127.0.0.1:1/signaling',
    eventTs: Date.now(),
    ...overrides,
  };
}

function prefix(): ClusterKeys {
  return new ClusterKeys(`test:${randomBytes(4).toString('hex')}:`);
}

beforeAll(async () => {
  redis = await RedisServer.start();
});

afterAll(async () => {
  for (const connection of connections) connection.destroy();
  await redis?.stop();
});

describe('stream leases', () => {
  it('grants one owner, with fencing tokens that grow with every new owner', async () => {
    const keys = prefix();
    const connection = await connect();
    const a = replica(connection, keys, 'replica-a');
    const b = replica(connection, keys, 'replica-b');
    const stream = start();

    const announced = await a.registry.announce(stream, { claim: true });
    expect(announced).toMatchObject({ status: 'created', claim: { status: 'claimed' } });
    const first = a.leases.get(stream.rtmsStreamId)!;
    expect(first.value).toBe(`replica-a|${first.token}`);

    // A duplicate delivery on another replica finds the owner instead of claiming.
    expect(await b.registry.announce(stream, { claim: true })).toMatchObject({ status: 'updated', claim: { status: 'held', owner: 'replica-a' } });
    expect(await b.leases.claim(stream.rtmsStreamId)).toEqual({ status: 'held', owner: 'replica-a' });

    // Release (hand-off): the record stays, the next owner gets a larger token and the stats.
    await a.registry.write(first, { state: 'live' });
    expect(await a.leases.release(first, 'handoff', { stats: JSON.stringify({ rtmsStreamId: stream.rtmsStreamId, createdAt: 1 }) })).toBe(true);
    const taken = await b.leases.claim(stream.rtmsStreamId);
    expect(taken.status).toBe('claimed');
    if (taken.status !== 'claimed') return;
    expect(taken.lease.token).toBeGreaterThan(first.token);
    expect(taken.record['released']).toBe('handoff');
    expect(JSON.parse(taken.record['start']!)).toEqual(stream);
    expect(taken.orphanedMs).toBeGreaterThanOrEqual(0);

    // The old owner's fenced writes and release do nothing now.
    expect(await a.registry.write(first, { state: 'waitingReconnect' })).toBe('notOwner');
    expect(await a.leases.release(first, 'late')).toBe(false);
    expect(await a.registry.finish(first)).toBe(false);
    expect((await a.registry.get(stream.rtmsStreamId))?.owner).toBe('replica-b');
  });

  it('renewal extends a held lease, reports one taken by another replica, and re-sets a vanished key', async () => {
    const keys = prefix();
    const connection = await connect();
    const a = replica(connection, keys, 'replica-a');
    const stream = start();
    await a.registry.announce(stream, { claim: true });
    const lease = a.leases.get(stream.rtmsStreamId)!;
    const client = connection.client;

    expect(await a.leases.confirm(stream.rtmsStreamId)).toBe(true);
    const ttl = await client.pTTL(keys.lease(stream.rtmsStreamId));
    expect(ttl).toBeGreaterThan(2500);

    // Redis lost the key (restart without persistence): the owner sets it again, fence kept monotonic.
    const reacquired: string[] = [];
    a.leases.on('reacquired', ({ rtmsStreamId }) => reacquired.push(rtmsStreamId));
    await client.del([keys.lease(stream.rtmsStreamId), keys.fence(stream.rtmsStreamId)]);
    await a.leases.renewAll();
    expect(reacquired).toEqual([stream.rtmsStreamId]);
    expect(await client.get(keys.lease(stream.rtmsStreamId))).toBe(lease.value);
    expect(Number(await client.get(keys.fence(stream.rtmsStreamId)))).toBe(lease.token);

    // Someone else's value: lost ("taken"), and no longer held.
    const lost: Array<{ rtmsStreamId: string; reason: string }> = [];
    a.leases.on('lost', ({ rtmsStreamId, reason }) => lost.push({ rtmsStreamId, reason }));
    await client.set(keys.lease(stream.rtmsStreamId), 'replica-z|999', { expiration: { type: 'PX', value: 3000 } });
    await a.leases.renewAll();
    expect(lost).toEqual([{ rtmsStreamId: stream.rtmsStreamId, reason: 'taken' }]);
    expect(a.leases.holds(stream.rtmsStreamId)).toBe(false);
    expect(await a.leases.confirm(stream.rtmsStreamId)).toBe(false);
  });

  it('expires a lease locally before Redis does when Redis is unreachable', async () => {
    const keys = prefix();
    const connection = await connect(200);
    const a = replica(connection, keys, 'replica-a', 1500);
    const stream = start();
    await a.registry.announce(stream, { claim: true });
    const lost: Array<{ reason: string; at: number }> = [];
    a.leases.on('lost', ({ reason }) => lost.push({ reason, at: Date.now() }));
    a.leases.start();
    try {
      const pausedAt = Date.now();
      // CLIENT PAUSE makes Redis unresponsive for everyone (like a network partition) for 3 s.
      const admin = await redis.client();
      await admin.sendCommand(['CLIENT', 'PAUSE', '3000', 'ALL']);
      await admin.close();
      await eventually(() => lost.length > 0, { what: 'the lease given up while Redis is paused', timeoutMs: 6000 });
      expect(lost.map((entry) => entry.reason)).toEqual(['expired']);
      // The replica let go while Redis was still unreachable (the pause lasts 3 s): it did not
      // wait for Redis to come back to learn that its lease may be gone.
      expect(lost[0]!.at - pausedAt).toBeLessThan(3000);
    } finally {
      a.leases.stop();
    }
  });
});

describe('stream records', () => {
  it('ignores a stale rtms_started, keeps the newest payload, and deletes a stopped orphan', async () => {
    const keys = prefix();
    const connection = await connect();
    const a = replica(connection, keys, 'replica-a');
    const stream = start({ eventTs: 2_000_000 });
    expect((await a.registry.announce(stream, { claim: false })).status).toBe('created');
    expect((await a.registry.announce({ ...stream, eventTs: 1_000_000, serverUrls: 'ws://old' }, { claim: false })).status).toBe('stale');
    expect((await a.registry.announce({ ...stream, eventTs: 3_000_000, serverUrls: 'ws://new' }, { claim: false })).status).toBe('updated');
    expect((await a.registry.get(stream.rtmsStreamId))?.start?.serverUrls).toBe('ws://new');

    // No owner: it is an orphan, found by the scan.
    const orphans = await a.registry.orphans(10);
    expect(orphans.map((orphan) => orphan.rtmsStreamId)).toContain(stream.rtmsStreamId);
    // An exclusion is kept for the next owner; a stop removes the orphan at once.
    expect(await a.registry.note(stream.rtmsStreamId, 'exclude', 'user-7')).toEqual({ status: 'orphan' });
    expect(await connection.client.sMembers(keys.excluded(stream.rtmsStreamId))).toEqual(['user-7']);
    expect(await a.registry.note(stream.rtmsStreamId, 'stop', '6')).toEqual({ status: 'deleted' });
    expect(await a.registry.get(stream.rtmsStreamId)).toBeUndefined();
    expect(await connection.client.exists([keys.stream(stream.rtmsStreamId), keys.excluded(stream.rtmsStreamId)])).toBe(0);
    expect(await a.registry.note(stream.rtmsStreamId, 'interrupt')).toEqual({ status: 'unknown' });
  });

  it('marks a stop for an owned stream so that a later owner finishes it instead of rejoining', async () => {
    const keys = prefix();
    const connection = await connect();
    const a = replica(connection, keys, 'replica-a');
    const b = replica(connection, keys, 'replica-b');
    const stream = start();
    await a.registry.announce(stream, { claim: true });
    expect(await b.registry.note(stream.rtmsStreamId, 'stop', '6')).toEqual({ status: 'owned', owner: 'replica-a' });
    // The owner dies: its lease expires (the index score is the expiry).
    a.leases.forget(stream.rtmsStreamId);
    await connection.client.del(keys.lease(stream.rtmsStreamId));
    await connection.client.zAdd(keys.index, { score: 1, value: stream.rtmsStreamId });
    const [orphan] = (await b.registry.orphans(10)).filter((candidate) => candidate.rtmsStreamId === stream.rtmsStreamId);
    expect(orphan).toMatchObject({ over: true });
    const claim = await b.leases.claim(stream.rtmsStreamId);
    expect(claim.status === 'claimed' && claim.record['stopReason']).toBe('6');
  });

  it('restores a record Redis lost, for its current owner only', async () => {
    const keys = prefix();
    const connection = await connect();
    const a = replica(connection, keys, 'replica-a');
    const stream = start();
    await a.registry.announce(stream, { claim: true });
    const lease = a.leases.get(stream.rtmsStreamId)!;
    await connection.client.flushDb();
    expect(await a.registry.write(lease, { state: 'live' })).toBe('notOwner');
    await a.leases.renewAll();
    expect(await a.registry.write(lease, { state: 'live' })).toBe('missing');
    const stats = { rtmsStreamId: stream.rtmsStreamId, createdAt: 5, state: 'live' } as never;
    expect(await a.registry.restore(lease, { start: stream, stats, excluded: ['u1'] })).toBe(true);
    expect(await a.registry.get(stream.rtmsStreamId)).toMatchObject({ start: stream, owner: 'replica-a', state: 'live' });
    expect(await connection.client.sMembers(keys.excluded(stream.rtmsStreamId))).toEqual(['u1']);
    expect(await connection.client.zScore(keys.index, stream.rtmsStreamId)).toBeGreaterThan(Date.now() - 60_000);
    expect(await a.registry.finish(lease)).toBe(true);
    expect(await connection.client.keys(`${keys.prefix}*`)).toEqual([]);
  });
});

describe('command stream', () => {
  it('delivers commands to the owner, redelivers one whose handling failed, and survives the stream vanishing', async () => {
    const keys = prefix();
    const sender = await connect();
    const handled: ClusterCommand[] = [];
    let failuresLeft = 1;
    const bus = new CommandBus({
      redis: await connect(),
      reader: await connect(3000),
      keys,
      replicaId: 'owner-1',
      logger,
      blockMs: 200,
      redeliverAfterMs: 300,
      handle: async (command) => {
        if (command.type === 'interrupt' && failuresLeft > 0) {
          failuresLeft -= 1;
          throw new Error('handler failed once');
        }
        handled.push(command);
      },
    });
    bus.start();
    const peer = new CommandBus({ redis: sender, reader: await connect(3000), keys, replicaId: 'peer', logger, handle: async () => undefined });
    try {
      await peer.send('owner-1', { type: 'stop', rtmsStreamId: 's1', stopReason: 6 });
      await peer.send('owner-1', { type: 'interrupt', rtmsStreamId: 's2', eventTs: 1 });
      await until(() => handled.length === 2, 5000);
      expect(handled.map((command) => command.type)).toEqual(['stop', 'interrupt']);
      expect(handled[0]).toMatchObject({ from: 'peer', hops: 0, rtmsStreamId: 's1', stopReason: 6 });
      // Acknowledged entries are deleted; nothing stays pending.
      expect(await sender.client.xLen(keys.commands('owner-1'))).toBe(0);
      expect((await sender.client.xPending(keys.commands('owner-1'), 'owner')).pending).toBe(0);

      // Redis forgot the stream and the group (restart without persistence): a new command still arrives.
      await sender.client.del(keys.commands('owner-1'));
      await peer.send('owner-1', { type: 'close', rtmsStreamId: 's3' });
      await until(() => handled.length === 3, 5000);
      expect(handled[2]).toMatchObject({ type: 'close', rtmsStreamId: 's3' });
    } finally {
      await bus.close({ deleteStream: true });
      await peer.close();
    }
  });

  it('plans takeovers by free capacity, the same on every replica', () => {
    const replicas = [
      { replicaId: 'a', free: 1 },
      { replicaId: 'b', free: 3 },
      { replicaId: 'c', free: 0 },
    ];
    const orphans = ['s1', 's2', 's3', 's4', 's5'];
    const plan = (self: string, selfFree: number): string[] => planTakeovers({ orphans, replicas, self, selfFree, seenForMs: () => 0, fallbackAfterMs: 1000 });
    expect(plan('b', 3)).toEqual(['s1', 's2', 's4']);
    expect(plan('a', 1)).toEqual(['s3']);
    expect(plan('c', 0)).toEqual([]);
    // An orphan nobody claimed for a while goes to anyone with room.
    expect(
      planTakeovers({
        orphans: ['s5'],
        replicas: [
          { replicaId: 'a', free: 0 },
          { replicaId: 'b', free: 2 },
        ],
        self: 'a',
        selfFree: 1,
        seenForMs: () => 5000,
        fallbackAfterMs: 1000,
      }),
    ).toEqual(['s5']);
  });
});

describe('webhook dedup and replica registry', () => {
  it('processes each delivery once across replicas and lists live replicas', async () => {
    const keys = prefix();
    const [one, two] = [await connect(), await connect()];
    const dedupOne = new RedisWebhookDeduplicator({ redis: one, keys });
    const dedupTwo = new RedisWebhookDeduplicator({ redis: two, keys });
    const key = JSON.stringify(['meeting.rtms_started', 'abc', 'ws://x', 1]);
    expect(await Promise.all([dedupOne.claim(key), dedupTwo.claim(key)])).toEqual(expect.arrayContaining([true, false]));
    const [dedupKey] = await one.client.keys(`${keys.prefix}dedup:*`);
    expect(await one.client.pTTL(dedupKey!)).toBeGreaterThan(89 * 60 * 1000);

    const registry = new ReplicaRegistry({ redis: one, keys, liveWindowMs: 1000 });
    await registry.heartbeat({ replicaId: 'r1', capacity: 4, active: 1, free: 3, draining: false });
    await registry.heartbeat({ replicaId: 'r2', capacity: 4, active: 4, free: 0, draining: true });
    expect((await registry.live()).map(({ replicaId, free, draining }) => ({ replicaId, free, draining }))).toEqual([
      { replicaId: 'r1', free: 3, draining: false },
      { replicaId: 'r2', free: 0, draining: true },
    ]);
    // r2 stops beating; r1 goes on. r2 drops out once its last beat is older than the window (Redis's clock).
    const live = await eventually(
      async () => {
        await registry.heartbeat({ replicaId: 'r1', capacity: 4, active: 1, free: 3, draining: false });
        const ids = (await registry.live()).map((info) => info.replicaId);
        return ids.includes('r2') ? undefined : ids;
      },
      { what: 'r2 to drop out of the live replicas', timeoutMs: 5000, intervalMs: 100 },
    );
    expect(live).toEqual(['r1']);
  });
});

async function until(condition: () => boolean, timeoutMs: number): Promise<void> {
  await eventually(condition, { what: condition.toString(), timeoutMs });
}
