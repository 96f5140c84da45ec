import type { Logger } from 'pino';
import { type Clock, systemClock } from './connectorShared.ts';

/** Something the scheduler drives; `tick` computes what is due from `now` itself. */
export interface Tickable {
  /** @param now ms epoch, from the scheduler's clock */
  tick(now: number): void;
}

/**
 * The one timer behind every simulated stream. Each run hands the current time to every
 * registered stream, which works out from elapsed time which packets, keep-alives and
 * deadlines are due: no per-stream intervals, no drift, and a late run catches up instead
 * of slipping. The timer only exists while something is registered.
 */
export class MediaScheduler {
  readonly #tickMs: number;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #onError: (tickable: Tickable, error: unknown) => void;
  readonly #members = new Set<Tickable>();
  #timer: NodeJS.Timeout | undefined;
  #immediate: NodeJS.Immediate | undefined;
  #closed = false;

  /**
   * @param options.tickMs period of the timer, ms (default 10; media is paced from elapsed
   *   time, so this only bounds jitter).
   * @param options.onError called when a member's tick throws; the member stays registered
   *   unless the handler removes it.
   */
  constructor(options: { tickMs?: number; clock?: Clock; logger: Logger; onError?: (tickable: Tickable, error: unknown) => void }) {
    this.#tickMs = options.tickMs ?? 10;
    this.#clock = options.clock ?? systemClock;
    this.#logger = options.logger;
    this.#onError = options.onError ?? ((_, error) => this.#logger.error({ err: error }, 'simulator tick failed'));
  }

  get size(): number {
    return this.#members.size;
  }

  add(tickable: Tickable): void {
    if (this.#closed) return;
    this.#members.add(tickable);
    this.#arm();
  }

  delete(tickable: Tickable): void {
    this.#members.delete(tickable);
    if (this.#members.size === 0) this.#disarm();
  }

  /** Stops the timer for good. Idempotent. */
  close(): void {
    this.#closed = true;
    this.#members.clear();
    this.#disarm();
  }

  #arm(): void {
    if (this.#timer !== undefined || this.#immediate !== undefined || this.#closed || this.#members.size === 0) return;
    this.#timer = this.#clock.setTimeout(() => this.#run(), this.#tickMs);
  }

  #disarm(): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    if (this.#immediate !== undefined) clearImmediate(this.#immediate);
    this.#timer = undefined;
    this.#immediate = undefined;
  }

  #run(): void {
    this.#timer = undefined;
    // Members write to sockets: run them after this loop turn has polled for I/O, so that a
    // client that closed its socket while we were busy (a FIN or close frame waiting to be
    // read) is seen as gone before anything more is written to it. Otherwise the writes
    // succeed locally, count as delivered, and are lost.
    this.#immediate = setImmediate(() => {
      this.#immediate = undefined;
      this.#runMembers();
    });
  }

  #runMembers(): void {
    if (this.#closed) return;
    const now = this.#clock.now();
    // Members may end (and unregister) during their own tick; Set iteration tolerates that.
    for (const member of this.#members) {
      try {
        member.tick(now);
      } catch (error) {
        this.#onError(member, error);
      }
    }
    this.#arm();
  }
}
