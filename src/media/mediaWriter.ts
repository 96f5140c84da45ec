import type { WriteStats } from './writeQueue.ts';

/**
 * What a sink needs from every media writer (WAV, Annex B, image frames, JSON lines):
 * counters, and flush / close / destroy with the same meaning everywhere. None of the
 * methods rejects; the first write error goes to the writer's `onError` option.
 */
export interface MediaWriter {
  /** Accounted bytes not yet on disk; cheap, read on every frame. */
  readonly pendingBytes: number;
  /** A copy of the counters. */
  stats(): WriteStats;
  /** Writes everything appended so far. */
  flush(): Promise<void>;
  /** Flushes and finalizes the file(s); idempotent. */
  close(): Promise<void>;
  /** Abandons unwritten data and releases handles; files stay valid. Idempotent. */
  destroy(): Promise<void>;
}
