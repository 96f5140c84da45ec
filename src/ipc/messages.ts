import type { Config } from '../config.ts';
import type { MetricObjectWithValues, MetricValue } from 'prom-client';
import type { MediaKind } from '../vocabulary/mediaKind.ts';
import type { StreamStart } from '../rtms/products.ts';
import type { LiveBatch } from '../vocabulary/liveBatch.ts';
import type { StreamState } from '../vocabulary/streamState.ts';
import type { StreamStats } from '../vocabulary/streamStats.ts';
import type { ResumeReason } from '../vocabulary/rejoin.ts';

/** What a worker thread is started with (`workerData`). */
export interface WorkerData {
  readonly workerId: number;
  readonly config: Config;
}

/**
 * The supervisor–worker protocol: one discriminated union per direction, shared by both
 * sides and handled with exhaustive `switch`es. Only control messages and batched
 * statistics cross threads; frames stay in the worker that owns the stream.
 */

export type SupervisorToWorker =
  /**
   * Join a newly admitted stream, or (`resume`) one whose worker died: its output directory
   * is continued and its last known accounting carried over.
   */
  | { readonly type: 'startStream'; readonly start: StreamStart; readonly resume?: { readonly previous: StreamStats; readonly reason: ResumeReason } }
  /** Zoom sent `rtms_started` again with new `server_urls`: close old sockets, full rejoin. */
  | { readonly type: 'failoverStream'; readonly start: StreamStart }
  /** `*.rtms_interrupted`: rejoin signaling and media with the stored URL. */
  | { readonly type: 'interruptStream'; readonly rtmsStreamId: string; /** the webhook's `event_ts`, ms */ readonly eventTs: number }
  /** `*.rtms_stopped`: the stream is over; finalize output. */
  | { readonly type: 'stopStream'; readonly rtmsStreamId: string; readonly stopReason: number }
  /** Admin or shutdown: ask Zoom to close the stream (STREAM_CLOSE_REQ), then finalize. */
  | { readonly type: 'closeStream'; readonly rtmsStreamId: string }
  /**
   * Multi-replica mode: let go of the stream without telling Zoom (no STREAM_CLOSE_REQ): close
   * its sockets and finalize its output, so that another replica can rejoin it (SIGTERM
   * hand-off, lease lost). Answered with `streamFinished`.
   */
  | { readonly type: 'releaseStream'; readonly rtmsStreamId: string; readonly reason: string }
  /** Privacy opt-out: stop writing this participant's per-speaker media from now on. */
  | { readonly type: 'excludeParticipant'; readonly rtmsStreamId: string; readonly userId: string }
  /** A live consumer wants this stream's events and these media kinds (`liveBatch` follows). */
  | { readonly type: 'liveSubscribe'; readonly rtmsStreamId: string; readonly subscriptionId: number; readonly kinds: readonly MediaKind[] }
  | { readonly type: 'liveUnsubscribe'; readonly rtmsStreamId: string; readonly subscriptionId: number }
  /** Scrape: answer with this worker's registry as JSON (`metricsResponse`). */
  | { readonly type: 'metricsRequest'; readonly requestId: number }
  | { readonly type: 'ping'; readonly sequence: number }
  /** Close every stream and exit the thread. */
  | { readonly type: 'shutdown' };

export type WorkerToSupervisor =
  | { readonly type: 'ready'; readonly workerId: number }
  | {
      readonly type: 'streamState';
      readonly rtmsStreamId: string;
      readonly from: StreamState;
      readonly to: StreamState;
      readonly reason: string | undefined;
      /** ms epoch */
      readonly at: number;
    }
  /**
   * The stream reached a terminal state (`stats.state`) and its output is finalized: its slot
   * is free. Terminal states are reported only here, never as `streamState`.
   */
  | { readonly type: 'streamFinished'; readonly rtmsStreamId: string; readonly stats: StreamStats }
  /** Periodic snapshot of every stream on this worker. */
  | { readonly type: 'stats'; readonly streams: readonly StreamStats[] }
  | { readonly type: 'metricsResponse'; readonly requestId: number; readonly metrics: readonly MetricObjectWithValues<MetricValue<string>>[] }
  /** Frames and events for live consumers, batched; `payload` is transferred, not copied. */
  | ({ readonly type: 'liveBatch' } & LiveBatch)
  | { readonly type: 'pong'; readonly sequence: number }
  | { readonly type: 'shutdownComplete' };
