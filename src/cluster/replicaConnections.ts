import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Config } from '../config.ts';
import type { Logger } from '../logger.ts';
import { RedisConnection } from './redisConnection.ts';

/** XREADGROUP BLOCK of the command stream, ms. */
export const COMMAND_BLOCK_MS = 1000;

/** A replica's name in the cluster and its two Redis connections. */
export interface ReplicaConnections {
  readonly replicaId: string;
  /** Leases, records, heartbeats, sending commands. */
  readonly redis: RedisConnection;
  /** Blocks reading this replica's command stream, so it has a connection of its own. */
  readonly reader: RedisConnection;
}

/**
 * Names the replica (CLUSTER_REPLICA_ID, or the host name with a random suffix) and opens its
 * two Redis connections, each waiting up to 15 s for Redis at start-up. Commands time out
 * after a fifth of the lease TTL (200 ms to 2 s), so a slow Redis cannot outlast a lease; the
 * reader's timeout also covers its blocking read.
 */
export async function connectReplica(config: Config, logger: Logger): Promise<ReplicaConnections> {
  const url = config.redisUrl;
  if (url === undefined) throw new Error('ClusterNode.connect: REDIS_URL is not set');
  const replicaId =
    config.cluster.replicaId ??
    `${hostname()
      .replace(/[^A-Za-z0-9._:-]/g, '_')
      .slice(0, 80)}-${randomBytes(3).toString('hex')}`;
  const commandTimeoutMs = Math.max(200, Math.min(2000, Math.floor(config.cluster.leaseTtlMs / 5)));
  const clusterLogger = logger.child({ component: 'redis', replica: replicaId });
  const redis = await RedisConnection.connect({
    url,
    name: `rtms-connector:${replicaId}`,
    logger: clusterLogger,
    commandTimeoutMs,
    startupTimeoutMs: 15_000,
  });
  try {
    const reader = await RedisConnection.connect({
      url,
      name: `rtms-connector:${replicaId}:commands`,
      logger: clusterLogger,
      commandTimeoutMs: COMMAND_BLOCK_MS + commandTimeoutMs + 1000,
      startupTimeoutMs: 15_000,
    });
    return { replicaId, redis, reader };
  } catch (error) {
    redis.destroy();
    throw error;
  }
}
