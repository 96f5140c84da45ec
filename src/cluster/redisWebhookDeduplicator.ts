import { createHash } from 'node:crypto';
import { DEFAULT_DEDUP_TTL_MS, type WebhookDeduplicator } from '../http/webhookDeduplicator.ts';
import type { ClusterKeys } from './clusterKeys.ts';
import type { RedisConnection } from './redisConnection.ts';

export interface RedisWebhookDeduplicatorOptions {
  readonly redis: RedisConnection;
  readonly keys: ClusterKeys;
  /** How long a claimed key counts as seen, ms. Default 90 min; Zoom's last retry comes at +85 min. */
  readonly ttlMs?: number;
}

/**
 * Webhook dedup shared by every replica: `SET <p>dedup:<sha256(key)> 1 NX PX ttl`. The first
 * replica to claim a delivery processes it; Zoom's retries, wherever the load balancer sends
 * them, are answered as duplicates. The key is hashed because it embeds `server_urls`.
 *
 * Rejects when Redis does not answer (offline, or past the command deadline); the webhook
 * handler then fails open, as the stream layer tolerates a repeat but not a lost start.
 */
export class RedisWebhookDeduplicator implements WebhookDeduplicator {
  readonly #redis: RedisConnection;
  readonly #keys: ClusterKeys;
  readonly #ttlMs: number;

  constructor(options: RedisWebhookDeduplicatorOptions) {
    this.#redis = options.redis;
    this.#keys = options.keys;
    this.#ttlMs = options.ttlMs ?? DEFAULT_DEDUP_TTL_MS;
    if (this.#ttlMs < DEFAULT_DEDUP_TTL_MS) throw new RangeError('RedisWebhookDeduplicator: ttlMs must cover Zoom retries (at least 90 min)');
  }

  async claim(key: string): Promise<boolean> {
    const digest = createHash('sha256').update(key).digest('hex');
    const reply = await this.#redis.client.set(this.#keys.dedup(digest), '1', { condition: 'NX', expiration: { type: 'PX', value: this.#ttlMs } });
    return reply === 'OK';
  }
}
