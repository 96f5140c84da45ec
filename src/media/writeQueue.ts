/**
 * The accounting and ordering core shared by every media writer: items are queued
 * synchronously (no syscall, no await per frame) and written in batches, one batch per
 * `flush()`, strictly in order. It knows what is queued, what reached the disk, what a write
 * error lost and what `destroy()` abandoned, so a sink can account for every frame.
 *
 * ```
 *  push() ──▶ queue ──flush()──▶ in flight ──ok──▶ written
 *                                     ├──retryable error──▶ back to the head of the queue
 *                                     └──final error──▶ failed (and everything queued after it)
 *  destroy(): queue ──▶ abandoned (an in-flight batch still completes)
 *  discard(): queue ──▶ failed (a file that cannot be written sheds what waits for it)
 * ```
 *
 * An error the writer calls retryable (`retryable(error)`: nothing of the batch stayed on
 * disk) puts the batch back in front of the queue and is reported through `onRetry`; the next
 * flush tries again, and the caller decides when that is. Any other error is final: it is
 * reported once through `onError`, and from then on the queue only counts what it is given as
 * failed. Flushes never reject.
 */

/** Counters of a writer, all cumulative except the pending ones. */
export interface WriteStats {
  /** Accounted bytes queued or being written, not yet on disk. */
  readonly pendingBytes: number;
  /** Records (frames, lines, images) queued or being written. */
  readonly pendingRecords: number;
  /** Accounted bytes on disk. */
  readonly bytesWritten: number;
  /** Records on disk. */
  readonly recordsWritten: number;
  /** Records lost to the write error (the failing batch and everything given afterwards). */
  readonly recordsFailed: number;
  /** Records discarded by `destroy()` before they were written. */
  readonly recordsAbandoned: number;
  /** The final write error, if any. */
  readonly error: Error | undefined;
  /** The last retryable error while a batch waits to be written again; cleared by a success. */
  readonly retryError: Error | undefined;
}

/**
 * Writes one batch, in order. `written(n)` may be called as the first `n` items become
 * durable, so that a failure midway counts the earlier ones as written; when the promise
 * resolves, all items count as written.
 */
export type WriteBatch<T> = (items: readonly T[], written: (count: number) => void) => Promise<void>;

export interface WriteQueueOptions<T> {
  readonly write: WriteBatch<T>;
  /** Called once, with the first final error. Must not throw. */
  readonly onError?: ((error: Error) => void) | undefined;
  /**
   * Whether the batch that failed with `error` left nothing on disk and may be written again.
   * Default: never (the first error is final).
   */
  readonly retryable?: ((error: Error) => boolean) | undefined;
  /** Called with each retryable error; the batch waits for the next flush. Must not throw. */
  readonly onRetry?: ((error: Error) => void) | undefined;
}

const RESOLVED: Promise<void> = Promise.resolve();

interface Entry<T> {
  readonly item: T;
  readonly bytes: number;
  readonly records: number;
}

export class WriteQueue<T> implements WriteStats {
  readonly #write: WriteBatch<T>;
  readonly #onError: ((error: Error) => void) | undefined;
  readonly #retryable: ((error: Error) => boolean) | undefined;
  readonly #onRetry: ((error: Error) => void) | undefined;
  #retryError: Error | undefined;
  #queue: Entry<T>[] = [];
  #pendingBytes = 0;
  #pendingRecords = 0;
  #bytesWritten = 0;
  #recordsWritten = 0;
  #recordsFailed = 0;
  #recordsAbandoned = 0;
  #error: Error | undefined;
  #destroyed = false;
  /** Every batch and task runs after the previous one settled. */
  #tail: Promise<void> = RESOLVED;
  /** Batches and tasks scheduled and not yet settled. */
  #running = 0;

  constructor(options: WriteQueueOptions<T>) {
    this.#write = options.write;
    this.#onError = options.onError;
    this.#retryable = options.retryable;
    this.#onRetry = options.onRetry;
  }

  get pendingBytes(): number {
    return this.#pendingBytes;
  }
  get pendingRecords(): number {
    return this.#pendingRecords;
  }
  get bytesWritten(): number {
    return this.#bytesWritten;
  }
  get recordsWritten(): number {
    return this.#recordsWritten;
  }
  get recordsFailed(): number {
    return this.#recordsFailed;
  }
  get recordsAbandoned(): number {
    return this.#recordsAbandoned;
  }
  get error(): Error | undefined {
    return this.#error;
  }
  get retryError(): Error | undefined {
    return this.#retryError;
  }
  get destroyed(): boolean {
    return this.#destroyed;
  }

