import { WebhookError } from '../errors.ts';
import { EVENT_PREFIX, PRODUCTS, type EntityIdKey, type Product, type StreamStart } from '../rtms/products.ts';
import type { WebhookEvent } from './webhookEvent.ts';

/**
 * Turns a webhook body into a `WebhookEvent` (docs/protocol.md#webhooks), or throws a
 * `WebhookError` 400 whose message names the offending field:
 * `payload.rtms_stream_id: expected a non-empty string, got number`.
 *
 * Rules:
 * - Envelope `{event, event_ts, payload}`; `event_ts` is integer ms since the epoch
 *   (not required for `endpoint.url_validation`, whose documented body may omit it).
 * - Payload fields are read flat (`payload.x`, the OpenAPI shape) and, when absent there,
 *   from `payload.object.x` (the nested shape some Zoom docs show).
 * - Fields the connector needs to do its job (stream id, entity id, `server_urls`,
 *   `stop_reason`, concurrency numbers) are required and strictly typed. Descriptive fields
 *   (`operator_id`, `account_id`, `session_key`) are taken when they are non-empty strings
 *   and otherwise left out: refusing an `rtms_started` over them would lose the stream,
 *   because Zoom's first retry only comes 5 minutes later.
 * - Webinars: `webinar_uuid` (OpenAPI) or `meeting_uuid` (seen in SDK examples); the key
 *   found is kept as `entityIdKey` so the handshake repeats it.
 * - `server_urls` is kept verbatim; the signaling URL is its first `wss://` entry, else its
 *   first `ws://` entry.
 * - Ids are at most `MAX_ID_LENGTH` characters, `server_urls` at most
 *   `MAX_SERVER_URLS_LENGTH`; longer is 400 naming the field.
 * - Messages quote field names, never field values (other than the event name), so they
 *   are safe to log and to return to the client.
 */

/** Event name of Zoom's endpoint challenge. */
export const URL_VALIDATION_EVENT = 'endpoint.url_validation';

/**
 * Longest accepted `plainToken`. Zoom's are ~22 characters; the cap keeps the HMAC we
 * compute for anonymous callers cheap.
 */
export const MAX_PLAIN_TOKEN_LENGTH = 256;

/**
 * Longest accepted id (`rtms_stream_id`, `meeting_uuid`, `operator_id`, …). Zoom's are 22 to
 * 36 characters; a cap keeps what one signed webhook can make us hold (dedup store, logs,
 * snapshots, directory names) small. Longer is answered 400 naming the field.
 */
export const MAX_ID_LENGTH = 256;
/** Longest accepted `server_urls` (a comma-separated list of a few URLs). */
export const MAX_SERVER_URLS_LENGTH = 2048;

type LifecycleKind = 'started' | 'interrupted' | 'stopped';

type EventSpec =
  { readonly kind: LifecycleKind; readonly product: Product } | { readonly kind: 'concurrencyLimited' | 'concurrencyNearLimit' | 'urlValidation' };

const EVENT_SPECS: ReadonlyMap<string, EventSpec> = new Map<string, EventSpec>([
  ...PRODUCTS.flatMap((product) =>
    (['started', 'interrupted', 'stopped'] as const).map((kind): [string, EventSpec] => [`${EVENT_PREFIX[product]}rtms_${kind}`, { kind, product }]),
  ),
  ['rtms.concurrency_limited', { kind: 'concurrencyLimited' }],
  ['rtms.concurrency_near_limit', { kind: 'concurrencyNearLimit' }],
  [URL_VALIDATION_EVENT, { kind: 'urlValidation' }],
]);

/** Every event name `parseWebhook` accepts: the 14 RTMS events plus `endpoint.url_validation`. */
export const KNOWN_WEBHOOK_EVENTS: readonly string[] = [...EVENT_SPECS.keys()];

/** Entity id keys `rtms.concurrency_limited` may carry in `id_field`. */
const ID_FIELD_KEYS: readonly EntityIdKey[] = ['meeting_uuid', 'webinar_uuid', 'session_id', 'engagement_id'];

/** Parses raw body bytes (UTF-8 JSON). Throws `WebhookError` 400. */
export function parseWebhook(rawBody: Buffer | string): WebhookEvent {
  return parseWebhookJson(parseJson(rawBody));
}

/**
 * Parses raw body bytes into plain JSON without validating the envelope. Throws
 * `WebhookError` 400 for anything that is not JSON. The message never quotes the body.
 */
