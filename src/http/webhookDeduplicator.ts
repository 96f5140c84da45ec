import { createHash } from 'node:crypto';
import type { Clock } from '../clock.ts';
import type { WebhookEvent } from './webhookEvent.ts';

/**
 * Zoom retries a webhook it believes failed (no 2xx within 3 s) up to 3 times: +5 min,
 * then +20 min, then +60 min (docs/protocol.md#answers-retries-and-deduplication). A retry carries the same body, so
 * the key (event, rtms_stream_id, server_urls, event_ts) identifies it. The stream id alone
 * would be wrong: a second `rtms_started` for a live stream with *different* `server_urls`
 * is Zoom's server-failover signal and must reach the supervisor.
 */
export interface WebhookDeduplicator {
  /**
   * Records `key` as seen. Resolves true the first time a key is claimed (within the
   * retention window), false for a repeat. Atomic per key, so that replicas sharing a
   * Redis-backed implementation process each delivery once.
   */
  claim(key: string): Promise<boolean>;
}

/**
 * Dedup key of a parsed webhook, or undefined for `endpoint.url_validation` (never
 * deduplicated: Zoom re-validates every 72 h and each challenge must be answered).
 * Encoded as a JSON array so no field value can forge a boundary.
 */
export function dedupKey(event: WebhookEvent): string | undefined {
  switch (event.kind) {
    case 'urlValidation':
      return undefined;
    case 'started':
      return JSON.stringify([event.event, event.start.rtmsStreamId, event.start.serverUrls, event.eventTs]);
    case 'interrupted':
    case 'stopped':
      return JSON.stringify([event.event, event.rtmsStreamId, '', event.eventTs]);
    case 'concurrencyLimited':
      // No stream id yet: the entity that could not start stands in for it.
      return JSON.stringify([event.event, event.entity?.id ?? '', '', event.eventTs]);
    case 'concurrencyNearLimit':
      return JSON.stringify([event.event, '', '', event.eventTs]);
  }
}

/** 90 min: covers Zoom's last retry at +85 min (5 + 20 + 60) with margin. */
export const DEFAULT_DEDUP_TTL_MS = 90 * 60 * 1000;
/**
 * Heap one remembered key costs: keys are kept as SHA-256 digests (43 characters), so every
 * entry is the same size whatever the webhook carried; 117 bytes measured (200,000 entries,
 * Node 24), rounded up.
 */
export const DEDUP_ENTRY_BYTES = 128;
/** Default memory bound (`WEBHOOK_DEDUP_MAX_BYTES`): 8 MiB, 65,536 keys. */
export const DEFAULT_DEDUP_MAX_BYTES = 8 * 1024 * 1024;

export interface MemoryWebhookDeduplicatorOptions {
  /** How long a claimed key counts as seen, ms. Default 90 min (`DEFAULT_DEDUP_TTL_MS`). */
  readonly ttlMs?: number;
  /** Most memory the keys may take, bytes (`DEDUP_ENTRY_BYTES` each); past it the oldest is forgotten. Default 8 MiB. */
  readonly maxBytes?: number;
  /** Time source; default `Date.now`. */
  readonly clock?: Pick<Clock, 'now'>;
}

/**
 * Single-instance deduplicator: keys in insertion order with their expiry time. Because
 * the TTL is the same for every key, insertion order is expiry order, so expired keys are
 * swept from the front in amortised O(1) on each claim; no timer is needed. When full, the
 * oldest key is evicted (counted in `evictions`): a retry of it would then be processed
 * again, which the supervisor tolerates (same `server_urls` for a known stream is a no-op
 * there).
 */
export class MemoryWebhookDeduplicator implements WebhookDeduplicator {
  readonly #ttlMs: number;
  readonly #maxEntries: number;
  readonly #clock: Pick<Clock, 'now'>;
  /** digest of key → expiry, ms epoch; Map iteration is insertion order. */
  readonly #expiries = new Map<string, number>();
  #evictions = 0;

  constructor(options: MemoryWebhookDeduplicatorOptions = {}) {
    this.#ttlMs = options.ttlMs ?? DEFAULT_DEDUP_TTL_MS;
    const maxBytes = options.maxBytes ?? DEFAULT_DEDUP_MAX_BYTES;
    this.#maxEntries = Math.floor(maxBytes / DEDUP_ENTRY_BYTES);
    this.#clock = options.clock ?? { now: Date.now };
    if (!(this.#ttlMs > 0)) throw new RangeError('MemoryWebhookDeduplicator: ttlMs must be positive');
    if (!Number.isSafeInteger(maxBytes) || this.#maxEntries < 1) {
      throw new RangeError(`MemoryWebhookDeduplicator: maxBytes must be an integer of at least ${DEDUP_ENTRY_BYTES}`);
    }
  }

  /** Keys currently remembered (expired ones may linger until the next claim). */
  get size(): number {
    return this.#expiries.size;
  }

  /** Memory the remembered keys take, bytes (`size` × `DEDUP_ENTRY_BYTES`). */
  get bytes(): number {
    return this.#expiries.size * DEDUP_ENTRY_BYTES;
  }

  /** Keys forgotten before their TTL because the store was full. */
  get evictions(): number {
    return this.#evictions;
  }

  claim(rawKey: string): Promise<boolean> {
    const key = createHash('sha256').update(rawKey).digest('base64url');
    const now = this.#clock.now();
    this.#sweep(now);
    const expiry = this.#expiries.get(key);
    if (expiry !== undefined && expiry > now) return Promise.resolve(false);
    // Re-insert so the key moves to the back and order stays expiry order.
    this.#expiries.delete(key);
    this.#expiries.set(key, now + this.#ttlMs);
    while (this.#expiries.size > this.#maxEntries) {
      const oldest = this.#expiries.keys().next();
      if (oldest.done === true) break;
      this.#expiries.delete(oldest.value);
      this.#evictions += 1;
    }
    return Promise.resolve(true);
  }

  #sweep(now: number): void {
    for (const [key, expiry] of this.#expiries) {
      if (expiry > now) return;
      this.#expiries.delete(key);
    }
  }
}
