import type { Clock } from '../clock.ts';

/** Failed bearer attempts an address may make at once. */
export const AUTH_FAILURE_BURST = 10;
/** Failed attempts an address earns back per second after the burst. */
export const AUTH_FAILURES_PER_SECOND = 1;
/** Addresses remembered at most (~100 bytes each); past it the least recently seen is forgotten. */
export const AUTH_FAILURE_MAX_ADDRESSES = 10_000;

interface Bucket {
  tokens: number;
  /** ms epoch of the last refill */
  at: number;
}

/**
 * Slows guessing of `ADMIN_TOKEN`: each 401 costs the client's address one of
 * `AUTH_FAILURE_BURST` attempts, earned back at `AUTH_FAILURES_PER_SECOND`. An address
 * without attempts left is answered 429 before its token is looked at, so a guesser learns
 * nothing faster than the refill allows. Refusing at once (rather than delaying the answer)
 * keeps no socket open for it. Behind a proxy every client shares one address: a guesser
 * there locks out the others until it stops, which is the price of a fixed-size table.
 */
export class AuthFailureLimiter {
  readonly #clock: Pick<Clock, 'now'>;
  /** address → bucket, least recently seen first. */
  readonly #buckets = new Map<string, Bucket>();
  #refused = 0;

  constructor(options: { clock?: Pick<Clock, 'now'> } = {}) {
    this.#clock = options.clock ?? { now: Date.now };
  }

  /** Requests answered 429 so far. */
  get refused(): number {
    return this.#refused;
  }

  /** Addresses remembered now. */
  get size(): number {
    return this.#buckets.size;
  }

  /** Whole seconds until `address` may try again; 0 when it may now (a refusal is counted). */
  retryAfterSeconds(address: string): number {
    const bucket = this.#refill(address);
    if (bucket === undefined || bucket.tokens >= 1) return 0;
    this.#refused += 1;
    return Math.max(1, Math.ceil((1 - bucket.tokens) / AUTH_FAILURES_PER_SECOND));
  }

  /** `address` sent a request that was answered 401. */
  failed(address: string): void {
    const bucket = this.#refill(address) ?? { tokens: AUTH_FAILURE_BURST, at: this.#clock.now() };
    bucket.tokens = Math.max(0, bucket.tokens - 1);
    this.#buckets.set(address, bucket);
    if (this.#buckets.size > AUTH_FAILURE_MAX_ADDRESSES) {
      const oldest = this.#buckets.keys().next();
      if (oldest.done !== true) this.#buckets.delete(oldest.value);
    }
  }

  /** The address's bucket brought up to now and moved to the back; undefined (and forgotten) once full again. */
  #refill(address: string): Bucket | undefined {
    const bucket = this.#buckets.get(address);
    if (bucket === undefined) return undefined;
    this.#buckets.delete(address);
    const now = this.#clock.now();
    bucket.tokens = Math.min(AUTH_FAILURE_BURST, bucket.tokens + ((now - bucket.at) / 1000) * AUTH_FAILURES_PER_SECOND);
    bucket.at = now;
    if (bucket.tokens >= AUTH_FAILURE_BURST) return undefined;
    this.#buckets.set(address, bucket);
    return bucket;
  }
}
