import { type LifecycleWebhook, type Product, webhookEventName } from './connectorShared.ts';

/**
 * Bodies of the RTMS lifecycle webhooks (docs/protocol.md#event-names, #payload-fields): `{event, event_ts,
 * payload}` with the per-product fields. `payloadNesting: 'object'` reproduces the documented
 * variant that puts the stream fields under `payload.object` and `account_id` at `payload`.
 */

export interface StreamIdentity {
  readonly product: Product;
  readonly rtmsStreamId: string;
  readonly entityId: string;
  /** Video SDK custom session id. */
  readonly sessionKey: string;
  readonly operatorId: string;
  readonly accountId: string;
  /** Numeric meeting / webinar id. */
  readonly meetingNumber: number;
  /** Webinars only: the key carrying the entity id (`webinar_uuid` per OpenAPI, `meeting_uuid` per some samples). */
  readonly webinarIdKey: 'webinar_uuid' | 'meeting_uuid';
}

export interface LifecycleWebhookOptions {
  readonly kind: LifecycleWebhook;
  readonly stream: StreamIdentity;
  /** ms epoch */
  readonly eventTs: number;
  /** `server_urls`; started only. */
  readonly serverUrls?: string;
  /** stopped only. */
  readonly stopReason?: number;
  readonly payloadNesting: 'flat' | 'object';
}

export interface WebhookBody {
  readonly event: string;
  readonly event_ts: number;
  readonly payload: Record<string, unknown>;
}

/**
 * A new entity id as Zoom writes it: meeting, webinar and session UUIDs are standard base64
 * of 16 bytes (`+`, `/` and the `==` padding all occur), Contact Center engagement ids are
 * URL-safe base64 without padding (`W_VATTk_Q5aW6z5rZtBxAQ`); evidence in README.md#fidelity-and-evidence.
 */
export function entityIdFor(product: Product, bytes: Buffer): string {
  return bytes.toString(product === 'contact_center' ? 'base64url' : 'base64');
}

function entityFields(stream: StreamIdentity): Record<string, unknown> {
  switch (stream.product) {
    case 'meeting':
      return { meeting_uuid: stream.entityId };
    case 'webinar':
      return { [stream.webinarIdKey]: stream.entityId };
    case 'session':
      return { session_id: stream.entityId, session_key: stream.sessionKey };
    case 'contact_center':
      return { engagement_id: stream.entityId };
  }
}

function startedExtras(stream: StreamIdentity): Record<string, unknown> {
  switch (stream.product) {
    case 'meeting':
      return { operator_id: stream.operatorId, meeting_id: stream.meetingNumber, is_original_host: true };
    case 'webinar':
      return { operator_id: stream.operatorId, meeting_id: stream.meetingNumber, webinar_id: stream.meetingNumber, is_original_host: true };
    case 'session':
    case 'contact_center':
      return {};
  }
}

/** Builds a `*.rtms_started` / `*.rtms_interrupted` / `*.rtms_stopped` body. */
export function lifecycleWebhookBody(options: LifecycleWebhookOptions): WebhookBody {
  const { stream, kind } = options;
  const fields: Record<string, unknown> = { ...entityFields(stream), rtms_stream_id: stream.rtmsStreamId };
  if (kind === 'rtms_started') {
    Object.assign(fields, startedExtras(stream), { server_urls: options.serverUrls ?? '' });
  }
  if (kind === 'rtms_stopped') fields['stop_reason'] = options.stopReason ?? 0;
  const payload: Record<string, unknown> =
    options.payloadNesting === 'object'
      ? { account_id: stream.accountId, object: fields }
      : kind === 'rtms_started'
        ? { ...fields, account_id: stream.accountId }
        : fields;
  return { event: webhookEventName(stream.product, kind), event_ts: options.eventTs, payload };
}

/** Body of the `endpoint.url_validation` challenge. */
export function urlValidationBody(plainToken: string, eventTs: number): WebhookBody {
  return { event: 'endpoint.url_validation', event_ts: eventTs, payload: { plainToken } };
}
