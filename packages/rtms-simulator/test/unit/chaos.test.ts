import { describe, expect, it } from 'vitest';
import { CHAOS_KINDS, ChaosPlan, DEFAULT_CHAOS_WEIGHTS, type ChaosDraw, choose, resolveChaosOptions } from '../../src/chaos.ts';
import { deriveSeed } from '../../src/prng.ts';
import { SimulatorError } from '../../src/simulatorErrors.ts';

/** Runs a plan as a stream would, firing each injection the moment it is due; returns (time, draw) pairs. */
function schedule(plan: ChaosPlan, count: number, start = 1_000_000): Array<{ at: number; draw: ChaosDraw }> {
  const fired: Array<{ at: number; draw: ChaosDraw }> = [];
  plan.start(start);
  while (fired.length < count) {
    const at = plan.nextAt ?? start;
    const draw = plan.due(at);
    if (draw === undefined) throw new Error('nothing due at nextAt');
    fired.push({ at, draw });
    plan.done(at);
  }
  return fired;
}

describe('chaos options', () => {
  it('fills in defaults and takes the simulator seed when none is given', () => {
    const options = resolveChaosOptions({}, 42);
    expect(options).toMatchObject({
      seed: 42,
      ratePerMinute: 6,
      quietStartMs: 1000,
      oversizedBytes: 1.5 * 1024 * 1024,
      clientMaxPayloadBytes: 32 * 1024 * 1024,
    });
    expect(options.weights).toEqual(DEFAULT_CHAOS_WEIGHTS);
    expect(resolveChaosOptions({ seed: 7, weights: { failover: 0 } }, 42)).toMatchObject({ seed: 7, weights: { ...DEFAULT_CHAOS_WEIGHTS, failover: 0 } });
  });

  it.each([
    [{ ratePerMinute: 0 }, /ratePerMinute/],
    [{ ratePerMinute: -1 }, /ratePerMinute/],
    [{ weights: { nonsense: 1 } }, /unknown kind nonsense/],
    [{ weights: { stall: -1 } }, /weights\.stall/],
    [{ weights: Object.fromEntries(CHAOS_KINDS.map((kind) => [kind, 0])) }, /every kind is disabled/],
    [{ shortStallMs: [500, 100] as const }, /shortStallMs/],
    [{ oversizedBytes: Number.NaN }, /oversizedBytes/],
  ])('rejects %j', (options, message) => {
    expect(() => resolveChaosOptions(options, 1)).toThrow(SimulatorError);
    expect(() => resolveChaosOptions(options, 1)).toThrow(message);
  });
});

describe('ChaosPlan', () => {
  it('is a pure function of the seed: same seed, same injections at the same offsets with the same parameters', () => {
    const options = resolveChaosOptions({ seed: 5 }, 0);
    const a = schedule(new ChaosPlan(options, deriveSeed(5, 'chaos', 0)), 200);
    const b = schedule(new ChaosPlan(options, deriveSeed(5, 'chaos', 0)), 200, 2_000_000);
    expect(a.map(({ at, draw }) => ({ offset: at - 1_000_000, draw }))).toEqual(b.map(({ at, draw }) => ({ offset: at - 2_000_000, draw })));
    const other = schedule(new ChaosPlan(options, deriveSeed(5, 'chaos', 1)), 200);
    expect(other.map(({ draw }) => draw.kind)).not.toEqual(a.map(({ draw }) => draw.kind));
  });

  it('nothing is due during the quiet start; then injections arrive at the configured mean rate', () => {
    const options = resolveChaosOptions({ seed: 9, ratePerMinute: 12, quietStartMs: 5000 }, 0);
    const plan = new ChaosPlan(options, 123);
    plan.start(0);
    expect(plan.due(4999)).toBeUndefined();
    const fired = schedule(plan, 2000, 0);
    expect(fired[0]?.at).toBeGreaterThanOrEqual(5000);
    const meanGapMs = ((fired.at(-1)?.at ?? 0) - (fired[0]?.at ?? 0)) / (fired.length - 1);
    expect(meanGapMs).toBeGreaterThan(4500);
    expect(meanGapMs).toBeLessThan(5500);
    expect(fired.map(({ draw }) => draw.index)).toEqual(fired.map((_, i) => i + 1));
  });

  it('an injection stays due until it is done, and waiting does not change what comes next', () => {
    const options = resolveChaosOptions({ seed: 3 }, 0);
    const prompt = schedule(new ChaosPlan(options, 77), 20).map(({ draw }) => draw);
    const plan = new ChaosPlan(options, 77);
    plan.start(0);
    const late: ChaosDraw[] = [];
    while (late.length < 20) {
      const now = (plan.nextAt ?? 0) + 10_000; // the stream was busy (rejoining) when it became due
      const draw = plan.due(now);
      expect(plan.due(now)).toBe(draw);
      if (draw !== undefined) late.push(draw);
      plan.done(now);
    }
    expect(late).toEqual(prompt);
  });

  it('draws kinds in proportion to their weights and never a disabled one', () => {
    const weights = Object.fromEntries(CHAOS_KINDS.map((kind) => [kind, 0])) as Record<string, number>;
    weights['stall'] = 3;
    weights['killMedia'] = 1;
    const fired = schedule(new ChaosPlan(resolveChaosOptions({ seed: 1, weights }, 0), 99), 4000);
    const stalls = fired.filter(({ draw }) => draw.kind === 'stall').length;
    expect(new Set(fired.map(({ draw }) => draw.kind))).toEqual(new Set(['stall', 'killMedia']));
    expect(stalls / fired.length).toBeGreaterThan(0.7);
    expect(stalls / fired.length).toBeLessThan(0.8);
  });

  it('stalls are short or long, each within its range; suppression and late webhooks within theirs', () => {
    const options = resolveChaosOptions(
      { seed: 2, shortStallMs: [100, 200], longStallMs: [5000, 6000], keepAliveSuppressionMs: [3000, 4000], lateWebhookDelayMs: [10, 20] },
      0,
    );
    const draws = schedule(new ChaosPlan(options, 5), 3000).map(({ draw }) => draw);
    const stalls = draws.filter((draw) => draw.kind === 'stall').map((draw) => draw.durationMs);
    expect(stalls.every((ms) => (ms >= 100 && ms <= 200) || (ms >= 5000 && ms <= 6000))).toBe(true);
    expect(stalls.some((ms) => ms <= 200)).toBe(true);
    expect(stalls.some((ms) => ms >= 5000)).toBe(true);
    const suppressions = draws.filter((draw) => draw.kind === 'suppressKeepAlives').map((draw) => draw.durationMs);
    expect(suppressions).not.toHaveLength(0);
    expect(suppressions.every((ms) => ms >= 3000 && ms <= 4000)).toBe(true);
    const late = draws.filter((draw) => draw.kind === 'lateInterrupted').map((draw) => draw.durationMs);
    expect(late).not.toHaveLength(0);
    expect(late.every((ms) => ms >= 10 && ms <= 20)).toBe(true);
    for (const draw of draws) {
      expect(draw.pick).toBeGreaterThanOrEqual(0);
      expect(draw.pick).toBeLessThan(1);
    }
  });

  it('choose() maps [0, 1) onto the items', () => {
    expect(choose(['a', 'b', 'c'], 0)).toBe('a');
    expect(choose(['a', 'b', 'c'], 0.34)).toBe('b');
    expect(choose(['a', 'b', 'c'], 0.9999)).toBe('c');
    expect(choose([], 0.5)).toBeUndefined();
  });
});
