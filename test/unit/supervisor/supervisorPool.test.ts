import { EventEmitter } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config.ts';
import type { SupervisorToWorker, WorkerToSupervisor } from '../../../src/ipc/messages.ts';
import { createLogger } from '../../../src/logger.ts';
import type { StreamStart } from '../../../src/rtms/products.ts';
import { Supervisor } from '../../../src/supervisor/supervisor.ts';
import type { WorkerMetricsCollection, WorkerPoolEvents, WorkerPoolPort } from '../../../src/supervisor/workerPool.ts';
import { initialStreamStats } from '../../../src/vocabulary/streamStats.ts';
import { tempDir, type TempDir } from '../../support/tempDir.ts';

/**
 * The supervisor's policy (admission, placement, routing, crash recovery, release) against a
 * fake pool: workers are ids, what the supervisor posts is recorded, and the test speaks for
 * the workers. No threads, so every decision is checked in milliseconds.
 */
class FakePool extends EventEmitter<WorkerPoolEvents> implements WorkerPoolPort {
  readonly posted: Array<{ workerId: number; message: SupervisorToWorker }> = [];
  readonly live = new Set<number>();
  closed = false;

  async start(): Promise<number> {
    return this.live.size;
  }
  get size(): number {
    return this.live.size;
  }
  post(workerId: number, message: SupervisorToWorker): boolean {
    if (!this.live.has(workerId)) return false;
    this.posted.push({ workerId, message });
    return true;
  }
  async collectMetrics(): Promise<WorkerMetricsCollection> {
    return { snapshots: [], late: 0 };
  }
  async close(): Promise<void> {
    this.closed = true;
  }
  /** A worker is up. */
  ready(workerId: number): void {
    this.live.add(workerId);
    this.emit('ready', workerId);
  }
  /** A worker died on its own. */
  crash(workerId: number): void {
    this.live.delete(workerId);
    this.emit('exit', { workerId, exitCode: 1, expected: false, reason: 'crashed' });
  }
  /** A worker reports. */
  say(workerId: number, message: WorkerToSupervisor): void {
    this.emit('message', workerId, message);
  }
  /** `[workerId, type, rtmsStreamId]` of everything posted, then forgotten. */
  take(): Array<[number, string, string]> {
    return this.posted
      .splice(0)
      .map(({ workerId, message }) => [
        workerId,
        message.type,
        'start' in message ? message.start.rtmsStreamId : 'rtmsStreamId' in message ? message.rtmsStreamId : '',
      ]);
  }
}

function start(id: string): StreamStart {
  return { product: 'meeting', rtmsStreamId: id, entityIdKey: 'meeting_uuid', entityId: `m-${id}`, serverUrls: 'ws://x', signalingUrl: 'ws://x', eventTs: 1 };
}

let output: TempDir | undefined;
afterEach(async () => {
  await output?.remove();
  output = undefined;
});

async function supervisor(maxStreams: number): Promise<{ supervisor: Supervisor; pool: FakePool }> {
  output = await tempDir('rtms-supervisor-');
  const config = loadConfig({
    ZM_RTMS_CLIENT: 'client-id',
    ZM_RTMS_SECRET: 'very-secret-value',
    ZM_WEBHOOK_SECRET_TOKEN: 'token-value',
    MAX_STREAMS: String(maxStreams),
    OUTPUT_DIR: output.path,
  });
  const pool = new FakePool();
  const made = new Supervisor({ config, logger: createLogger({ level: 'silent' }), pool });
  pool.ready(1);
  pool.ready(2);
  await made.start();
  return { supervisor: made, pool };
}

