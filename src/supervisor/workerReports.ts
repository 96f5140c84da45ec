import type { WorkerToSupervisor } from '../ipc/messages.ts';
import type { Logger } from '../logger.ts';
import { TERMINAL_STATES } from '../vocabulary/streamState.ts';
import type { StreamStats } from '../vocabulary/streamStats.ts';
import type { StreamRecord } from './streamRecord.ts';
import type { SupervisorEvents } from './supervisorTypes.ts';

/** What a worker's reports about its streams can change in the supervisor. */
export interface WorkerReportTarget {
  record(rtmsStreamId: string): StreamRecord | undefined;
  /** Whether the worker holds the stream now: reports from a worker that lost it are stale. */
  owns(workerId: number, rtmsStreamId: string): boolean;
  stateChanged(change: SupervisorEvents['streamState'][0]): void;
  stats(streams: readonly StreamStats[]): void;
  /** The stream finished on its worker: files final, `stats` the last word. */
  finished(rtmsStreamId: string, record: StreamRecord | undefined, stats: StreamStats, reason: string | undefined): void;
  liveBatch(batch: SupervisorEvents['liveBatch'][0]): void;
  readonly logger: Logger;
}

/**
 * Applies a worker's message to the stream records: state changes, statistics and the end of
 * a stream count only from the worker that holds the stream now (one that was moved away by
 * crash recovery may still report it).
 */
export function applyWorkerReport(workerId: number, message: WorkerToSupervisor, target: WorkerReportTarget): void {
  switch (message.type) {
    case 'streamState': {
      const record = target.record(message.rtmsStreamId);
      if (record === undefined || !target.owns(workerId, message.rtmsStreamId)) return;
      record.stats = { ...record.stats, state: message.to };
      target.stateChanged({
        rtmsStreamId: message.rtmsStreamId,
        product: record.start.product,
        from: message.from,
        to: message.to,
        reason: message.reason,
      });
      return;
    }
    case 'stats': {
      const owned = message.streams.filter((stats) => target.owns(workerId, stats.rtmsStreamId));
      for (const stats of owned) {
        const record = target.record(stats.rtmsStreamId);
        // Terminal states arrive only with streamFinished, after the files are final.
        if (record !== undefined && !TERMINAL_STATES.has(stats.state)) record.stats = stats;
      }
      if (owned.length > 0) target.stats(owned);
      return;
    }
    case 'streamFinished': {
      if (!target.owns(workerId, message.rtmsStreamId)) {
        target.logger.warn({ rtmsStreamId: message.rtmsStreamId, workerId }, 'stream finished on a worker that no longer holds it; ignored');
        return;
      }
      const record = target.record(message.rtmsStreamId);
      target.finished(message.rtmsStreamId, record, message.stats, message.stats.failure ?? message.stats.stopReasonName ?? record?.releasing);
      return;
    }
    case 'liveBatch':
      target.liveBatch(message);
      return;
    case 'ready':
    case 'pong':
    case 'metricsResponse':
    case 'shutdownComplete':
      return;
    default: {
      const unknown: never = message;
      target.logger.error({ workerId, message: unknown }, 'unknown worker message');
    }
  }
}
