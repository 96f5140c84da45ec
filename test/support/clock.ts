import type { Clock } from '../../src/clock.ts';

interface Timer {
  due: number;
  /** Period of an interval; undefined for a one-shot timeout. */
  readonly every: number | undefined;
  readonly callback: () => unknown;
}

/**
 * The one fake `Clock` for tests (src/clock.ts is the seam): time stands still until the test
 * moves it, and a timer fires only when the time it is due is reached. Handles are plain
 * objects that answer `unref()`/`ref()`, so code that unrefs its timers runs unchanged.
 */
export class ManualClock implements Clock {
  #now: number;
  readonly #timers = new Map<NodeJS.Timeout, Timer>();

  constructor(start = 1_700_000_000_000) {
    this.#now = start;
  }

  now = (): number => this.#now;
  setTimeout = (callback: () => unknown, ms: number): NodeJS.Timeout => this.#add(callback, ms, undefined);
  setInterval = (callback: () => unknown, ms: number): NodeJS.Timeout => this.#add(callback, ms, Math.max(1, ms));
  clearTimeout = (handle: NodeJS.Timeout): void => void this.#timers.delete(handle);
  clearInterval = (handle: NodeJS.Timeout): void => void this.#timers.delete(handle);

  /** Timers not yet fired or cleared (intervals count until cleared). */
  get pending(): number {
    return this.#timers.size;
  }

  /** Milliseconds from now until each pending timer is due, soonest first. */
  dueIn(): number[] {
    return [...this.#timers.values()].map((timer) => timer.due - this.#now).sort((a, b) => a - b);
  }

  /**
   * Moves time forward by `ms`, firing every timer that falls due on the way, in due order and
   * with `now()` at its due time; awaits what each callback returns (a flush it started).
   */
  async advance(ms: number): Promise<void> {
    const until = this.#now + ms;
    for (;;) {
      const next = this.#nextDue(until);
      if (next === undefined) break;
      const [handle, timer] = next;
      this.#now = Math.max(this.#now, timer.due);
      if (timer.every === undefined) this.#timers.delete(handle);
      else timer.due += timer.every;
      await timer.callback();
    }
    this.#now = until;
  }

  /** Moves time without firing anything: a clock that jumped, or time the test lets pass unseen. */
  jump(ms: number): void {
    this.#now += ms;
  }

  /**
   * Fires every interval once, now, without moving time (the next run of each periodic job).
   * The callbacks start synchronously; the promise settles when what they returned has.
   */
  tick(): Promise<unknown[]> {
    const intervals = [...this.#timers.values()].filter((timer) => timer.every !== undefined);
    return Promise.all(intervals.map((timer) => timer.callback()));
  }

  #add(callback: () => unknown, ms: number, every: number | undefined): NodeJS.Timeout {
    const handle = fakeHandle();
    this.#timers.set(handle, { due: this.#now + Math.max(0, ms), every, callback });
    return handle;
  }

  #nextDue(until: number): [NodeJS.Timeout, Timer] | undefined {
    let best: [NodeJS.Timeout, Timer] | undefined;
    for (const entry of this.#timers) {
      if (entry[1].due > until) continue;
      if (best === undefined || entry[1].due < best[1].due) best = entry;
    }
    return best;
  }
}

function fakeHandle(): NodeJS.Timeout {
  const handle = {
    ref: () => handle,
    unref: () => handle,
    hasRef: () => false,
    refresh: () => handle,
  };
  return handle as unknown as NodeJS.Timeout;
}
