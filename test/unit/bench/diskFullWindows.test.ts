import { describe, expect, it } from 'vitest';
import { estimateOutputBytes, planDiskFullWindows } from '../../../bench/diskFullWindows.ts';

describe('chaos soak disk-full plan', () => {
  it('is seeded: the same seed plans the same windows, another seed other ones', () => {
    const a = planDiskFullWindows(1, 125_000, 525_000, {});
    expect(planDiskFullWindows(1, 125_000, 525_000, {})).toEqual(a);
    expect(planDiskFullWindows(2, 125_000, 525_000, {})).not.toEqual(a);
  });

  it('spreads perMinute x span windows of 3 to 8 s over the span, none overlapping another', () => {
    for (let seed = 0; seed < 50; seed += 1) {
      const windows = planDiskFullWindows(seed, 125_000, 525_000, { perMinute: 0.75 });
      expect(windows).toHaveLength(5);
      let end = 125_000;
      for (const window of windows) {
        expect(window.atMs).toBeGreaterThanOrEqual(end);
        expect(window.lengthMs).toBeGreaterThanOrEqual(3000);
        expect(window.lengthMs).toBeLessThanOrEqual(8000);
        end = window.atMs + window.lengthMs;
      }
      expect(end).toBeLessThanOrEqual(525_000);
    }
  });

  it('counts the windows over the whole run when they must fit in part of it', () => {
    const windows = planDiskFullWindows(1, 125_000, 525_000, { perMinute: 0.5 }, 600_000);
    expect(windows).toHaveLength(5);
    expect(windows[0]!.atMs).toBeGreaterThanOrEqual(125_000);
    expect(windows[4]!.atMs + windows[4]!.lengthMs).toBeLessThanOrEqual(525_000);
  });

  it('plans at least one window in a short run, none when turned off', () => {
    expect(planDiskFullWindows(7, 8000, 50_000, { seconds: [3, 8] })).toHaveLength(1);
    expect(planDiskFullWindows(7, 8000, 50_000, { perMinute: 0 })).toEqual([]);
  });

  it('sizes the tmpfs for 50 streams x 10 min at 1.5 x 4 MiB per stream-minute + 64 MiB', () => {
    expect(estimateOutputBytes(50, 600_000)).toBe((3000 + 64) * 2 ** 20);
  });
});
