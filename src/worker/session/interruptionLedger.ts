/**
 * Decides whether a `*.rtms_interrupted` webhook still needs a rejoin, by local arrival order
 * only: Zoom's `event_ts` is on Zoom's clock and is never compared with ours. Every joined
 * signaling connection that ends while the stream goes on (lost, or closed by us to rejoin)
 * is one interruption Zoom may report; the next webhook within `MATCH_WINDOW_MS` is taken as
 * that report, already answered by the rejoin that followed. A webhook with no such end
 * before it (a half-open socket we have not noticed) asks for a rejoin.
 */

/**
 * How long after a connection ended its webhook may still come, ms: Zoom ends a stream whose
 * signaling stays away longer than about 60 s, so a later report is about something else.
 */
export const MATCH_WINDOW_MS = 60_000;

export class InterruptionLedger {
  /** Local times of ended signaling connections whose webhook has not come yet, oldest first. */
  readonly #unreported: number[] = [];

  /** A joined signaling connection ended at local time `at`, and a rejoin follows. */
  ended(at: number): void {
    this.#unreported.push(at);
  }

  /** A `*.rtms_interrupted` arrived at local time `at`: true when a connection end already answered it. */
  reported(at: number): boolean {
    while (this.#unreported.length > 0 && at - (this.#unreported[0] ?? at) > MATCH_WINDOW_MS) this.#unreported.shift();
    return this.#unreported.shift() !== undefined;
  }
}