export function parseJson(rawBody: Buffer | string): unknown {
  const text = typeof rawBody === 'string' ? rawBody : rawBody.toString('utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    // The SyntaxError quotes part of the body, which must not reach logs.
    throw bodyInvalid('body: expected JSON, got invalid JSON');
  }
}

/** Validates an already decoded JSON value as a webhook. Throws `WebhookError` 400. */
export function parseWebhookJson(body: unknown): WebhookEvent {
  if (!isObject(body)) throw bodyInvalid(`body: expected a JSON object, got ${typeName(body)}`);
  const event = body['event'];
  if (typeof event !== 'string' || event === '') throw bodyInvalid(`event: expected a non-empty string, ${describe(event)}`);
  const spec = EVENT_SPECS.get(event);
  if (spec === undefined) {
    throw new WebhookError('WEBHOOK_EVENT_UNKNOWN', 400, `event: unknown event ${JSON.stringify(event.slice(0, 100))}`);
  }
  const payloadValue = body['payload'];
  if (!isObject(payloadValue)) throw bodyInvalid(`payload: expected an object, ${describe(payloadValue)}`);
  const payload = new PayloadReader(payloadValue);

  if (spec.kind === 'urlValidation') {
    const plainToken = payload.string('plainToken', MAX_PLAIN_TOKEN_LENGTH);
    return { kind: 'urlValidation', event, plainToken };
  }

  const eventTs = body['event_ts'];
  if (!isNonNegativeInteger(eventTs)) {
    throw bodyInvalid(`event_ts: expected an integer (ms since the epoch), ${describe(eventTs)}`);
  }

  switch (spec.kind) {
    case 'started':
      return { kind: 'started', event, eventTs, start: readStart(payload, spec.product, eventTs) };
    case 'interrupted':
      return {
        kind: 'interrupted',
        event,
        eventTs,
        product: spec.product,
        rtmsStreamId: payload.string('rtms_stream_id'),
        entityId: readEntity(payload, spec.product).id,
      };
    case 'stopped':
      return {
        kind: 'stopped',
        event,
        eventTs,
        product: spec.product,
        rtmsStreamId: payload.string('rtms_stream_id'),
        entityId: readEntity(payload, spec.product).id,
        stopReason: payload.integer('stop_reason'),
      };
    case 'concurrencyNearLimit':
      return {
        kind: 'concurrencyNearLimit',
        event,
        eventTs,
        concurrencyLimit: payload.integer('concurrency_limit'),
        concurrencyNumber: payload.integer('concurrency_number'),
        percentage: payload.integer('percentage'),
      };
    case 'concurrencyLimited': {
      const operatorId = payload.optionalString('operator_id');
      const entity = readIdField(payload.optionalObject('id_field'));
      return {
        kind: 'concurrencyLimited',
        event,
        eventTs,
        concurrencyNumber: payload.integer('concurrency_number'),
        ...(operatorId === undefined ? {} : { operatorId }),
        ...(entity === undefined ? {} : { entity }),
      };
    }
  }
}

/**
 * Picks the signaling URL from `server_urls`: the first `wss://` entry, else the first
 * `ws://` entry, else undefined. Entries are comma-separated and trimmed.
 */
export function pickSignalingUrl(serverUrls: string): string | undefined {
  const entries = serverUrls
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '' && isUrl(entry));
  return entries.find((entry) => entry.toLowerCase().startsWith('wss://')) ?? entries.find((entry) => entry.toLowerCase().startsWith('ws://'));
}

function readStart(payload: PayloadReader, product: Product, eventTs: number): StreamStart {
  const rtmsStreamId = payload.string('rtms_stream_id');
  const entity = readEntity(payload, product);
  const serverUrls = payload.string('server_urls', MAX_SERVER_URLS_LENGTH);
  const signalingUrl = pickSignalingUrl(serverUrls);
  if (signalingUrl === undefined) {
    throw bodyInvalid(`${payload.pathOf('server_urls')}: expected a ws:// or wss:// URL (comma-separated list allowed)`);
  }
  const operatorId = payload.optionalString('operator_id');
  const accountId = payload.optionalString('account_id');
  const sessionKey = product === 'session' ? payload.optionalString('session_key') : undefined;
  return {
    product,
    rtmsStreamId,
    entityIdKey: entity.key,
    entityId: entity.id,
    serverUrls,
    signalingUrl,
    eventTs,
    ...(operatorId === undefined ? {} : { operatorId }),
    ...(accountId === undefined ? {} : { accountId }),
    ...(sessionKey === undefined ? {} : { sessionKey }),
  };
}

