import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { lifecycleEvent } from '../media/frame.ts';
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
 * - a finished stream (`ended`, `failed`): a late or replayed `rtms_started`; the attempt goes to
 *   `attempts/<n>/` and the finished stream's `events.jsonl` gets one `stream.late_start` line.
 */
export function planStreamOutput(streamDirectory: string, options: { rtmsStreamId: string; at: number }): StreamOutputPlan {
  const previous = readPreviousStream(streamDirectory);
  if (previous === undefined || previous.state === 'rejected') return { directory: streamDirectory, continues: undefined, lateAttempt: undefined };
  if (!isFinished(previous)) return { directory: streamDirectory, continues: previous, lateAttempt: undefined };
  const lateAttempt = lateAttemptDirectory(streamDirectory, options.rtmsStreamId, options.at, previous.state);
  return { directory: join(streamDirectory, lateAttempt), continues: undefined, lateAttempt };
}

/**
 * Picks `attempts/<n>` (n from 2: the finished run was the first), creates it so a concurrent
 * attempt picks another, and notes it in the finished stream's `events.jsonl` (one appended
 * line; nothing of the finished stream is rewritten). Returns the path relative to the stream
 * directory.
 */
export function lateAttemptDirectory(streamDirectory: string, rtmsStreamId: string, at: number, previousState: string | undefined): string {
  mkdirSync(join(streamDirectory, 'attempts'), { recursive: true });
  let attempt = 2;
  for (; ; attempt++) {
    try {
      mkdirSync(join(streamDirectory, 'attempts', String(attempt)));
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  const relative = `attempts/${attempt}`;
  const event = lifecycleEvent('stream.late_start', { rtmsStreamId, attempt: relative, previousState: previousState ?? null }, at);
  appendFileSync(join(streamDirectory, 'events.jsonl'), `${JSON.stringify(event)}\n`);
  return relative;
}
