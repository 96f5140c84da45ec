import { describeError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { StreamStats } from '../vocabulary/streamStats.ts';
import type { Placement } from './placement.ts';
import type { LeaseGuard, StreamRecord } from './streamRecord.ts';
import type { WorkerExit } from './workerHandle.ts';

/** What orphan recovery needs from the supervisor. */
export interface OrphanRecoveryHost {
  readonly placement: Placement;
  readonly logger: Logger;
  readonly leaseGuard: LeaseGuard | undefined;
  record(rtmsStreamId: string): StreamRecord | undefined;
  /** False while shutting down: orphans are not resumed then. */
  accepting(): boolean;
  /** Starts the record's session on the worker, as a resume from `previous`. */
  postStart(record: StreamRecord, workerId: number, previous: StreamStats): void;
  /** Ends the stream here as `failed`. */
  fail(record: StreamRecord, failure: string): void;
  /** The stream lost its worker and waits for a new one (`waitingReconnect`). */
  waiting(record: StreamRecord): void;
}

/**
 * Streams whose worker died: each is resumed once, on the least-loaded live worker, from its
 * last statistics. With no live worker it waits (logged) and is placed when the pool's
 * replacement is ready. Placement guarantees one worker per stream, so a crash never resumes
 * a stream twice, and a crash during a resume just makes the stream an orphan again.
 */
export class OrphanRecovery {
  readonly #host: OrphanRecoveryHost;

  constructor(host: OrphanRecoveryHost) {
    this.#host = host;
  }

  /** A worker exited: its streams wait for a worker; the unexpected case resumes them at once where there is room. */
  workerExited(exit: WorkerExit): void {
    const { placement, logger } = this.#host;
    const orphans = placement.removeWorker(exit.workerId).flatMap((id) => this.#host.record(id) ?? []);
    if (exit.expected) return;
    logger.error({ workerId: exit.workerId, exitCode: exit.exitCode, reason: exit.reason, streams: orphans.length }, 'worker exited unexpectedly');
    for (const record of orphans) {
      // A stream being let go must not be reconnected here: it is over for this replica.
      if (record.releasing !== undefined) this.#host.fail(record, `worker ${exit.reason} while releasing`);
      else if (!this.#host.accepting()) this.#host.fail(record, `worker ${exit.reason} during shutdown`);
      else {
        record.resumeReason = `worker_${exit.reason}`;
        record.startPosted = false;
        this.#host.waiting(record);
      }
    }
    // Zoom keeps a stream 60 s for a rejoin: resume now where a worker is live; the rest wait
    // for the replacement the pool spawns.
    this.placeWaiting();
  }

  /** Resumes every stream that waits for a worker, each on the least-loaded live worker. */
  placeWaiting(): void {
    for (const id of this.#host.placement.waiting()) {
      const record = this.#host.record(id);
      if (record === undefined) this.#host.placement.remove(id);
      else this.#resume(record);
    }
  }

  /** Replacements keep failing: streams still without a worker end as failed. */
  respawnFailed(error: unknown): void {
    const { placement, logger } = this.#host;
    logger.error({ err: describeError(error) }, 'could not replace worker');
    if (placement.workerCount > 0) return;
    for (const id of placement.waiting()) {
      const record = this.#host.record(id);
      if (record !== undefined) this.#host.fail(record, 'no worker to resume on');
    }
  }

  /**
   * Places the stream and starts it there from its stored start and last statistics. In
   * multi-replica mode the lease is confirmed first (a fenced decision): a stream another
   * replica owns by now is dropped here instead.
   */
  #resume(record: StreamRecord): void {
    const { placement, logger, leaseGuard } = this.#host;
    const rtmsStreamId = record.start.rtmsStreamId;
    const workerId = placement.place(rtmsStreamId);
    if (workerId === undefined) {
      if (placement.isWaiting(rtmsStreamId))
        logger.warn({ rtmsStreamId, reason: record.resumeReason }, 'no live worker for the stream now; it resumes when a worker is ready');
      return;
    }
    const attempt = ++record.attempt;
    const post = (): void => {
      logger.warn({ rtmsStreamId, workerId, reason: record.resumeReason }, 'resuming stream on another worker');
      this.#host.postStart(record, workerId, record.stats);
    };
    if (leaseGuard === undefined) {
      post();
      return;
    }
    // Until the check answers the worker holds no session: commands wait in the record.
    const current = (): boolean => this.#host.record(rtmsStreamId) === record && record.attempt === attempt && placement.workerOf(rtmsStreamId) === workerId;
    leaseGuard.confirm(rtmsStreamId).then(
      (owned) => {
        // Meanwhile the stream may have finished, or its new worker died (then it was placed again).
        if (!current()) return;
        if (record.releasing !== undefined) this.#host.fail(record, `released while resuming (${record.releasing})`);
        else if (owned) post();
        else this.#host.fail(record, 'lease lost');
      },
      (error: unknown) => {
        logger.error({ rtmsStreamId, err: describeError(error) }, 'lease check failed; not resuming');
        if (current()) this.#host.fail(record, 'lease check failed');
      },
    );
  }
}
