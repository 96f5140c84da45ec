import { AppendOnlyFile } from './appendOnlyFile.ts';
import type { MediaWriter } from './mediaWriter.ts';
import type { WriteStats } from './writeQueue.ts';

export interface JsonLinesWriterOptions {
  /** Absolute path, e.g. `<stream dir>/transcript.jsonl`; an existing file is continued. */
  readonly path: string;
  /** Called once with the first error. Must not throw. */
  readonly onError?: ((error: Error) => void) | undefined;
  /** Called with each error after which the file was cut back and the batch waits for a retry. */
  readonly onRetry?: ((error: Error) => void) | undefined;
}

/**
 * Appends one JSON object per line (JSON Lines: UTF-8, `\n`-terminated). `JSON.stringify`
 * escapes newlines inside strings, so a line is always one record. An existing file is
 * continued after its last complete line (a torn one, from a killed process, is cut off). Used for
 * `transcript.jsonl`, `chat.jsonl` and `events.jsonl`.
 */
export class JsonLinesWriter implements MediaWriter {
  readonly #file: AppendOnlyFile;

  constructor(options: JsonLinesWriterOptions) {
    this.#file = new AppendOnlyFile({ path: options.path, recordTerminator: 0x0a, onError: options.onError, onRetry: options.onRetry });
  }

  get path(): string {
    return this.#file.path;
  }
  /** Accounted bytes not yet on disk. */
  get pendingBytes(): number {
    return this.#file.pendingBytes;
  }

  /** Counters; records are lines, bytes are UTF-8 bytes including the newline. */
  stats(): WriteStats {
    return this.#file.stats();
  }

  /** Serializes `value` now (later mutation does not affect the line) and queues the line. */
  append(value: unknown): void {
    const json = JSON.stringify(value);
    // JSON.stringify(undefined) is undefined; a line must always be valid JSON.
    this.#file.append(Buffer.from(`${json ?? 'null'}\n`, 'utf8'), 1);
  }

  /** Counts what waits to be written as failed and forgets it; returns the number of records. */
  discard(): number {
    return this.#file.discard();
  }

  flush(): Promise<void> {
    return this.#file.flush();
  }
  close(): Promise<void> {
    return this.#file.close();
  }
  destroy(): Promise<void> {
    return this.#file.destroy();
  }
}
