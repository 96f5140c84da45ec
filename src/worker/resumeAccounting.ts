import type { MediaKind } from '../vocabulary/mediaKind.ts';
import type { MediaBytesOnDisk } from '../sinks/outputOnDisk.ts';
import { emptyCounters, type MediaCounters, type StreamStats } from '../vocabulary/streamStats.ts';
import type { LostDropReason } from '../vocabulary/reasons.ts';
import type { ResumeReason } from '../vocabulary/rejoin.ts';

/**
 * Frames an earlier incarnation of a resumed stream had received by its last report and not
 * yet written or dropped when it was lost: its worker thread died (`worker_lost`) or its
 * replica did (`replica_lost`: a multi-replica takeover, or this connector's own earlier
 * process). What it received after that report is in no counter: a `media.gap` marks the time.
 */

/** Resumes after a worker death are `worker_<exit reason>`; everything else came from another replica. */
export function lostDropReason(resumeReason: ResumeReason): LostDropReason {
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

/**
 * What a resumed session starts from: the carried counters (see {@link carryOver}) and, per
 * media kind the lost incarnation had, the window its output lacks, from its last report
 * (`previous.reportedAt`) to this session's first frame of that kind. Each window is closed
 * once, by one `media.gap` event; both ends are this connector's clock, not Zoom's.
 */
export class ResumedAccounting {
  readonly media: Partial<Record<MediaKind, MediaCounters>>;
  readonly reason: LostDropReason;
  readonly #windows = new Map<MediaKind, { readonly frames: number; readonly since: number }>();

  constructor(resume: { readonly previous: StreamStats; readonly reason: ResumeReason; readonly onDisk?: MediaBytesOnDisk | undefined }, now: number) {
    this.reason = lostDropReason(resume.reason);
    const carried = carryOver(resume.previous.media, resume.onDisk, this.reason);
    this.media = carried.media;
    // Statistics stored by an older version carry no report time: the window starts now.
    const since = resume.previous.reportedAt ?? now;
    // A hand-off released the stream with final counts: a window without lost frames is no loss there.
    const orderly = resume.reason === 'handoff';
    for (const kind of Object.keys(carried.media) as MediaKind[]) {
      const frames = carried.lost[kind] ?? 0;
      if (frames > 0 || !orderly) this.#windows.set(kind, { frames, since });
    }
  }

  /** For `stream.resumed`: the reason and the frames lost per kind. */
  summary(): { lostReason: LostDropReason; lostFrames: Partial<Record<MediaKind, number>> } {
    return { lostReason: this.reason, lostFrames: Object.fromEntries([...this.#windows].map(([kind, window]) => [kind, window.frames])) };
  }

  /** The `media.gap` data closing the kind's window at `now`; undefined when it has none open. */
  close(kind: MediaKind, now: number): Record<string, unknown> | undefined {
    const window = this.#windows.get(kind);
    if (window === undefined) return undefined;
    this.#windows.delete(kind);
    return { kind, reason: this.reason, frames: window.frames, fromTimestamp: window.since, toTimestamp: now, clock: 'connector' };
  }

  /** Closes every window still open (the stream ends before a frame of that kind came). */
  closeAll(now: number): Array<Record<string, unknown>> {
    const gaps: Array<Record<string, unknown>> = [];
    for (const kind of [...this.#windows.keys()]) {
      const gap = this.close(kind, now);
      if (gap !== undefined) gaps.push(gap);
    }
    return gaps;
  }
}
