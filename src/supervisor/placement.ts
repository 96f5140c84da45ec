/**
 * Which worker holds each active stream: the one place the supervisor asks before it sends a
 * stream anything. A stream is either placed on exactly one live worker or waiting for one
 * (its worker died and no live worker could take it yet); it is never on two workers, so
 * webhooks and admin commands reach the one session that holds it, and a resume after a
 * crash moves each orphan once.
 *
 * Pure bookkeeping (no threads, no timers), so the rules can be tested with a fake pool.
 */
export class Placement {
  /** Live workers and the streams each holds. */
  readonly #workers = new Map<number, Set<string>>();
  /** Stream → its worker; absent for a stream that waits for a worker. */
  readonly #workerOf = new Map<string, number>();
  /** Streams that lost their worker and have no new one yet, in the order they lost it. */
  readonly #waiting = new Set<string>();

  /** A worker became ready: it can take streams. */
  addWorker(workerId: number): void {
    if (!this.#workers.has(workerId)) this.#workers.set(workerId, new Set());
  }

  /**
   * A worker is gone: its streams wait for a new one (returned, in placement order). Idempotent:
   * a second call for the same worker returns nothing.
   */
  removeWorker(workerId: number): string[] {
    const streams = this.#workers.get(workerId);
    this.#workers.delete(workerId);
    if (streams === undefined) return [];
    for (const id of streams) {
      this.#workerOf.delete(id);
      this.#waiting.add(id);
    }
    return [...streams];
  }

  get workerCount(): number {
    return this.#workers.size;
  }

  hasWorker(workerId: number): boolean {
    return this.#workers.has(workerId);
  }

  /** The live worker holding the stream; undefined while it waits for one (or is unknown). */
  workerOf(rtmsStreamId: string): number | undefined {
    return this.#workerOf.get(rtmsStreamId);
  }

  /** Streams waiting for a worker, oldest first. */
  waiting(): string[] {
    return [...this.#waiting];
  }

  isWaiting(rtmsStreamId: string): boolean {
    return this.#waiting.has(rtmsStreamId);
  }

  /** The live worker with the fewest streams (lowest id on a tie), or undefined when none is live. */
  leastLoaded(): number | undefined {
    let best: number | undefined;
    let bestLoad = Number.POSITIVE_INFINITY;
    for (const [workerId, streams] of this.#workers) {
      if (streams.size < bestLoad) {
        best = workerId;
        bestLoad = streams.size;
      }
    }
    return best;
  }

  /**
   * Puts the stream on the least-loaded live worker and returns it; a stream already placed
   * stays where it is (undefined is returned, nothing moves). With no live worker the stream
   * waits and undefined is returned.
   */
  place(rtmsStreamId: string): number | undefined {
    if (this.#workerOf.has(rtmsStreamId)) return undefined;
    const workerId = this.leastLoaded();
    if (workerId === undefined) {
      this.#waiting.add(rtmsStreamId);
      return undefined;
    }
    this.#waiting.delete(rtmsStreamId);
    this.#workerOf.set(rtmsStreamId, workerId);
    this.#workers.get(workerId)?.add(rtmsStreamId);
    return workerId;
  }

  /**
   * Takes the stream off its worker to wait again (its start there could not go ahead, e.g.
   * a lease check failed for a moment). No-op for a stream not placed.
   */
  unplace(rtmsStreamId: string): void {
    const workerId = this.#workerOf.get(rtmsStreamId);
    if (workerId === undefined) return;
    this.#workerOf.delete(rtmsStreamId);
    this.#workers.get(workerId)?.delete(rtmsStreamId);
    this.#waiting.add(rtmsStreamId);
  }

  /** The stream is over (or no longer this instance's): forget it. */
  remove(rtmsStreamId: string): void {
    const workerId = this.#workerOf.get(rtmsStreamId);
    if (workerId !== undefined) this.#workers.get(workerId)?.delete(rtmsStreamId);
    this.#workerOf.delete(rtmsStreamId);
    this.#waiting.delete(rtmsStreamId);
  }
}