  /** A plain copy of the counters. */
  snapshot(): WriteStats {
    return {
      pendingBytes: this.#pendingBytes,
      pendingRecords: this.#pendingRecords,
      bytesWritten: this.#bytesWritten,
      recordsWritten: this.#recordsWritten,
      recordsFailed: this.#recordsFailed,
      recordsAbandoned: this.#recordsAbandoned,
      error: this.#error,
      retryError: this.#retryError,
    };
  }

  /**
   * Queues `item`, accounted as `bytes` bytes and `records` records. Synchronous and cheap;
   * after a failure or `destroy()` the item is only counted.
   */
  push(item: T, bytes: number, records: number): void {
    if (this.#destroyed) {
      this.#recordsAbandoned += records;
      return;
    }
    if (this.#error !== undefined) {
      this.#recordsFailed += records;
      return;
    }
    this.#queue.push({ item, bytes, records });
    this.#pendingBytes += bytes;
    this.#pendingRecords += records;
  }

  /**
   * Writes, as one batch, everything queued when the batch starts: after the batch already
   * running, if any (so calls during a slow write coalesce into the next batch).
   */
  flush(): Promise<void> {
    // Idle and empty: nothing to wait for. Keeps the periodic flush of many quiet writers cheap.
    if (this.#queue.length === 0 && this.#running === 0) return RESOLVED;
    return this.run(() => this.#writeQueued());
  }

  /**
   * Runs `task` in order with the batches (e.g. a header rewrite or closing the handle).
   * Tasks run even after a failure, so handles are always released; a task's error counts
   * as the queue's failure if it is the first.
   */
  run(task: () => Promise<void>): Promise<void> {
    this.#running += 1;
    const next = this.#tail
      .then(task)
      .catch((error: unknown) => this.#fail(error))
      .finally(() => {
        this.#running -= 1;
      });
    this.#tail = next;
    return next;
  }

  /** Abandons what is queued; resolves when the batch in flight (if any) has settled. */
  destroy(): Promise<void> {
    if (!this.#destroyed) {
      this.#destroyed = true;
      for (const entry of this.#queue) this.#recordsAbandoned += entry.records;
      this.#forget(this.#queue);
      this.#queue = [];
    }
    return this.#tail;
  }

  /**
   * Counts everything queued and not in flight as failed and forgets it; returns the number
   * of records. For a file that cannot be written and must not hold more memory.
   */
  discard(): number {
    let records = 0;
    for (const entry of this.#queue) records += entry.records;
    this.#recordsFailed += records;
    this.#forget(this.#queue);
    this.#queue = [];
    return records;
  }

  async #writeQueued(): Promise<void> {
    if (this.#queue.length === 0 || this.#error !== undefined || this.#destroyed) return;
    const batch = this.#queue;
    this.#queue = [];
    let settled = 0;
    const written = (count: number): void => {
      for (; settled < Math.min(count, batch.length); settled++) this.#settleWritten(batch[settled]!);
    };
    try {
      await this.#write(
        batch.map((entry) => entry.item),
        written,
      );
      written(batch.length);
      this.#retryError = undefined;
    } catch (error) {
      const lost = batch.slice(settled);
      const failure = error instanceof Error ? error : new Error(String(error));
      if (!this.#destroyed && this.#retryable?.(failure) === true) {
        // Nothing of it is on disk: it goes first again, before what was queued meanwhile.
        this.#queue = lost.concat(this.#queue);
        this.#retryError = failure;
        this.#onRetry?.(failure);
        return;
      }
      for (const entry of lost) this.#recordsFailed += entry.records;
      this.#forget(lost);
      throw error;
    }
  }

  #settleWritten(entry: Entry<T>): void {
    this.#pendingBytes -= entry.bytes;
    this.#pendingRecords -= entry.records;
    this.#bytesWritten += entry.bytes;
    this.#recordsWritten += entry.records;
  }

  #forget(entries: readonly Entry<T>[]): void {
    for (const entry of entries) {
      this.#pendingBytes -= entry.bytes;
      this.#pendingRecords -= entry.records;
    }
  }

  #fail(error: unknown): void {
    if (this.#error !== undefined) return;
    this.#error = error instanceof Error ? error : new Error(String(error));
    this.#retryError = undefined;
    // Nothing queued after a failure will be written: the file is no longer trustworthy.
    for (const entry of this.#queue) this.#recordsFailed += entry.records;
    this.#forget(this.#queue);
    this.#queue = [];
    this.#onError?.(this.#error);
  }
}
