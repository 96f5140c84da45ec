import { readFileSync } from 'node:fs';
import { rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { systemClock, type Clock } from '../clock.ts';
import type { Logger } from '../logger.ts';
import { makeDirectory } from '../media/makeDirectory.ts';

export const STREAM_JSON = 'stream.json';
const STREAM_JSON_TEMP = '.stream.json.tmp';
/** Backoff of the final write: from this, doubling, to the cap. */
const FINAL_RETRY_FIRST_MS = 100;
const FINAL_RETRY_MAX_MS = 2000;

/**
 * Writes a stream's `stream.json` (see FileSink). Every write replaces the file atomically
 * (temp file + rename), so a reader never sees half of it; a failed write removes its temp
 * file and leaves the previous version in place. It is its own file with its own fate: a
 * failure here never stops the media files, and the next write tries again (recreating the
 * directory if it was deleted).
 */
export class StreamCheckpoint {
  readonly #directory: string;
  readonly #clock: Clock;
  readonly #logger: Logger | undefined;
  #writtenAt: number | undefined;
  /** errno code of the last failed write, cleared by a success. */
  #lastError: string | undefined;

  constructor(options: { directory: string; clock?: Clock | undefined; logger?: Logger | undefined }) {
    this.#directory = options.directory;
    this.#clock = options.clock ?? systemClock;
    this.#logger = options.logger;
  }

  /** When `stream.json` was last written by this checkpoint, ms epoch. */
  get writtenAt(): number | undefined {
    return this.#writtenAt;
  }

  get lastError(): string | undefined {
    return this.#lastError;
  }

  /** One attempt; true when the document is on disk. Never rejects. */
  async write(document: Readonly<Record<string, unknown>>): Promise<boolean> {
    const temp = join(this.#directory, STREAM_JSON_TEMP);
    try {
      // Cheap when it exists; brings back a stream directory deleted while streaming.
      await makeDirectory(this.#directory);
      await writeFile(temp, `${JSON.stringify(document, null, 2)}\n`);
      await rename(temp, join(this.#directory, STREAM_JSON));
      if (this.#lastError !== undefined) this.#logger?.info({ file: STREAM_JSON, after: this.#lastError }, 'stream.json written again');
      this.#lastError = undefined;
      this.#writtenAt = this.#clock.now();
      return true;
    } catch (error) {
      const code = errnoCode(error);
      await rm(temp, { force: true }).catch(() => undefined);
      if (this.#lastError !== code) this.#logger?.warn({ file: STREAM_JSON, code }, 'cannot write stream.json; retrying at the next refresh');
      // Set only now, in the same tick as the caller's continuation, so the sink never reports
      // `failing` before it has recorded which error (FileSink.health).
      this.#lastError = code;
      return false;
    }
  }

  /**
   * The final write: retried with backoff until it succeeds or `deadline` (ms epoch) passes.
   * `document()` is called per attempt, so each carries the latest error.
   */
  async writeFinal(document: () => Readonly<Record<string, unknown>>, deadline: number): Promise<boolean> {
    for (let delay = FINAL_RETRY_FIRST_MS; ; delay = Math.min(delay * 2, FINAL_RETRY_MAX_MS)) {
      if (await this.write(document())) return true;
      const left = deadline - this.#clock.now();
      if (left <= 0) {
        this.#logger?.error({ file: STREAM_JSON, code: this.#lastError }, 'final stream.json could not be written before the deadline');
        return false;
      }
      await new Promise<void>((resolve) => this.#clock.setTimeout(resolve, Math.min(delay, left)));
    }
  }
}

/** What a previous run left in a stream directory's `stream.json`. */
export interface PreviousStream {
  /** The document as it was read. */
  readonly document: Readonly<Record<string, unknown>>;
  readonly state: string | undefined;
  readonly files: readonly string[];
  /** It exists but could not be read or parsed (EMFILE, EACCES, foreign content): its state is unknown. */
  readonly unreadable: boolean;
}

/** States after which a stream's output is final: a later attempt must not write over it. */
const FINISHED_STATES: ReadonlySet<string> = new Set(['ended', 'failed']);

/**
 * A stream released to another owner (`released`: a hand-off or a lost lease) ended here but
 * goes on elsewhere: its directory is continued, not treated as final.
 */
export function isFinished(previous: PreviousStream): boolean {
  if (typeof previous.document['released'] === 'string') return false;
  return previous.state !== undefined && FINISHED_STATES.has(previous.state);
}

/**
 * Reads `<directory>/stream.json` if a previous run left one; undefined when there is none.
 * Synchronous: a few KB, once per stream start.
 */
export function readPreviousStream(directory: string): PreviousStream | undefined {
  const unreadable: PreviousStream = { document: {}, state: undefined, files: [], unreadable: true };
  let text: string;
  try {
    text = readFileSync(join(directory, STREAM_JSON), 'utf8');
  } catch (error) {
    // ENOTDIR: something that is not a directory stands where the stream's goes; no stream.json there.
    const code = errnoCode(error);
    return code === 'ENOENT' || code === 'ENOTDIR' ? undefined : unreadable;
  }
  try {
    const document: unknown = JSON.parse(text);
    if (document === null || typeof document !== 'object' || Array.isArray(document)) return unreadable;
    const record = document as Record<string, unknown>;
    const files = Array.isArray(record['files']) ? record['files'].filter((file): file is string => typeof file === 'string') : [];
    return { document: record, state: typeof record['state'] === 'string' ? record['state'] : undefined, files, unreadable: false };
  } catch {
    // Replaced atomically by us, so a document that does not parse is someone else's.
    return unreadable;
  }
}

export function errnoCode(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (typeof code === 'string') return code;
  return error instanceof Error ? error.name : 'Error';
}
