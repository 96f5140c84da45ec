import type { MediaKind } from '../config.ts';
import type { MediaBytesOnDisk } from '../sinks/outputOnDisk.ts';
import { emptyCounters, type MediaCounters, type StreamStats } from './streamStats.ts';

/**
 * Frames an earlier incarnation of a resumed stream had received but not reported written
 * or dropped when it was lost: its worker thread died (`worker_lost`) or its replica did
 * (`replica_lost`, a multi-replica takeover).
 */
export type LostDropReason = 'worker_lost' | 'replica_lost';

/** Resumes after a worker death are `worker_<exit reason>`; everything else came from another replica. */
export function lostDropReason(resumeReason: string): LostDropReason {
  return resumeReason.startsWith('worker_') ? 'worker_lost' : 'replica_lost';
}

export interface CarriedMedia {
  /** The counters the resumed stream starts from. */
  readonly media: Partial<Record<MediaKind, MediaCounters>>;
  /** Frames counted under the lost reason, per kind (only kinds that lost any). */
  readonly lost: Partial<Record<MediaKind, number>>;
}

/**
 * The accounting a resumed stream carries over from its last report (`previous`), made whole:
 * - what was received and neither written nor dropped at that report is counted dropped under
 *   `reason`, so `framesReceived = framesWritten + Σ framesDropped` holds again;
 * - `bytesWritten` is what the directory really holds (`onDisk`, measured before the new
 *   session writes), which includes what the lost incarnation wrote after its last report. It
 *   never goes below the report: a replica on its own volume does not see the other's files.
 */
export function carryOver(previous: StreamStats['media'], onDisk: MediaBytesOnDisk | undefined, reason: LostDropReason): CarriedMedia {
  const media: Partial<Record<MediaKind, MediaCounters>> = {};
  const lost: Partial<Record<MediaKind, number>> = {};
  const kinds = new Set<MediaKind>([...(Object.keys(previous) as MediaKind[]), ...(Object.keys(onDisk ?? {}) as MediaKind[])]);
  for (const kind of kinds) {
    const before = previous[kind] ?? emptyCounters();
    const framesDropped = { ...before.framesDropped };
    const dropped = Object.values(framesDropped).reduce((sum, count) => sum + count, 0);
    const missing = before.framesReceived - before.framesWritten - dropped;
    if (missing > 0) {
      framesDropped[reason] = (framesDropped[reason] ?? 0) + missing;
      lost[kind] = missing;
    }
    media[kind] = { ...before, bytesWritten: Math.max(before.bytesWritten, onDisk?.[kind] ?? 0), framesDropped };
  }
  return { media, lost };
}
