/**
 * Every Redis key multi-replica mode uses, in one place (docs/replicas.md#redis-keys
 * documents the layout). `prefix` is `CLUSTER_KEY_PREFIX` (default `rtms:cluster:`).
 *
 * | key | type | holds |
 * |---|---|---|
 * | `<p>lease:<id>` | string, PX = lease TTL | `<replicaId>\|<token>` of the stream's owner |
 * | `<p>fence:<id>` | string (INCR) | last fencing token handed out for the stream |
 * | `<p>stream:<id>` | hash | `start` (the `rtms_started` payload, JSON), `eventTs`, `createdAt`, `state`, `stats` (JSON), `owner`, `token`, `updatedAt`, `released`, `stopReason`, `closeRequested` |
 * | `<p>excluded:<id>` | set | participants excluded from capture |
 * | `<p>streams` | sorted set | every stream of the cluster; score = its lease expiry (ms, Redis clock), 0 before the first owner |
 * | `<p>replicas` | hash | replica id → `{capacity, active, free, draining, at}` heartbeat (JSON) |
 * | `<p>cmd:<replicaId>` | stream, consumer group `owner` | commands for the streams that replica owns |
 * | `<p>dedup:<sha256>` | string, PX ≥ 90 min | a webhook delivery already processed by some replica |
 *
 * The scripts touch several of these keys at once: one Redis primary (with replicas or
 * Sentinel if wanted), not Redis Cluster.
 */
export class ClusterKeys {
  readonly prefix: string;
  readonly index: string;
  readonly replicas: string;

  constructor(prefix: string) {
    this.prefix = prefix;
    this.index = `${prefix}streams`;
    this.replicas = `${prefix}replicas`;
  }

  lease(rtmsStreamId: string): string {
    return `${this.prefix}lease:${rtmsStreamId}`;
  }

  fence(rtmsStreamId: string): string {
    return `${this.prefix}fence:${rtmsStreamId}`;
  }

  stream(rtmsStreamId: string): string {
    return `${this.prefix}stream:${rtmsStreamId}`;
  }

  excluded(rtmsStreamId: string): string {
    return `${this.prefix}excluded:${rtmsStreamId}`;
  }

  commands(replicaId: string): string {
    return `${this.prefix}cmd:${replicaId}`;
  }

  dedup(digest: string): string {
    return `${this.prefix}dedup:${digest}`;
  }
}

/** A lease value: the owner replica and the fencing token it was granted. */
export interface LeaseValue {
  readonly replicaId: string;
  readonly token: number;
}

export function leaseValue(replicaId: string, token: number): string {
  return `${replicaId}|${token}`;
}

export function parseLeaseValue(value: string): LeaseValue | undefined {
  const bar = value.lastIndexOf('|');
  if (bar <= 0) return undefined;
  const token = Number(value.slice(bar + 1));
  return Number.isSafeInteger(token) ? { replicaId: value.slice(0, bar), token } : undefined;
}
