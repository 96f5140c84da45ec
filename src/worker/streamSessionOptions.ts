import type { Clock } from '../clock.ts';
import type { Config } from '../config.ts';
import type { Logger } from '../logger.ts';
import type { StreamStart } from '../rtms/products.ts';
import type { FrameTap } from '../sinks/frameTap.ts';
import type { MediaBytesOnDisk } from '../sinks/outputOnDisk.ts';
import type { StreamSink } from '../sinks/streamSink.ts';
import type { ResumeReason } from '../vocabulary/rejoin.ts';
import type { StreamStats } from '../vocabulary/streamStats.ts';
import type { StateChange } from './streamStateMachine.ts';
import type { WorkerMetrics } from './workerMetrics.ts';

/** What the worker gives a StreamSession: the stream, its outputs, a resumed stream's past, and whom to tell. */
export interface StreamSessionOptions {
  readonly start: StreamStart;
  readonly config: Pick<Config, 'credentials' | 'media' | 'rtms' | 'buffer'>;
  readonly sink: StreamSink;
  readonly metrics: WorkerMetrics;
  /** Secondary outputs (live consumers, Redis streams): every frame written and every event. */
  readonly taps: readonly FrameTap[];
  readonly logger: Logger;
  readonly clock?: Clock;
  readonly onStateChange: (change: StateChange) => void;
  /**
   * The stream's last known statistics when its previous worker died: counts carry over,
   * the rejoin counts as a reconnect, and its output directory is continued.
   */
  readonly resumeFrom?: {
    readonly previous: StreamStats;
    readonly reason: ResumeReason;
    /** Media bytes already in the stream's directory, measured before this session writes. */
    readonly onDisk?: MediaBytesOnDisk | undefined;
  };
  /** Called once, after the stream reached a terminal state and the sink is closed. */
  readonly onFinished: (stats: StreamStats) => void;
}
