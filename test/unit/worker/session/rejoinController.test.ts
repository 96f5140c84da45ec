import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { systemClock } from '../../../../src/clock.ts';
import { ConnectorError } from '../../../../src/errors.ts';
import { createLogger } from '../../../../src/logger.ts';
import { STABLE_AFTER_MS } from '../../../../src/worker/session/rejoinBudget.ts';
import { RejoinController } from '../../../../src/worker/session/rejoinController.ts';
import { type RejoinScope } from '../../../../src/vocabulary/rejoin.ts';
import { StreamStateMachine } from '../../../../src/worker/streamStateMachine.ts';

const RTMS = { rejoinBudget: 5, rejoinBudgetWindowMs: 60_000, reconnectBaseMs: 100, reconnectMaxMs: 1000, reconnectWindowMs: 10_000 };

/** A join attempt the test settles by hand. */
interface Attempt {
  readonly scope: RejoinScope;
  readonly signal: AbortSignal;
  succeed(): void;
  fail(error: Error): void;
}

function rig(options: { previous?: { reconnects: number; rejoins: Record<string, number> } } = {}) {
  const attempts: Attempt[] = [];
  const failures: string[] = [];
  const events: Array<{ eventType: string; data: Record<string, unknown> }> = [];
  const limits: string[] = [];
  const gaps: Array<{ scope: string; seconds: number }> = [];
  const machine = new StreamStateMachine({ now: () => Date.now(), onChange: () => undefined });
  let liveCalls = 0;
  const rejoin = new RejoinController({
    rtms: RTMS,
    machine,
    previous: options.previous,
    clock: systemClock,
    logger: createLogger({ level: 'silent' }),
    metrics: { limitHit: (limit) => limits.push(limit), reconnectGap: (scope, seconds) => gaps.push({ scope, seconds }) },
    event: (eventType, data) => events.push({ eventType, data }),
    attempt: (scope, signal) =>
      new Promise<void>((resolve, reject) => {
        attempts.push({ scope, signal, succeed: resolve, fail: reject });
      }),
    ended: () => machine.isTerminal,
    live: () => (liveCalls += 1),
    fail: (reason) => {
      failures.push(reason);
      if (!machine.isTerminal) machine.transition('failed', reason);
    },
    random: () => 0,
  });
  return { rejoin, machine, attempts, failures, events, limits, gaps, liveCalls: () => liveCalls };
}

/** Lets p-retry's promise chain run (no timers involved). */
async function settle(): Promise<void> {
  for (let i = 0; i < 10; i += 1) await Promise.resolve();
}

/** The stream joined and is live. */
async function live(r: ReturnType<typeof rig>): Promise<void> {
  r.machine.transition('connecting');
  r.rejoin.begin(undefined);
  r.attempts.at(-1)?.succeed();
  await settle();
  expect(r.machine.state).toBe('live');
}

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

