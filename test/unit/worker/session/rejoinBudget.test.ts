import { describe, expect, it } from 'vitest';
import { RejoinBudget, STABLE_AFTER_MS } from '../../../../src/worker/session/rejoinBudget.ts';

const options = { budget: 5, windowMs: 60_000, baseMs: 1000, maxMs: 8000, random: () => 0 };

describe('RejoinBudget', () => {
  it('rejoins at once after a connection that lasted, backs off after joins lost at once', () => {
    const budget = new RejoinBudget({ ...options, budget: 100 });
    let now = 0;
    budget.joined(now);
    now += STABLE_AFTER_MS;
    expect(budget.next(now)).toEqual({ go: true, delayMs: 0 });
    const delays: number[] = [];
    for (let i = 0; i < 6; i += 1) {
      budget.joined(now);
      now += 50; // lost right after the join
      const decision = budget.next(now);
      if (!decision.go) throw new Error(decision.reason);
      delays.push(decision.delayMs);
      now += decision.delayMs;
    }
    expect(delays).toEqual([1000, 2000, 4000, 8000, 8000, 8000]);
    // A join that lasts resets the backoff.
    budget.joined(now);
    expect(budget.next(now + STABLE_AFTER_MS)).toEqual({ go: true, delayMs: 0 });
  });

  it('allows `budget` rejoins per window, then says why the stream fails; the window slides', () => {
    const budget = new RejoinBudget(options);
    for (let i = 0; i < 5; i += 1) expect(budget.next(i * 1000).go).toBe(true);
    const refused = budget.next(5000);
    expect(refused).toEqual({ go: false, reason: 'rejoin budget exhausted: 5 rejoins within 60 s (RTMS_REJOIN_BUDGET)' });
    expect(budget.next(60_000).go).toBe(true); // the first one left the window
  });
});
