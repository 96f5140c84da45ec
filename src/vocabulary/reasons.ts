/**
 * The closed lists of reasons the connector counts: each is defined here once, as a list the
 * metrics can enumerate and a union the code must choose from, so a metric label carries only
 * these values (and `other` for a stored figure from an older version; metricLabels.ts).
 */

/** Why the session counted a frame as dropped (worker/session/sessionAccounting.ts). */
export const SESSION_DROP_REASONS = ['not_requested', 'duplicate', 'excluded', 'awaiting_keyframe', 'buffer_full', 'malformed'] as const;
export type SessionDropReason = (typeof SESSION_DROP_REASONS)[number];

/**
 * Why the file sink counted a frame as dropped: `format_unknown` (no `setFormats()` before an
 * audio, video or deskshare frame), `sink_error` (its file could not be written), `sink_closed`
 * (written after `close()` began), `sink_destroyed` (pending at, or written after, `destroy()`).
 */
export const FILE_SINK_DROP_REASONS = ['format_unknown', 'sink_error', 'sink_closed', 'sink_destroyed'] as const;
export type FileSinkDropReason = (typeof FILE_SINK_DROP_REASONS)[number];

/** Frames a worker or replica received after its last report and that were not found on disk. */
export const LOST_DROP_REASONS = ['worker_lost', 'replica_lost'] as const;
export type LostDropReason = (typeof LOST_DROP_REASONS)[number];

/** Every reason in `MediaCounters.framesDropped` and `rtms_frames_dropped_total{reason}`. */
export const DROP_REASONS = [...SESSION_DROP_REASONS, ...FILE_SINK_DROP_REASONS, ...LOST_DROP_REASONS] as const;
export type DropReason = (typeof DROP_REASONS)[number];

/** Why the frame admission turned a media frame away (a subset of the session's drop reasons). */
export const FRAME_REFUSALS = ['not_requested', 'duplicate', 'excluded', 'awaiting_keyframe'] as const satisfies readonly SessionDropReason[];
export type FrameRefusal = (typeof FRAME_REFUSALS)[number];

/** Why an entry was not appended to a Redis output stream (sinks/redisStreamPublisher.ts). */
export const PUBLISH_DROP_REASONS = ['backlog', 'redis_unavailable', 'redis_error'] as const;
export type PublishDropReason = (typeof PUBLISH_DROP_REASONS)[number];

/** Why the supervisor refused a stream at admission (`rtms_streams_rejected_total{reason}`). */
export const STREAM_REFUSALS = ['max_streams', 'shutting_down', 'no_worker', 'already_active'] as const;
export type StreamRefusal = (typeof STREAM_REFUSALS)[number];

/** Why a worker thread ended: asked to (`shutdown`), or on its own (the rest). */
export const WORKER_EXIT_REASONS = ['shutdown', 'crashed', 'unresponsive', 'exited'] as const;
export type WorkerExitReason = (typeof WORKER_EXIT_REASONS)[number];
/** The reasons of an unexpected exit, each replaced by a new worker (`rtms_worker_restarts_total{reason}`). */
export const WORKER_RESTART_REASONS = ['crashed', 'unresponsive', 'exited'] as const satisfies readonly WorkerExitReason[];
