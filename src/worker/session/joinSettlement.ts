import type { Clock } from '../../clock.ts';

/**
 * Waiting for a join to settle: `close()` asked while the stream is still `connecting` (a
 * fresh start, or a resume right after a worker crash) waits until the join succeeds or
 * fails, so that Zoom gets STREAM_CLOSE instead of waiting out its grace. The session calls
 * `settled()` on every state change away from `connecting`.
 */
export class JoinSettlement {
  readonly #clock: Clock;
  readonly #waiters = new Set<() => void>();

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** The join settled: every wait ends now. */
  settled(): void {
    for (const settled of [...this.#waiters]) settled();
  }

  /** Resolves at the next `settled()`, or after `timeoutMs`. */
  wait(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const settled = (): void => {
        this.#clock.clearTimeout(timer);
        this.#waiters.delete(settled);
        resolve();
      };
      const timer = this.#clock.setTimeout(settled, timeoutMs);
      this.#waiters.add(settled);
    });
  }
}
