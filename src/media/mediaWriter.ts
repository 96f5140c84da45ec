import type { WriteStats } from './writeQueue.ts';

/**
 * What a sink needs from every media writer (WAV, Annex B, image frames, JSON lines):
 * counters, and flush / close / destroy with the same meaning everywhere. None of the
 * methods rejects; a final write error goes to the writer's `onError` option, one after which
 * the data waits for a retry to `onRetry`.
 */
export interface MediaWriter {
  /** Accounted bytes not yet on disk; cheap, read on every frame. */
  readonly pendingBytes: number;
  /** A copy of the counters. */
  stats(): WriteStats;
  /**
   * Counts what waits to be written (not a write in flight) as failed and forgets it; returns
   * the number of records. Used when a file that cannot be written must stop holding memory.
   */
  discard?(): number;
  /** Writes everything appended so far. */
  flush(): Promise<void>;
  /** Flushes and finalizes the file(s); idempotent. */
  close(): Promise<void>;
  /** Abandons unwritten data and releases handles; files stay valid. Idempotent. */
  destroy(): Promise<void>;
}
