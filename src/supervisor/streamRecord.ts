import type { MediaKind } from '../vocabulary/mediaKind.ts';
import type { SupervisorToWorker } from '../ipc/messages.ts';
import type { StreamStart } from '../rtms/products.ts';
import type { StreamStats } from '../vocabulary/streamStats.ts';
import type { ResumeReason } from '../vocabulary/rejoin.ts';

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
  resumeReason: ResumeReason | undefined;
  /** Asked to close (admin) or stopped by Zoom: sent again if the stream moves to another worker. */
  closeRequested: boolean;
  stopRequested: number | undefined;
}

export function newStreamRecord(start: StreamStart, stats: StreamStats, excluded: Iterable<string>, resumeReason: ResumeReason | undefined): StreamRecord {
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
 * What starts the record's session on a worker: the join (or, with `previous`, the resume),
 * then everything asked for the stream so far. The worker handles messages in order:
 * exclusions apply before the first frame arrives, and a close or stop that came while the
 * stream had no session reaches the new one.
 */
export function startMessages(record: StreamRecord, previous: StreamStats | undefined): SupervisorToWorker[] {
  const rtmsStreamId = record.start.rtmsStreamId;
  const reason = record.resumeReason ?? 'resumed';
  const messages: SupervisorToWorker[] = [
    previous === undefined ? { type: 'startStream', start: record.start } : { type: 'startStream', start: record.start, resume: { previous, reason } },
  ];
  for (const userId of record.excluded) messages.push({ type: 'excludeParticipant', rtmsStreamId, userId });
  for (const [subscriptionId, kinds] of record.live ?? []) messages.push({ type: 'liveSubscribe', rtmsStreamId, subscriptionId, kinds });
  if (record.stopRequested !== undefined) messages.push({ type: 'stopStream', rtmsStreamId, stopReason: record.stopRequested });
  else if (record.closeRequested) messages.push({ type: 'closeStream', rtmsStreamId });
  return messages;
}

/**
 * Multi-replica mode: confirms that this replica still owns a stream (its lease and fencing
 * token are current) before the supervisor (re)connects it on its own initiative, e.g. to
 * resume it after a worker crash. Resolves false when another replica owns it now.
 */
export interface LeaseGuard {
  confirm(rtmsStreamId: string): Promise<boolean>;
}
