import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { HeldStreams } from '../../../src/cluster/heldStreams.ts';
import { KeyedQueue } from '../../../src/cluster/keyedQueue.ts';
import type { ClaimOutcome, HeldLease } from '../../../src/cluster/streamLeases.ts';
import { createLogger } from '../../../src/logger.ts';
import type { StreamStart } from '../../../src/rtms/products.ts';

const WINDOW_MS = 60_000;

function start(rtmsStreamId: string, eventTs: number): StreamStart {
  return { product: 'meeting', rtmsStreamId, eventTs, entityIdKey: 'meeting_uuid', entityId: 'm', signalingUrl: 'wss://x' } as unknown as StreamStart;
}

function rig(claim: (id: string) => ClaimOutcome | undefined = () => undefined) {
  const lanes = new KeyedQueue();
  const announced: string[] = [];
  const recovered: Array<{ id: string; eventTs: number }> = [];
  const excluded: string[] = [];
  const finished: string[] = [];
  let reserved = 0;
  let maxReserved = 0;
  const held = new HeldStreams({
    reconnectWindowMs: WINDOW_MS,
    registry: {
      announce: async (payload) => ({ status: 'announced', claim: claim(payload.rtmsStreamId) }) as never,
      finish: async (lease) => (finished.push(lease.rtmsStreamId), true),
      removeOrphan: async () => true,
    },
    leases: { claim: async () => ({ status: 'unknown' }) as never },
    lanes,
    logger: createLogger({ level: 'silent' }),
    free: () => 1,
    reserve: () => {
      reserved += 1;
      maxReserved = Math.max(maxReserved, reserved);
      return () => void (reserved -= 1);
    },
    announce: async (payload) => void announced.push(payload.rtmsStreamId),
    recovered: async (outcome, payload) =>
      void recovered.push({ id: outcome.status === 'claimed' ? outcome.lease.rtmsStreamId : '', eventTs: payload.eventTs }),
    exclude: (id, userId) => excluded.push(`${id}/${userId}`),
    warn: (message) => {
      throw new Error(message);
    },
  });
  return { held, lanes, announced, recovered, excluded, finished, reserved: () => reserved, maxReserved: () => maxReserved };
}

beforeEach(() => vi.useFakeTimers({ now: 1_000_000 }));
afterEach(() => vi.useRealTimers());

describe('HeldStreams', () => {
  it('a stream held while Redis was away: announced again on the next scan, given up after the reconnect window', async () => {
    const r = rig();
    r.held.pend(start('a', 1));
    r.held.retryHeld();
    await r.lanes.idle();
    expect(r.announced).toEqual(['a']);
    vi.advanceTimersByTime(WINDOW_MS + 1);
    r.held.retryHeld();
    await r.lanes.idle();
    expect(r.announced).toEqual(['a']);
    r.held.announced('a');
  });

  it('a suspended stream is claimed back with the newest rtms_started, and exclusions made meanwhile are applied', async () => {
    const claimed = (id: string): ClaimOutcome =>
      ({
        status: 'claimed',
        lease: { rtmsStreamId: id } as HeldLease,
        record: { start: JSON.stringify(start(id, 5)) },
        excluded: ['u1'],
        orphanedMs: 0,
      }) as unknown as ClaimOutcome;
    const r = rig(claimed);
    r.held.suspend('s', { start: start('s', 10), stats: undefined, excluded: [] });
    expect(r.held.isSuspended('s')).toBe(true);
    expect(r.held.startedWhileSuspended(start('s', 20))).toBe(true);
    expect(r.held.startedWhileSuspended(start('other', 20))).toBe(false);
    expect(r.held.command({ type: 'exclude', rtmsStreamId: 's', userId: 'u1' })).toBe(true);
    expect(r.held.command({ type: 'exclude', rtmsStreamId: 's', userId: 'u2' })).toBe(true);
    r.held.retryHeld();
    await r.lanes.idle();
    expect(r.recovered).toEqual([{ id: 's', eventTs: 20 }]);
    expect(r.excluded).toEqual(['s/u2']);
    expect(r.held.isSuspended('s')).toBe(false);
    expect(r.maxReserved()).toBe(1);
    expect(r.reserved()).toBe(0);
  });

  it('a stop or close ends a held stream here; other commands leave it held', () => {
    const r = rig();
    r.held.suspend('s', { start: start('s', 1), stats: undefined, excluded: [] });
    r.held.pend(start('p', 1));
    expect(r.held.command({ type: 'interrupt', rtmsStreamId: 's', eventTs: 0 })).toBe(true);
    expect(r.held.command({ type: 'stop', rtmsStreamId: 's', stopReason: 6 })).toBe(true);
    expect(r.held.isSuspended('s')).toBe(false);
    expect(r.held.command({ type: 'close', rtmsStreamId: 'p' })).toBe(true);
    expect(r.held.command({ type: 'close', rtmsStreamId: 'p' })).toBe(false);
  });

  it('a finished stream whose record could not be deleted is deleted on the next scan', async () => {
    const r = rig();
    r.held.unfinished('f', { rtmsStreamId: 'f' } as HeldLease);
    await r.held.retryUnfinished();
    await r.held.retryUnfinished();
    expect(r.finished).toEqual(['f']);
  });
});
