import { describe, expect, it } from 'vitest';
import { decodeCommand, encodeCommand, type ClusterCommand } from '../../../src/cluster/clusterCommand.ts';
import { leaseValue, parseLeaseValue } from '../../../src/cluster/clusterKeys.ts';
import { planTakeovers } from '../../../src/cluster/takeoverPlanner.ts';
import { loadConfig } from '../../../src/config.ts';
import { ConfigError } from '../../../src/errors.ts';

const required = { ZM_RTMS_CLIENT: 'client-id', ZM_RTMS_SECRET: 'very-secret-value', ZM_WEBHOOK_SECRET_TOKEN: 'token-value' };

function problemsOf(env: Record<string, string>): readonly string[] {
  try {
    loadConfig({ ...required, ...env });
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('cluster configuration', () => {
  it('defaults: 10 s leases renewed every third, 1 s scans, 90 min dedup', () => {
    expect(loadConfig(required).cluster).toEqual({
      leaseTtlMs: 10_000,
      leaseRenewMs: 3333,
      scanIntervalMs: 1000,
      orphanMaxAgeMs: 120_000,
      keyPrefix: 'rtms:cluster:',
      replicaId: undefined,
      dedupTtlMs: 5_400_000,
    });
    expect(loadConfig({ ...required, CLUSTER_LEASE_TTL_MS: '6000' }).cluster.leaseRenewMs).toBe(2000);
  });

  it('rejects settings that would break the lease protocol or Zoom retry dedup', () => {
    expect(problemsOf({ CLUSTER_LEASE_TTL_MS: '3000', CLUSTER_LEASE_RENEW_MS: '2000', CLUSTER_REPLICA_ID: 'a|b', CLUSTER_DEDUP_TTL_MS: '60000' })).toEqual([
      'CLUSTER_LEASE_RENEW_MS: expected at most half of CLUSTER_LEASE_TTL_MS (3000), got 2000',
      'CLUSTER_REPLICA_ID: expected 1 to 100 letters, digits or . _ : -, got "a|b"',
      'CLUSTER_DEDUP_TTL_MS: expected an integer from 5400000 to 604800000, got "60000"',
    ]);
    expect(problemsOf({ CLUSTER_LEASE_TTL_MS: '500' })).toEqual(['CLUSTER_LEASE_TTL_MS: expected an integer from 1000 to 300000, got "500"']);
  });
});

describe('cluster wire formats', () => {
  it('lease values carry the owner and its fencing token', () => {
    expect(parseLeaseValue(leaseValue('pod-7.example-3f2a', 42))).toEqual({ replicaId: 'pod-7.example-3f2a', token: 42 });
    expect(parseLeaseValue('garbage')).toBeUndefined();
    expect(parseLeaseValue('r|x')).toBeUndefined();
  });

  it('commands round-trip; malformed or unknown ones decode to undefined', () => {
    const command: ClusterCommand = { type: 'exclude', rtmsStreamId: 's1', userId: '16778240', from: 'r0', sentAt: 1, hops: 0 };
    expect(decodeCommand(encodeCommand(command))).toEqual(command);
    const started: ClusterCommand = {
      type: 'started',
      start: { product: 'webinar', rtmsStreamId: 's2', entityIdKey: 'webinar_uuid', entityId: 'e', serverUrls: 'wss://a', signalingUrl: 'wss://a', eventTs: 5 },
      from: 'r1',
      sentAt: 2,
      hops: 1,
    };
    expect(decodeCommand(encodeCommand(started))).toEqual(started);
    expect(decodeCommand('{"type":"launch","rtmsStreamId":"s"}')).toBeUndefined();
    expect(decodeCommand('{"type":"stop"}')).toBeUndefined();
    expect(decodeCommand('not json')).toBeUndefined();
    expect(decodeCommand('{"type":"started","start":{"rtmsStreamId":"s"}}')).toBeUndefined();
  });
});

describe('takeover planner', () => {
  it("spreads a dead replica's streams over the survivors by free capacity, identically on each", () => {
    const replicas = [
      { replicaId: 'a', free: 2 },
      { replicaId: 'b', free: 2 },
      { replicaId: 'c', free: 1 },
    ];
    const orphans = ['o1', 'o2', 'o3', 'o4', 'o5', 'o6'];
    const plans = replicas.map((replica) =>
      planTakeovers({ orphans, replicas, self: replica.replicaId, selfFree: replica.free, seenForMs: () => 0, fallbackAfterMs: 2000 }),
    );
    expect(plans).toEqual([['o1', 'o3'], ['o2', 'o4'], ['o5']]);
    // Every orphan that fits is planned exactly once; o6 waits for room.
    expect(plans.flat().sort()).toEqual(['o1', 'o2', 'o3', 'o4', 'o5']);
  });

  it('never plans more than the replica can hold, and nothing without room', () => {
    const replicas = [{ replicaId: 'a', free: 5 }];
    expect(planTakeovers({ orphans: ['x', 'y', 'z'], replicas, self: 'a', selfFree: 2, seenForMs: () => 0, fallbackAfterMs: 0 })).toEqual(['x', 'y']);
    expect(planTakeovers({ orphans: ['x'], replicas, self: 'a', selfFree: 0, seenForMs: () => 0, fallbackAfterMs: 0 })).toEqual([]);
  });
});
