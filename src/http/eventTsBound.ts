import type { StreamStart } from '../rtms/products.ts';
import type { WebhookEvent } from './webhookEvent.ts';

/**
 * How much later than Zoom's own send time (`x-zm-request-timestamp`) an `rtms_started`
 * `event_ts` may be and still order the stream's announcements, ms (docs/reliability.md#zooms-clock-is-not-ours).
 * An event cannot happen after the request reporting it was sent; 10 s cover Zoom's
 * servers disagreeing a little.
 */
export const EVENT_TS_AHEAD_TOLERANCE_MS = 10_000;

/**
 * Bounds the `event_ts` an `rtms_started` orders failovers by (a newer announcement moves the
 * stream, an older one is ignored as stale): one dated far ahead would otherwise make every
 * genuine failover after it look stale, pinning the stream to a dead server. Both times are
 * Zoom's, so nothing here depends on our clock; the request timestamp itself was checked
 * against our clock by the signature check. Returns the event unchanged, or with
 * `start.eventTs` replaced by the request's send time (the envelope `eventTs`, which the
 * duplicate check keys on, stays as Zoom sent it).
 */
export function boundEventTs<E extends WebhookEvent>(event: E, requestTimestampSeconds: number): { event: E; clampedFrom: number | undefined } {
  if (event.kind !== 'started' || !Number.isFinite(requestTimestampSeconds)) return { event, clampedFrom: undefined };
  const sentAt = requestTimestampSeconds * 1000;
  if (event.start.eventTs <= sentAt + EVENT_TS_AHEAD_TOLERANCE_MS) return { event, clampedFrom: undefined };
  const start: StreamStart = { ...event.start, eventTs: sentAt };
  return { event: { ...event, start }, clampedFrom: event.start.eventTs };
}
