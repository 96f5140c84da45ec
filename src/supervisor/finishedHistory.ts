import type { StreamStats } from '../vocabulary/streamStats.ts';

/** Finished streams kept for `GET /streams/{id}` after they end. */
const FINISHED_HISTORY = 1000;

/** The final statistics of the last {@link FINISHED_HISTORY} streams that ended here. */
export class FinishedHistory {
  readonly #stats = new Map<string, StreamStats>();

  get(rtmsStreamId: string): StreamStats | undefined {
    return this.#stats.get(rtmsStreamId);
  }

  delete(rtmsStreamId: string): void {
    this.#stats.delete(rtmsStreamId);
  }

  /** Keeps the stream's final statistics, dropping the oldest past the limit. */
  remember(stats: StreamStats): void {
    this.#stats.delete(stats.rtmsStreamId);
    // Counts only (participantCounts stays): each entry stays small whatever the roster was.
    this.#stats.set(stats.rtmsStreamId, { ...stats, participants: [] });
    if (this.#stats.size > FINISHED_HISTORY) {
      const oldest = this.#stats.keys().next().value;
      if (oldest !== undefined) this.#stats.delete(oldest);
    }
  }
}
