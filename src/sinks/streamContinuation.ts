import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { lifecycleEvent } from '../vocabulary/frame.ts';
import { isFinished, readPreviousStream, type PreviousStream } from './streamCheckpoint.ts';

/** Where a stream attempt writes, decided from what its directory already holds. */
export interface StreamOutputPlan {
  /** The directory this attempt writes to. */
  readonly directory: string;
  /**
   * The unfinished run this attempt continues (the connector was restarted, or another replica
   * on a shared volume takes over): its `stream.json` as it was last written.
   */
  readonly continues: PreviousStream | undefined;
  /**
   * Set when the stream had already ended or failed: this attempt is recorded beside it, in
   * `attempts/<n>` (relative to the stream directory), never over its files or final state.
   */
  readonly lateAttempt: string | undefined;
}

/**
 * Reads `<streamDirectory>/stream.json` once, at the start of an attempt (README
 * "Reliability"):
 * - none, or a rejection: a fresh stream;
 * - a stream that is not finished: continued in place (earlier parts stay in `files`, counters
 *   carry over);
 * - a finished stream (`ended`, `failed`), or a `stream.json` that cannot be read: a late or
 *   replayed `rtms_started`; the attempt goes to `attempts/<n>/` and the finished stream's
 *   `events.jsonl` gets one `stream.late_start` line.
 */
export function planStreamOutput(streamDirectory: string, options: { rtmsStreamId: string; at: number }): StreamOutputPlan {
  const previous = readPreviousStream(streamDirectory);
  if (previous === undefined || previous.state === 'rejected') return { directory: streamDirectory, continues: undefined, lateAttempt: undefined };
  // A stream.json we cannot read might be a finished stream's: never write over it.
  if (!isFinished(previous) && !previous.unreadable) return { directory: streamDirectory, continues: previous, lateAttempt: undefined };
  const lateAttempt = lateAttemptDirectory(streamDirectory, options.rtmsStreamId, options.at, previous.state);
  return { directory: join(streamDirectory, lateAttempt), continues: undefined, lateAttempt };
}

/**
 * Picks `attempts/<n>` (n from 2: the finished run was the first), creates it so a concurrent
 * attempt picks another, and notes it in the finished stream's `events.jsonl` (one appended
 * line; nothing of the finished stream is rewritten). Returns the path relative to the stream
 * directory. Never throws: when the directory cannot be made now (full disk, read-only), the
 * attempt's own sink makes it later, and the note is only logged by the caller's sink.
 */
export function lateAttemptDirectory(streamDirectory: string, rtmsStreamId: string, at: number, previousState: string | undefined): string {
  let attempt = 2;
  try {
    mkdirSync(join(streamDirectory, 'attempts'), { recursive: true });
    for (; ; attempt++) {
      try {
        mkdirSync(join(streamDirectory, 'attempts', String(attempt)));
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
    }
  } catch {
    // Named after the time instead, so it cannot be one an earlier attempt used.
    return `attempts/${at}`;
  }
  const relative = `attempts/${attempt}`;
  const event = lifecycleEvent('stream.late_start', { rtmsStreamId, attempt: relative, previousState: previousState ?? null }, at);
  try {
    appendFileSync(join(streamDirectory, 'events.jsonl'), `${JSON.stringify(event)}\n`);
  } catch {
    // The attempt's own events.jsonl still records it.
  }
  return relative;
}
