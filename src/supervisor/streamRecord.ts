import type { MediaKind } from '../config.ts';
import type { StreamStart } from '../rtms/products.ts';
import type { StreamStats } from '../worker/streamStats.ts';

/**
 * An active stream as the supervisor keeps it: enough to start its session again on another
 * worker with everything asked for it so far. Which worker holds it is the Placement's
 * answer, never stored here.
 */
export interface StreamRecord {
  start: StreamStart;
  stats: StreamStats;
  /** Live consumers' subscriptions (id → media kinds), re-sent if the stream moves to another worker. */
  live?: Map<number, readonly MediaKind[]>;
  /** Participants excluded from capture; applied again when the stream resumes elsewhere. */
  readonly excluded: Set<string>;
  /** Set while the stream is being let go without STREAM_CLOSE (`release()`): why. */
  releasing: string | undefined;
  /** Resolved with the final statistics once the worker reports the stream finished. */
  readonly finishWaiters: Array<(stats: StreamStats) => void>;
  /** Its worker got `startStream`: commands can go to the session (else the next start applies them). */
  startPosted: boolean;
  /** Placements made for it; a lease check answered for an older one is ignored. */
  attempt: number;
  /** Why its current session is a resume (`worker_crashed`, `takeover`, …). */
  resumeReason: string | undefined;
  /** Asked to close (admin) or stopped by Zoom: sent again if the stream moves to another worker. */
  closeRequested: boolean;
  stopRequested: number | undefined;
}

export function newStreamRecord(start: StreamStart, stats: StreamStats, excluded: Iterable<string>, resumeReason: string | undefined): StreamRecord {
  return {
    start,
    stats,
    excluded: new Set(excluded),
    releasing: undefined,
    finishWaiters: [],
    startPosted: false,
    attempt: 0,
    resumeReason,
    closeRequested: false,
    stopRequested: undefined,
  };
}

/**
 * Multi-replica mode: confirms that this replica still owns a stream (its lease and fencing
 * token are current) before the supervisor (re)connects it on its own initiative, e.g. to
 * resume it after a worker crash. Resolves false when another replica owns it now.
 */
export interface LeaseGuard {
  confirm(rtmsStreamId: string): Promise<boolean>;
}
