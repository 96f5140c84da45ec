import type { Config } from '../config.ts';
import type { Logger } from '../logger.ts';
import type { StreamStart } from '../rtms/products.ts';
import type { LiveBatch } from '../vocabulary/liveBatch.ts';
import type { StreamState } from '../vocabulary/streamState.ts';
import type { StreamStats } from '../vocabulary/streamStats.ts';
import type { LeaseGuard } from './streamRecord.ts';
import type { WorkerExit } from './workerHandle.ts';
import type { WorkerPoolPort } from './workerPool.ts';
import type { ResumeReason } from '../vocabulary/rejoin.ts';

/** The supervisor's options, events and `startStream()` options. */

/** `Supervisor.startStream()` options. */
export interface StartStreamOptions {
  /** The stream ran before (on another replica): its accounting carries over, the join counts as a rejoin. */
  readonly resume?: { readonly previous: StreamStats; readonly reason: ResumeReason };
  /** Participants to keep excluded from capture. */
  readonly excluded?: Iterable<string>;
}

export interface SupervisorEvents {
  /** A stream changed state (also emitted for `idle` on admission and `rejected`). */
  streamState: [{ rtmsStreamId: string; product: StreamStart['product']; from: StreamState | undefined; to: StreamState; reason: string | undefined }];
  /** A stream reached a terminal state; its slot is free. */
  streamFinished: [StreamStats];
  /** Fresh per-stream statistics from a worker. */
  stats: [readonly StreamStats[]];
  workerExit: [WorkerExit];
  /** Frames and events for live consumers of one stream. */
  liveBatch: [LiveBatch];
  /** Zoom's account-level concurrency webhooks. */
  zoomConcurrency: [{ limited: boolean; concurrencyNumber: number; concurrencyLimit: number | undefined }];
}

export interface SupervisorOptions {
  readonly config: Config;
  readonly logger: Logger;
  /** Multi-replica mode only; without it every decision is local and synchronous. */
  readonly leaseGuard?: LeaseGuard | undefined;
  /** The worker threads; a test passes a fake pool, production leaves it out. */
  readonly pool?: WorkerPoolPort | undefined;
}
