import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { KeyedQueue } from '../../../src/cluster/keyedQueue.ts';
import { OwnedStreams } from '../../../src/cluster/ownedStreams.ts';
import type { HeldLease, StreamLeases } from '../../../src/cluster/streamLeases.ts';
import { createLogger } from '../../../src/logger.ts';
import type { Supervisor } from '../../../src/supervisor/supervisor.ts';
import type { StreamStats } from '../../../src/vocabulary/streamStats.ts';

function rig(options: { draining?: boolean; finishFails?: boolean; stopReason?: number } = {}) {
  const log: string[] = [];
  const lanes = new KeyedQueue();
  const held = new Map<string, HeldLease>();
  const lease = (id: string): HeldLease => held.get(id) ?? (held.set(id, { rtmsStreamId: id } as HeldLease), lease(id));
  const leases = Object.assign(new EventEmitter(), { get: lease, forget: lease }) as unknown as StreamLeases;
  const supervisor = Object.assign(new EventEmitter(), {
    streamInfo: (id: string) => ({ start: { rtmsStreamId: id }, stats: {}, excluded: ['u'] }),
    release: async (id: string, reason: string) => (log.push(`release ${id} ${reason}`), { rtmsStreamId: id, stopReason: options.stopReason }),
  }) as unknown as Supervisor;
  const owned = new OwnedStreams({
    supervisor: () => supervisor,
    leases,
    registry: {
      write: async () => (log.push('write'), 'ok') as never,
      restore: async () => (log.push('restore'), true),
      finish: async () => {
        if (options.finishFails) throw new Error('down');
        log.push('finish');
        return true;
      },
    },
    held: { suspend: (id) => log.push(`suspend ${id}`), unfinished: (id) => log.push(`unfinished ${id}`) },
    lanes,
    leaseRenewMs: 1000,
    redisUp: () => true,
    draining: () => options.draining === true,
    leaseLost: (id, reason) => log.push(`lost ${id} ${reason}`),
    reacquired: (id) => log.push(`reacquired ${id}`),
    logger: createLogger({ level: 'silent' }),
    warn: () => undefined,
  });
  owned.attach(supervisor);
  return { owned, log, lanes, leases, supervisor };
}

describe('OwnedStreams', () => {
  it('a lease that expired: the stream is let go here at once and kept to claim back', async () => {
    const r = rig();
    r.leases.emit('lost', { rtmsStreamId: 's', reason: 'expired', lease: r.leases.get('s') as HeldLease });
    expect(r.owned.releasing.has('s')).toBe(true);
    await r.lanes.idle();
    expect(r.log).toEqual(['lost s expired', 'release s lease_expired', 'suspend s']);
    expect(r.owned.releasing.has('s')).toBe(false);
  });

  it('taken by another replica, ended by Zoom, or while draining: let go, not kept', async () => {
    for (const [options, reason] of [
      [{}, 'taken'],
      [{ stopReason: 6 }, 'expired'],
      [{ draining: true }, 'expired'],
    ] as const) {
      const r = rig(options);
      r.leases.emit('lost', { rtmsStreamId: 's', reason, lease: r.leases.get('s') as HeldLease });
      await r.lanes.idle();
      expect(r.log.some((line) => line.startsWith('suspend'))).toBe(false);
      expect(r.log).toContain(`release s lease_${reason}`);
    }
  });

  it("a finished stream's record is deleted; when Redis refuses, it is retried later", async () => {
    const r = rig();
    r.supervisor.emit('streamFinished', { rtmsStreamId: 's' } as StreamStats);
    await r.lanes.idle();
    expect(r.log).toEqual(['finish']);
    const failing = rig({ finishFails: true });
    failing.supervisor.emit('streamFinished', { rtmsStreamId: 's' } as StreamStats);
    await failing.lanes.idle();
    expect(failing.log).toEqual(['unfinished s']);
  });

  it('statistics are written at most once per interval; a lease reacquired restores the record', async () => {
    const r = rig();
    r.supervisor.emit('stats', [{ rtmsStreamId: 's', state: 'live' } as StreamStats]);
    r.supervisor.emit('stats', [{ rtmsStreamId: 's', state: 'live' } as StreamStats]);
    r.leases.emit('reacquired', { rtmsStreamId: 's', lease: r.leases.get('s') as HeldLease });
    await r.lanes.idle();
    expect(r.log.filter((line) => line === 'write')).toHaveLength(1);
    expect(r.log).toContain('reacquired s');
  });
});
