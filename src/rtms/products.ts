/**
 * The four RTMS products and how each names its entity (docs/protocol.md#event-names, #products).
 * The entity id key is also the key the handshake carries.
 */

export const PRODUCTS = ['meeting', 'webinar', 'session', 'contact_center'] as const;
export type Product = (typeof PRODUCTS)[number];

export type EntityIdKey = 'meeting_uuid' | 'webinar_uuid' | 'session_id' | 'engagement_id';

export const ENTITY_ID_KEY: Readonly<Record<Product, EntityIdKey>> = {
  meeting: 'meeting_uuid',
  webinar: 'webinar_uuid',
  session: 'session_id',
  contact_center: 'engagement_id',
};

/** Webhook event name prefix per product: `<prefix>rtms_started` etc. */
export const EVENT_PREFIX: Readonly<Record<Product, string>> = {
  meeting: 'meeting.',
  webinar: 'webinar.',
  session: 'session.',
  contact_center: 'contact_center.voice_',
};

export type LifecycleWebhook = 'rtms_started' | 'rtms_interrupted' | 'rtms_stopped';

export function webhookEventName(product: Product, kind: LifecycleWebhook): string {
  return `${EVENT_PREFIX[product]}${kind}`;
}

/** Everything needed to (re)join a stream; stored so another worker or replica can resume it. */
export interface StreamStart {
  readonly product: Product;
  readonly rtmsStreamId: string;
  /** Key the handshake uses for the entity id (the same key the webhook used: docs/protocol.md#products). */
  readonly entityIdKey: EntityIdKey;
  readonly entityId: string;
  /** `server_urls` exactly as received (may be a comma-separated list). */
  readonly serverUrls: string;
  /** The `ws://` or `wss://` signaling URL picked from `serverUrls`. */
  readonly signalingUrl: string;
  /** `event_ts` of the webhook that started (or last failed over) the stream, ms epoch. */
  readonly eventTs: number;
  readonly operatorId?: string;
  readonly accountId?: string;
  /** Video SDK custom session id. */
  readonly sessionKey?: string;
}