describe('RejoinController', () => {
  it('the first join goes live; it is not a reconnect', async () => {
    const r = rig();
    await live(r);
    expect(r.liveCalls()).toBe(1);
    expect(r.rejoin.reconnects).toBe(0);
    expect(r.rejoin.rejoins()).toEqual({});
    expect(r.attempts.map(({ scope }) => scope)).toEqual(['full']);
  });

  it('a resumed stream counts its first join as a reconnect under full/<reason>, added to the earlier counts', async () => {
    const r = rig({ previous: { reconnects: 2, rejoins: { 'media/media_closed': 2 } } });
    r.machine.transition('connecting');
    r.rejoin.begin('worker_crashed');
    expect(r.rejoin.reconnects).toBe(3);
    expect(r.rejoin.rejoins()).toEqual({ 'media/media_closed': 2, 'full/worker_crashed': 1 });
  });

  it('a media rejoin: one gap, waitingReconnect until it succeeds, and the gap measured', async () => {
    const r = rig();
    await live(r);
    vi.advanceTimersByTime(STABLE_AFTER_MS);
    r.rejoin.request('media', 'media_closed');
    expect(r.machine.state).toBe('waitingReconnect');
    expect(r.events).toEqual([{ eventType: 'stream.rejoin', data: { scope: 'media', trigger: 'media_closed' } }]);
    vi.advanceTimersByTime(1500);
    r.attempts.at(-1)?.succeed();
    await settle();
    expect(r.machine.state).toBe('live');
    expect(r.gaps).toEqual([{ scope: 'media', seconds: 1.5 }]);
    expect(r.rejoin.reconnects).toBe(1);
    expect(r.rejoin.rejoins()).toEqual({ 'media/media_closed': 1 });
  });

  it('a full rejoin supersedes a media rejoin and takes its count; a later media trigger joins the full one', async () => {
    const r = rig();
    await live(r);
    vi.advanceTimersByTime(STABLE_AFTER_MS);
    r.rejoin.request('media', 'media_closed');
    const media = r.attempts.at(-1);
    r.rejoin.request('full', 'signaling_closed');
    expect(media?.signal.aborted).toBe(true);
    r.rejoin.request('media', 'media_connection_interrupted');
    expect(r.attempts.map(({ scope }) => scope)).toEqual(['full', 'media', 'full']);
    expect(r.rejoin.reconnects).toBe(1);
    expect(r.rejoin.rejoins()).toEqual({ 'full/signaling_closed': 1 });
    // The superseded attempt's late outcome changes nothing.
    media?.succeed();
    await settle();
    expect(r.machine.state).toBe('waitingReconnect');
    r.attempts.at(-1)?.succeed();
    await settle();
    expect(r.machine.state).toBe('live');
  });

  it('a failover restarts even a full rejoin under way, without counting another gap', async () => {
    const r = rig();
    await live(r);
    vi.advanceTimersByTime(STABLE_AFTER_MS);
    r.rejoin.request('full', 'signaling_closed');
    const first = r.attempts.at(-1);
    r.rejoin.request('full', 'failover', { restart: true });
    expect(first?.signal.aborted).toBe(true);
    expect(r.attempts).toHaveLength(3);
    expect(r.rejoin.reconnects).toBe(1);
    expect(r.rejoin.rejoins()).toEqual({ 'full/failover': 1 });
  });

  it('retryable failures are tried again with backoff (p-retry); the next success goes live', async () => {
    const r = rig();
    await live(r);
    vi.advanceTimersByTime(STABLE_AFTER_MS);
    r.rejoin.request('full', 'signaling_closed');
    r.attempts.at(-1)?.fail(new ConnectorError('RTMS_CONNECTION_FAILED', 'refused', { retryable: true }));
    await settle();
    expect(r.attempts).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(RTMS.reconnectMaxMs * 2);
    expect(r.attempts).toHaveLength(3);
    r.attempts.at(-1)?.succeed();
    await settle();
    expect(r.machine.state).toBe('live');
    expect(r.failures).toEqual([]);
  });

  it('a failure that is not retryable fails the stream, naming the scope', async () => {
    const r = rig();
    await live(r);
    vi.advanceTimersByTime(STABLE_AFTER_MS);
    r.rejoin.request('media', 'media_closed');
    expect(r.attempts.map(({ scope }) => scope)).toEqual(['full', 'media']);
    r.attempts.at(-1)?.fail(new ConnectorError('RTMS_PROTOCOL_VIOLATION', 'no media URL', { retryable: false }));
    await settle();
    await vi.advanceTimersByTimeAsync(0);
    expect(r.failures).toEqual(['media rejoin failed: no media URL']);
  });

  it('joins that do not last: the next rejoin waits; past the budget the stream fails', async () => {
    const r = rig();
    await live(r);
    r.rejoin.request('full', 'signaling_closed');
    expect(r.events.at(-1)?.data).toMatchObject({ delayMs: RTMS.reconnectBaseMs });
    // Waiting: nothing attempted yet.
    expect(r.attempts).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(RTMS.reconnectBaseMs);
    expect(r.attempts).toHaveLength(2);
    for (let i = 0; i < RTMS.rejoinBudget - 1; i += 1) {
      r.attempts.at(-1)?.succeed();
      await settle();
      r.rejoin.request('full', 'signaling_closed');
      await vi.advanceTimersByTimeAsync(RTMS.reconnectMaxMs);
    }
    r.attempts.at(-1)?.succeed();
    await settle();
    r.rejoin.request('full', 'signaling_closed');
    expect(r.limits).toEqual(['rejoin_budget']);
    expect(r.failures[0]).toMatch(/^rejoin budget exhausted/);
  });

  it('nothing starts once the stream is over; abort ignores the outcome of the join under way', async () => {
    const r = rig();
    r.machine.transition('connecting');
    r.rejoin.begin(undefined);
    const first = r.attempts.at(-1);
    r.rejoin.abort();
    expect(first?.signal.aborted).toBe(true);
    first?.succeed();
    await settle();
    expect(r.machine.state).toBe('connecting');
    r.machine.transition('ended');
    r.rejoin.request('full', 'signaling_closed');
    expect(r.attempts).toHaveLength(1);
  });
});