describe('Supervisor with a fake pool', () => {
  it('admits up to MAX_STREAMS, spreads streams over the workers and refuses the next one without posting it', async () => {
    const { supervisor: s, pool } = await supervisor(3);
    expect(s.isReady).toBe(true);
    expect(['a', 'b', 'c'].map((id) => s.startStream(start(id)))).toEqual([undefined, undefined, undefined]);
    expect(pool.take()).toEqual([
      [1, 'startStream', 'a'],
      [2, 'startStream', 'b'],
      [1, 'startStream', 'c'],
    ]);
    expect(s.startStream(start('d'))).toBe('max_streams');
    expect(s.startStream(start('a'))).toBe('already_active');
    expect(pool.take()).toEqual([]);
    expect(s.freeSlots).toBe(0);
  });

  it('routes commands to the worker holding the stream, and frees the slot only when that worker reports the end', async () => {
    const { supervisor: s, pool } = await supervisor(2);
    s.startStream(start('a'));
    s.startStream(start('b'));
    pool.take();
    expect(s.interrupt('b', 5)).toBe(true);
    expect(s.stop('a', 6)).toBe(true);
    expect(s.interrupt('nope', 5)).toBe(false);
    expect(pool.take()).toEqual([
      [2, 'interruptStream', 'b'],
      [1, 'stopStream', 'a'],
    ]);
    const ended = { ...initialStreamStats(start('a'), 'ended'), stopReason: 6 };
    // A report from a worker that does not hold the stream changes nothing.
    pool.say(2, { type: 'streamFinished', rtmsStreamId: 'a', stats: ended });
    expect(s.has('a')).toBe(true);
    pool.say(1, { type: 'streamFinished', rtmsStreamId: 'a', stats: ended });
    expect(s.has('a')).toBe(false);
    expect(s.get('a')).toMatchObject({ state: 'ended', stopReason: 6 });
    expect(s.startStream(start('c'))).toBeUndefined();
  });

  it("resumes a crashed worker's streams at once on a surviving worker, with their last statistics", async () => {
    const { supervisor: s, pool } = await supervisor(4);
    s.startStream(start('a'));
    s.startStream(start('b'));
    pool.take();
    pool.say(1, { type: 'stats', streams: [{ ...initialStreamStats(start('a'), 'live'), reconnects: 3 }] });
    pool.crash(1);
    const resumed = pool.posted[0]?.message;
    expect(resumed).toMatchObject({ type: 'startStream', start: { rtmsStreamId: 'a' }, resume: { previous: { reconnects: 3 } } });
    expect(pool.take()).toEqual([[2, 'startStream', 'a']]);
    // Reports for `a` count from its new worker only.
    pool.say(2, { type: 'stats', streams: [{ ...initialStreamStats(start('a'), 'live'), reconnects: 4 }] });
    expect(s.get('a')).toMatchObject({ reconnects: 4 });
    expect(s.has('b')).toBe(true);
  });

  it('with no worker left, streams wait; what is asked meanwhile is sent with the resume on the next worker', async () => {
    const { supervisor: s, pool } = await supervisor(4);
    s.startStream(start('a'));
    pool.take();
    pool.crash(1);
    expect(pool.take()).toEqual([[2, 'startStream', 'a']]);
    const states: string[] = [];
    s.on('streamState', (change) => states.push(`${change.rtmsStreamId}:${change.to}`));
    pool.crash(2);
    expect(s.get('a')?.state).toBe('waitingReconnect');
    expect(s.isReady).toBe(false);
    // Asked while the stream has no worker: kept on the record, sent with the resume.
    expect(s.excludeParticipant('a', 'user-7')).toBe(true);
    expect(s.stop('a', 6)).toBe(true);
    expect(pool.take()).toEqual([]);
    pool.ready(3);
    expect(pool.take()).toEqual([
      [3, 'startStream', 'a'],
      [3, 'excludeParticipant', 'a'],
      [3, 'stopStream', 'a'],
    ]);
    expect(states).toEqual(['a:waitingReconnect']);
  });

  it('release() resolves with the final statistics once the worker has let go', async () => {
    const { supervisor: s, pool } = await supervisor(2);
    s.startStream(start('a'));
    pool.take();
    const released = s.release('a', 'handoff');
    expect(pool.take()).toEqual([[1, 'releaseStream', 'a']]);
    pool.say(1, { type: 'streamFinished', rtmsStreamId: 'a', stats: { ...initialStreamStats(start('a'), 'ended'), reconnects: 1 } });
    expect(await released).toMatchObject({ rtmsStreamId: 'a', reconnects: 1 });
    expect(await s.release('a', 'handoff')).toBeUndefined();
    await s.close(0);
    expect(pool.closed).toBe(true);
    expect(s.startStream(start('b'))).toBe('shutting_down');
  });
});
