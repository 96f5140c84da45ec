import { Counter, Gauge, type Registry } from 'prom-client';
import { CONNECTION_DROP_REASONS, type ConnectionDropReason } from './connectionLimiter.ts';

/** Open connections and those closed by the cap, of one listener or several. */
export interface ConnectionCounts {
  readonly open: number;
  readonly dropped: Readonly<Record<ConnectionDropReason, number>>;
}

/** The public and the internal listener (`INTERNAL_PORT`) each have the cap; their descriptors add up. */
export function sumConnectionCounts(counts: readonly ConnectionCounts[]): ConnectionCounts {
  const dropped = Object.fromEntries(CONNECTION_DROP_REASONS.map((reason) => [reason, counts.reduce((sum, count) => sum + count.dropped[reason], 0)]));
  return { open: counts.reduce((sum, count) => sum + count.open, 0), dropped: dropped as Record<ConnectionDropReason, number> };
}

/** What the HTTP front door counts, read at each scrape. */
export interface FrontDoorSources {
  /** `HTTP_MAX_CONNECTIONS`, per listener. */
  readonly maxConnections: number;
  readonly connections: () => ConnectionCounts;
  /** The in-memory webhook dedup store; undefined with Redis (its keys live there). */
  readonly dedup: { readonly bytes: number; readonly evictions: number } | undefined;
  readonly authFailures: { readonly refused: number };
}

/**
 * Metrics of the bounds on what clients can make the connector hold: HTTP connections
 * (`HTTP_MAX_CONNECTIONS`), the webhook dedup store (`WEBHOOK_DEDUP_MAX_BYTES`) and failed
 * admin attempts. Registered next to `ConnectorMetrics` on its registry.
 */
export function registerFrontDoorMetrics(registry: Registry, sources: FrontDoorSources): void {
  const registers = [registry];
  new Gauge({
    name: 'rtms_http_connections',
    help: 'HTTP connections open now (webhooks, probes, scrapes, admin, live consumers).',
    registers,
    collect() {
      this.set(sources.connections().open);
    },
  });
  new Gauge({
    name: 'rtms_http_max_connections',
    help: 'HTTP connections allowed at once (HTTP_MAX_CONNECTIONS).',
    registers,
  }).set(sources.maxConnections);
  const droppedSeen: Record<string, number> = {};
  new Counter({
    name: 'rtms_http_connections_dropped_total',
    help: 'HTTP connections closed by HTTP_MAX_CONNECTIONS: idle_evicted (the longest-idle one, to make room), upload_evicted (else the oldest still sending its body), all_busy (the newcomer, every open one being answered).',
    labelNames: ['reason'] as const,
    registers,
    collect() {
      const dropped = sources.connections().dropped;
      for (const reason of CONNECTION_DROP_REASONS) {
        this.inc({ reason }, dropped[reason] - (droppedSeen[reason] ?? 0));
        droppedSeen[reason] = dropped[reason];
      }
    },
  });
  const dedup = sources.dedup;
  if (dedup !== undefined) {
    new Gauge({
      name: 'rtms_webhook_dedup_bytes',
      help: 'Memory held by the in-memory webhook dedup store (bounded by WEBHOOK_DEDUP_MAX_BYTES).',
      registers,
      collect() {
        this.set(dedup.bytes);
      },
    });
    let evictionsSeen = 0;
    new Counter({
      name: 'rtms_webhook_dedup_evictions_total',
      help: 'Webhook dedup keys forgotten before their 90 min because the store was full; a Zoom retry of one would be processed again.',
      registers,
      collect() {
        this.inc(dedup.evictions - evictionsSeen);
        evictionsSeen = dedup.evictions;
      },
    });
  }
  let refusedSeen = 0;
  new Counter({
    name: 'rtms_admin_auth_rate_limited_total',
    help: 'Admin API and live feed requests answered 429: their address failed the bearer token too often.',
    registers,
    collect() {
      const refused = sources.authFailures.refused;
      this.inc(refused - refusedSeen);
      refusedSeen = refused;
    },
  });
}
