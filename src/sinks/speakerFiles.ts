/**
 * Which per-speaker WAVs of one stream hold a file descriptor. Every identified speaker gets
 * its own WAV (whatever `RTMS_AUDIO_MODE`), so a server that sends audio under 30,000
 * distinct user ids would otherwise keep 30,000 files open and exhaust the process's
 * descriptors, breaking every other stream's output.
 *
 * At most `max` stay open (`RTMS_MAX_OPEN_SPEAKER_FILES`): opening one more closes the one
 * written longest ago. Its audio is complete on disk (the WAV is finalized); when that
 * speaker talks again, the sink starts the next part (`audio-<id>.part2.wav`), so nothing is
 * lost and the descriptors stay bounded. The mixed `audio.wav` is not counted here.
 *
 * A file closed before the sink's flush ever wrote it is written out first (open, write,
 * close): thousands closed at once would open thousands of descriptors at once, so those are
 * closed `CLOSE_CONCURRENCY` at a time, and the sink leaves them out of its own flushes
 * meanwhile. Their pending bytes, and the memory each holds (audioParts.ts), count in the
 * sink's buffer, so a flood of new speakers pushes back on the socket. Descriptors: about `2 * max + CLOSE_CONCURRENCY` per
 * stream at most: the `max` open ones, those the flush under way opened just before they
 * were closed (each flush opens at most `max`), and the queue's.
 */
/** Closed files being finalized at once: each holds a descriptor while it is written out and closed. */
export const CLOSE_CONCURRENCY = 4;

/** A writer that finalizes and releases its file on `close()` (WavWriter). */
export interface ClosableFile {
  close(): Promise<void>;
}

export class SpeakerFiles {
  readonly #max: number;
  /** Writers handed to `retire()` and not closed yet: the sink must not flush them itself. */
  readonly #retiring = new Set<ClosableFile>();
  /** Writers the sink's own flush has written: they may hold a descriptor already. */
  readonly #flushed = new WeakSet<object>();
  readonly #waiting: Array<() => void> = [];
  #running = 0;
  /** Open speakers, least recently written first (Map keeps insertion order). */
  readonly #open = new Map<string, true>();
  #closedEarly = 0;

  constructor(max: number) {
    if (!Number.isSafeInteger(max) || max < 1) throw new RangeError(`max open speaker files must be a positive integer, got ${max}`);
    this.#max = max;
  }

  /** Files closed to make room so far (each one costs that speaker a new part if they speak again). */
  get closedEarly(): number {
    return this.#closedEarly;
  }

  /** A frame was written to `speaker`'s open file: it becomes the most recently used. */
  written(speaker: string): void {
    if (this.#open.size < 2) return;
    this.#open.delete(speaker);
    this.#open.set(speaker, true);
  }

  /**
   * `speaker`'s file is being opened; returns the speakers whose files must close to make
   * room (least recently written first), already forgotten here.
   */
  opening(speaker: string): string[] {
    this.#open.delete(speaker);
    const evicted: string[] = [];
    for (const oldest of this.#open.keys()) {
      if (this.#open.size < this.#max) break;
      this.#open.delete(oldest);
      evicted.push(oldest);
    }
    this.#open.set(speaker, true);
    this.#closedEarly += evicted.length;
    return evicted;
  }

  /**
   * Closes `writer`; resolves once it is closed (its errors reach its own `onError`). One the
   * sink's flush has written holds its descriptor already: it closes at once, which only frees
   * one. One never written would open a new one: those wait their turn.
   */
  async retire(writer: ClosableFile): Promise<void> {
    this.#retiring.add(writer);
    const opensOne = !this.#flushed.has(writer);
    if (opensOne) {
      while (this.#running >= CLOSE_CONCURRENCY) await new Promise<void>((resolve) => this.#waiting.push(resolve));
      this.#running += 1;
    }
    try {
      await writer.close().catch(() => {});
    } finally {
      this.#retiring.delete(writer);
      if (opensOne) {
        this.#running -= 1;
        this.#waiting.shift()?.();
      }
    }
  }

  /** Asked by the sink's flush for each writer: false while `writer` waits in `retire()`. */
  mayFlush(writer: object): boolean {
    if (this.#retiring.has(writer as ClosableFile)) return false;
    this.#flushed.add(writer);
    return true;
  }

  /** Whether `writer` waits in `retire()`: its close belongs to the queue. */
  isRetiring(writer: object): boolean {
    return this.#retiring.has(writer as ClosableFile);
  }

  /** `speaker`'s file closed for another reason (a new part after a format change or 4 GiB). */
  closed(speaker: string): void {
    this.#open.delete(speaker);
  }
}
