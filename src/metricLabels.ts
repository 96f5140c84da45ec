import { ERROR_CODES } from './errors.ts';
import { STOP_REASON_NAMES } from './rtms/codes.ts';
import { DROP_REASONS, STREAM_REFUSALS } from './vocabulary/reasons.ts';
import { REJOIN_SCOPES, REJOIN_TRIGGERS } from './vocabulary/rejoin.ts';

/**
 * Closed sets for metric label values that carry something Zoom, a client or the operating
 * system chose: a stop reason number, an error code. Each value is looked up in a fixed list
 * and anything else becomes `other`, so no sender can add Prometheus series (one per value,
 * kept for the life of the process). The exact value still goes to `events.jsonl` and the log.
 */

export const OTHER_LABEL = 'other';

/** `rtms_streams_ended_total{reason}`: Zoom's stop reasons by name, or how the stream ended without one. */
export const STREAM_END_LABELS: readonly string[] = [...STOP_REASON_NAMES, 'failed', 'closed', OTHER_LABEL];

/** `rtms_webhooks_rejected_total{reason}`: `WebhookOutcomeListener`'s reasons. */
export const WEBHOOK_REJECTION_LABELS: readonly string[] = [
  ...ERROR_CODES.filter((code) => code.startsWith('WEBHOOK_')),
  'METHOD_NOT_ALLOWED',
  'REQUEST_ABORTED',
  'INTERNAL_ERROR',
  OTHER_LABEL,
];

/** `rtms_streams_rejected_total{reason}`: the supervisor's admission refusals. */
export const STREAM_REJECTION_LABELS: readonly string[] = [...STREAM_REFUSALS, OTHER_LABEL];

/**
 * `rtms_frames_dropped_total{reason}`, `rtms_reconnects_total{scope,reason}`: the connector's own
 * lists; `other` only for a figure a stored record of an older version carried over.
 */
export const DROP_REASON_LABELS: readonly string[] = [...DROP_REASONS, OTHER_LABEL];
export const REJOIN_SCOPE_LABELS: readonly string[] = [...REJOIN_SCOPES, OTHER_LABEL];
export const REJOIN_TRIGGER_LABELS: readonly string[] = [...REJOIN_TRIGGERS, OTHER_LABEL];

/** `rtms_sink_write_errors_total{reason}`: the file-system errors a sink meets, and our own codes. */
export const SINK_ERROR_LABELS: readonly string[] = [
  'ENOSPC',
  'EDQUOT',
  'EMFILE',
  'ENFILE',
  'EACCES',
  'EPERM',
  'EROFS',
  'EIO',
  'ENOENT',
  'ENOTDIR',
  'EISDIR',
  'EEXIST',
  'EBADF',
  'EAGAIN',
  'EFBIG',
  'SINK_WRITE_FAILED',
  'UNEXPECTED',
  OTHER_LABEL,
];

/** `value` when `labels` lists it, else `other`. */
export function boundedLabel(labels: readonly string[], value: string | undefined): string {
  return value !== undefined && labels.includes(value) ? value : OTHER_LABEL;
}
