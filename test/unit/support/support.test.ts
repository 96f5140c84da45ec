import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../support/clock.ts';
import { eventually } from '../../support/eventually.ts';

describe('ManualClock', () => {
  it('fires timers in due order with now() at their due time; intervals re-arm; cleared ones never fire', async () => {
    const clock = new ManualClock(1000);
    const fired: string[] = [];
    clock.setTimeout(() => fired.push(`late@${clock.now()}`), 300);
    clock.setTimeout(() => fired.push(`early@${clock.now()}`), 100);
    const every = clock.setInterval(() => fired.push(`tick@${clock.now()}`), 150);
    const cancelled = clock.setTimeout(() => fired.push('cancelled'), 50);
    clock.clearTimeout(cancelled);
    clock.jump(10);
    expect(fired).toEqual([]);
    await clock.advance(340);
    expect(fired).toEqual(['early@1100', 'tick@1150', 'late@1300', 'tick@1300']);
    expect(clock.now()).toBe(1350);
    clock.clearInterval(every);
    expect(clock.pending).toBe(0);
  });

  it('tick() runs each interval once now and settles when what they returned has', async () => {
    const clock = new ManualClock();
    let flushed = 0;
    clock.setInterval(async () => {
      await new Promise((resolve) => setImmediate(resolve));
      flushed += 1;
    }, 1000);
    await clock.tick();
    expect(flushed).toBe(1);
    expect(clock.dueIn()).toEqual([1000]);
  });
});

describe('eventually', () => {
  it('resolves with the first value that is neither undefined nor false', async () => {
    let calls = 0;
    expect(await eventually(() => (++calls >= 3 ? `after ${calls}` : undefined), { what: 'three calls', intervalMs: 1 })).toBe('after 3');
  });

  it('fails past the deadline, naming what it awaited, the last error and the state', async () => {
    await expect(
      eventually(
        () => {
          throw new Error('not yet');
        },
        { what: 'the impossible', timeoutMs: 30, intervalMs: 5, state: () => ({ seen: 0 }) },
      ),
    ).rejects.toThrow('the impossible: not observed within 30 ms (last error: not yet; state: {"seen":0})');
  });
});
