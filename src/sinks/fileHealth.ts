import type { SinkHealth } from '../vocabulary/streamStats.ts';

/**
 * How each file of a stream is doing, for the file sink's retries and for `stream.json` /
 * `GET /streams/{id}`. One file's trouble is its own: the others keep being written.
 *
 * - `ok`: its last write (if any) succeeded.
 * - `retrying`: a write failed and the file was cut back to its last complete batch; the data
 *   waits in memory and is written again after a backoff.
 * - `lost`: the file could not be continued (deleted, or its tail could not be restored); what
 *   waited for it was counted `sink_error`, and its stream goes on in a new part.
 */
export type FileState = 'ok' | 'retrying' | 'lost';

export interface FileStatus {
  readonly state: FileState;
  /** errno code of the last failure (kept after a recovery), e.g. `ENOSPC`. */
  readonly lastError: string | undefined;
  /** Failed attempts of the current incident. */
  readonly attempts: number;
}

/** First retry after this, doubling per failed attempt up to the cap. */
const RETRY_FIRST_MS = 100;
const RETRY_MAX_MS = 2000;

interface Entry {
  state: FileState;
  lastError: string | undefined;
  attempts: number;
  retryAt: number;
  failingSince: number;
}

export class FileHealth {
  readonly #files = new Map<string, Entry>();
  #lastError: SinkHealth['lastError'];
  #retrying = 0;

  /** A write of `file` failed and will be retried; true when this starts an incident. */
  retry(file: string, code: string, now: number): boolean {
    const entry = this.#entry(file);
    const first = entry.state !== 'retrying';
    if (first) {
      this.#retrying += 1;
      entry.attempts = 0;
      entry.failingSince = now;
    }
    entry.state = 'retrying';
    entry.attempts += 1;
    entry.lastError = code;
    entry.retryAt = now + Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** (entry.attempts - 1));
    this.#lastError = { file, code, at: now };
    return first;
  }

  /** `file` cannot be continued. */
  lost(file: string, code: string, now: number): void {
    const entry = this.#entry(file);
    if (entry.state === 'retrying') this.#retrying -= 1;
    entry.state = 'lost';
    entry.lastError = code;
    this.#lastError = { file, code, at: now };
  }

  /** A write of a retrying file succeeded; returns how long it failed, ms, or undefined if it was not failing. */
  recovered(file: string, now: number): number | undefined {
    const entry = this.#files.get(file);
    if (entry?.state !== 'retrying') return undefined;
    this.#retrying -= 1;
    entry.state = 'ok';
    entry.attempts = 0;
    return now - entry.failingSince;
  }

  isRetrying(file: string): boolean {
    return this.#files.get(file)?.state === 'retrying';
  }

  /** Whether `file` may be written now: not in a retry backoff. */
  isDue(file: string, now: number): boolean {
    const entry = this.#files.get(file);
    return entry?.state !== 'retrying' || now >= entry.retryAt;
  }

  /** When a retrying file is due again, ms epoch; undefined if it is not retrying. */
  retryAt(file: string): number | undefined {
    const entry = this.#files.get(file);
    return entry?.state === 'retrying' ? entry.retryAt : undefined;
  }

  /** A new file took the name of a lost one. */
  reopened(file: string): void {
    const entry = this.#files.get(file);
    if (entry?.state === 'lost') entry.state = 'ok';
  }

  get retrying(): number {
    return this.#retrying;
  }

  health(): SinkHealth {
    return { state: this.#retrying > 0 ? 'failing' : 'ok', lastError: this.#lastError };
  }

  /** Every file that ever failed, for `stream.json`. */
  snapshot(): Record<string, FileStatus> {
    const result: Record<string, FileStatus> = {};
    for (const [file, entry] of this.#files) result[file] = { state: entry.state, lastError: entry.lastError, attempts: entry.attempts };
    return result;
  }

  #entry(file: string): Entry {
    let entry = this.#files.get(file);
    if (entry === undefined) {
      entry = { state: 'ok', lastError: undefined, attempts: 0, retryAt: 0, failingSince: 0 };
      this.#files.set(file, entry);
    }
    return entry;
  }
}
