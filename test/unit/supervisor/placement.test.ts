import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/logger.ts';
import type { StreamStart } from '../../../src/rtms/products.ts';
import { OrphanRecovery } from '../../../src/supervisor/orphanRecovery.ts';
import { Placement } from '../../../src/supervisor/placement.ts';
import { newStreamRecord, startMessages, type LeaseGuard, type StreamRecord } from '../../../src/supervisor/streamRecord.ts';
import { initialStreamStats } from '../../../src/vocabulary/streamStats.ts';

const logger = createLogger({ level: 'silent' });

function start(id: string): StreamStart {
  return { rtmsStreamId: id, product: 'meeting', entityId: `m-${id}`, entityIdKey: 'meeting_uuid', signalingUrl: 'ws://x', serverUrls: 'ws://x', eventTs: 1 };
}

/** A fake pool around OrphanRecovery: records which worker each stream was started on. */
function harness(options: { leaseGuard?: LeaseGuard } = {}) {
  const placement = new Placement();
  const records = new Map<string, StreamRecord>();
  const starts: Array<{ id: string; workerId: number }> = [];
  const failed: Array<{ id: string; failure: string }> = [];
  const recovery = new OrphanRecovery({
    placement,
    logger,
    leaseGuard: options.leaseGuard,
    record: (id) => records.get(id),
    accepting: () => true,
    postStart: (record, workerId) => {
      record.startPosted = true;
      starts.push({ id: record.start.rtmsStreamId, workerId });
    },
    fail: (record, failure) => {
      records.delete(record.start.rtmsStreamId);
      placement.remove(record.start.rtmsStreamId);
      failed.push({ id: record.start.rtmsStreamId, failure });
    },
    waiting: () => undefined,
  });
  const admit = (id: string): number | undefined => {
    const record = newStreamRecord(start(id), initialStreamStats(start(id), 'idle'), [], undefined);
    record.startPosted = true;
    records.set(id, record);
    return placement.place(id);
  };
  const crash = (workerId: number) => recovery.workerExited({ workerId, exitCode: 1, expected: false, reason: 'crashed' });
  const ready = (workerId: number) => {
    placement.addWorker(workerId);
    recovery.placeWaiting();
  };
  return { placement, records, starts, failed, admit, crash, ready, recovery };
}

describe('Placement', () => {
  it('places on the least-loaded live worker, never on a dead one, and keeps a placed stream where it is', () => {
    const placement = new Placement();
    placement.addWorker(1);
    placement.addWorker(2);
    expect(['a', 'b', 'c', 'd'].map((id) => placement.place(id))).toEqual([1, 2, 1, 2]);
    expect(placement.place('a')).toBeUndefined();
    expect(placement.workerOf('a')).toBe(1);
    expect(placement.removeWorker(1)).toEqual(['a', 'c']);
    expect(placement.removeWorker(1)).toEqual([]);
    expect(placement.waiting()).toEqual(['a', 'c']);
    expect(placement.workerOf('a')).toBeUndefined();
    expect(placement.leastLoaded()).toBe(2);
    placement.removeWorker(2);
    expect(placement.place('e')).toBeUndefined();
    expect(placement.waiting()).toEqual(['a', 'c', 'b', 'd', 'e']);
  });
});

describe('OrphanRecovery', () => {
  it('resumes each orphan of a crash once, and the replacement resumes nothing already running', () => {
    const h = harness();
    h.ready(1);
    h.ready(2);
    for (const id of ['a', 'b', 'c', 'd']) h.admit(id);
    h.crash(1);
    // Both orphans go to the survivor, once each (the bug resumed one twice).
    expect(h.starts).toEqual([
      { id: 'a', workerId: 2 },
      { id: 'c', workerId: 2 },
    ]);
    h.ready(3);
    expect(h.starts).toHaveLength(2);
    expect(h.placement.waiting()).toEqual([]);
  });

  it('keeps orphans waiting while no worker is live, then places each once; a crash during the resume makes them orphans again', () => {
    const h = harness();
    h.ready(1);
    h.ready(2);
    for (const id of ['a', 'b', 'c', 'd']) h.admit(id);
    h.crash(1);
    h.crash(2);
    expect(h.placement.waiting().sort()).toEqual(['a', 'b', 'c', 'd']);
    h.ready(3);
    expect(
      h.starts
        .filter((s) => s.workerId === 3)
        .map((s) => s.id)
        .sort(),
    ).toEqual(['a', 'b', 'c', 'd']);
    h.crash(3);
    h.ready(4);
    h.ready(5);
    expect(
      h.starts
        .filter((s) => s.workerId === 4)
        .map((s) => s.id)
        .sort(),
    ).toEqual(['a', 'b', 'c', 'd']);
    expect(h.starts.filter((s) => s.workerId === 5)).toEqual([]);
    expect(h.failed).toEqual([]);
  });

  it('with a lease guard, an answer for a placement that was superseded (its worker died) starts nothing', async () => {
    const answers: Array<(owned: boolean) => void> = [];
    const h = harness({ leaseGuard: { confirm: () => new Promise((resolve) => answers.push(resolve)) } });
    h.ready(1);
    h.ready(2);
    h.admit('a');
    h.crash(1);
    expect(h.placement.workerOf('a')).toBe(2);
    expect(h.records.get('a')?.startPosted).toBe(false);
    // Worker 2 dies before the lease check answers: the stream waits again, then goes to 3.
    h.crash(2);
    h.ready(3);
    expect(answers).toHaveLength(2);
    answers[0]?.(true);
    await Promise.resolve();
    expect(h.starts).toEqual([]);
    answers[1]?.(true);
    await Promise.resolve();
    expect(h.starts).toEqual([{ id: 'a', workerId: 3 }]);
  });

  it('a lost lease ends the orphan here instead of resuming it', async () => {
    const h = harness({ leaseGuard: { confirm: () => Promise.resolve(false) } });
    h.ready(1);
    h.ready(2);
    h.admit('a');
    h.crash(1);
    await Promise.resolve();
    await Promise.resolve();
    expect(h.starts).toEqual([]);
    expect(h.failed).toEqual([{ id: 'a', failure: 'lease lost' }]);
  });
});

describe('startMessages', () => {
  it('re-applies to a new session everything asked while the stream had none: exclusions, live subscriptions, then stop or close', () => {
    const record = newStreamRecord(start('a'), initialStreamStats(start('a'), 'live'), ['u1'], 'worker_crashed');
    record.live = new Map([[7, ['audio'] as const]]);
    record.closeRequested = true;
    const previous = record.stats;
    expect(startMessages(record, previous).map((message) => message.type)).toEqual(['startStream', 'excludeParticipant', 'liveSubscribe', 'closeStream']);
    expect(startMessages(record, previous)[0]).toMatchObject({ resume: { previous, reason: 'worker_crashed' } });
    // Zoom's stop wins over our close: the stream is over either way, stop says why.
    record.stopRequested = 6;
    expect(startMessages(record, undefined).map((message) => message.type)).toEqual(['startStream', 'excludeParticipant', 'liveSubscribe', 'stopStream']);
    expect(startMessages(record, undefined)[0]).not.toHaveProperty('resume');
  });
});