function readEntity(payload: PayloadReader, product: Product): { key: EntityIdKey; id: string } {
  if (product === 'webinar') {
    // OpenAPI names it webinar_uuid; SDK examples read meeting_uuid. Prefer the documented key.
    const key = !payload.has('webinar_uuid') && payload.has('meeting_uuid') ? 'meeting_uuid' : 'webinar_uuid';
    if (!payload.has(key)) throw bodyInvalid('payload.webinar_uuid: expected a non-empty string (or payload.meeting_uuid), missing');
    return { key, id: payload.string(key) };
  }
  const key: EntityIdKey = product === 'meeting' ? 'meeting_uuid' : product === 'session' ? 'session_id' : 'engagement_id';
  return { key, id: payload.string(key) };
}

function readIdField(idField: Record<string, unknown> | undefined): { key: string; id: string } | undefined {
  if (idField === undefined) return undefined;
  for (const key of ID_FIELD_KEYS) {
    const id = idField[key];
    if (typeof id === 'string' && id !== '') return { key, id: checkLength(`payload.id_field.${key}`, id, MAX_ID_LENGTH) };
  }
  return undefined;
}

/** Reads fields flat from `payload`, falling back to `payload.object`. */
class PayloadReader {
  readonly #flat: Record<string, unknown>;
  readonly #nested: Record<string, unknown> | undefined;

  constructor(payload: Record<string, unknown>) {
    this.#flat = payload;
    const nested = payload['object'];
    this.#nested = isObject(nested) ? nested : undefined;
  }

  /** True when the field is present and not null, flat or nested. */
  has(name: string): boolean {
    const { value } = this.#lookup(name);
    return value !== undefined && value !== null;
  }

  /** JSON path of the field as found (or, when absent, where it was expected first). */
  pathOf(name: string): string {
    return this.#lookup(name).path;
  }

  string(name: string, maxLength = MAX_ID_LENGTH): string {
    const { value, path } = this.#lookup(name);
    if (typeof value !== 'string' || value === '') throw bodyInvalid(`${path}: expected a non-empty string, ${describe(value)}`);
    return checkLength(path, value, maxLength);
  }

  integer(name: string): number {
    const { value, path } = this.#lookup(name);
    if (!isNonNegativeInteger(value)) throw bodyInvalid(`${path}: expected a non-negative integer, ${describe(value)}`);
    return value;
  }

  /** A non-empty string, else undefined; one that is too long is still refused (no Zoom id is). */
  optionalString(name: string): string | undefined {
    const { value, path } = this.#lookup(name);
    return typeof value === 'string' && value !== '' ? checkLength(path, value, MAX_ID_LENGTH) : undefined;
  }

  optionalObject(name: string): Record<string, unknown> | undefined {
    const { value } = this.#lookup(name);
    return isObject(value) ? value : undefined;
  }

  #lookup(name: string): { value: unknown; path: string } {
    const flat = Object.hasOwn(this.#flat, name) ? this.#flat[name] : undefined;
    if (flat !== undefined && flat !== null) return { value: flat, path: `payload.${name}` };
    if (this.#nested !== undefined && Object.hasOwn(this.#nested, name)) {
      const nested = this.#nested[name];
      if (nested !== undefined && nested !== null) return { value: nested, path: `payload.object.${name}` };
    }
    return { value: flat, path: `payload.${name}` };
  }
}

function checkLength(path: string, value: string, maxLength: number): string {
  if (value.length > maxLength) throw bodyInvalid(`${path}: expected at most ${maxLength} characters, got ${value.length}`);
  return value;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isNonNegativeInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function isUrl(value: string): boolean {
  try {
    new URL(value);
    return true;
  } catch {
    return false;
  }
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'string' && value === '') return 'empty string';
  if (typeof value === 'number' && !Number.isInteger(value)) return 'non-integer number';
  if (typeof value === 'number' && value < 0) return 'negative number';
  return typeof value;
}

function describe(value: unknown): string {
  return value === undefined ? 'missing' : `got ${typeName(value)}`;
}

function bodyInvalid(message: string): WebhookError {
  return new WebhookError('WEBHOOK_BODY_INVALID', 400, message);
}
