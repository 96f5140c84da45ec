/**
 * Paces a stream's rejoins. Within one rejoin, p-retry backs off between failed attempts;
 * but a server that accepts the join and drops the connection at once makes every rejoin
 * "succeed", so p-retry's backoff never applies (545 full rejoins in 80 s). Two bounds:
 *
 * - A connection lost less than `STABLE_AFTER_MS` after its join counts as a failed attempt:
 *   the next rejoin waits, doubling from `baseMs` to `maxMs` per consecutive short-lived
 *   join. A connection that stayed up that long rejoins at once, as before.
 * - At most `budget` rejoins start within any `windowMs`; the next one fails the stream
 *   (README, "Bad RTMS server").
 */

/** A join that lasted this long was a real connection: the next loss rejoins without delay, ms. */
export const STABLE_AFTER_MS = 10_000;

export interface RejoinBudgetOptions {
  /** Rejoins allowed within `windowMs` (`RTMS_REJOIN_BUDGET`). */
  readonly budget: number;
  readonly windowMs: number;
  /** First delay after a short-lived join, ms (`RTMS_RECONNECT_BASE_MS`). */
  readonly baseMs: number;
  /** Delay cap, ms (`RTMS_RECONNECT_MAX_MS`). */
  readonly maxMs: number;
  /** 0..1, jitter source; default Math.random. */
  readonly random?: () => number;
}

export type RejoinDecision = { readonly go: true; readonly delayMs: number } | { readonly go: false; readonly reason: string };

export class RejoinBudget {
  readonly #options: RejoinBudgetOptions;
  /** Start times of the rejoins within the window, oldest first (at most `budget`). */
  readonly #starts: number[] = [];
  /** When the current connection finished its join, ms epoch. */
  #joinedAt: number | undefined;
  /** Consecutive joins that were lost within `STABLE_AFTER_MS`. */
  #shortLived = 0;

  constructor(options: RejoinBudgetOptions) {
    this.#options = options;
  }

  /** The stream (or its media) is joined and live as of `now`. */
  joined(now: number): void {
    this.#joinedAt = now;
  }

  /** A rejoin is about to start at `now`: how long it waits first, or why the stream must fail. */
  next(now: number): RejoinDecision {
    const { budget, windowMs, baseMs, maxMs } = this.#options;
    while (this.#starts.length > 0 && now - (this.#starts[0] ?? 0) >= windowMs) this.#starts.shift();
    if (this.#starts.length >= budget) {
      return { go: false, reason: `rejoin budget exhausted: ${budget} rejoins within ${Math.round(windowMs / 1000)} s (RTMS_REJOIN_BUDGET)` };
    }
    this.#starts.push(now);
    const joinedAt = this.#joinedAt;
    this.#joinedAt = undefined;
    if (joinedAt === undefined) return { go: true, delayMs: 0 };
    if (now - joinedAt >= STABLE_AFTER_MS) {
      this.#shortLived = 0;
      return { go: true, delayMs: 0 };
    }
    this.#shortLived += 1;
    const delay = Math.min(maxMs, baseMs * 2 ** Math.min(this.#shortLived - 1, 30));
    // Jitter as p-retry's `randomize`: between the delay and twice it, capped.
    return { go: true, delayMs: Math.min(maxMs, Math.round(delay * (1 + (this.#options.random ?? Math.random)()))) };
  }
}

/** Resolves after `ms`, or rejects at once when `signal` aborts (the rejoin was superseded). */
export function waitBeforeRejoin(
  ms: number,
  signal: AbortSignal,
  clock: { setTimeout(callback: () => void, ms: number): NodeJS.Timeout; clearTimeout(handle: NodeJS.Timeout): void },
): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = (): void => {
      clock.clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = clock.setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
