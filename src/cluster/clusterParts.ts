import type { EventEmitter } from 'node:events';
import type { Config } from '../config.ts';
import type { Logger } from '../logger.ts';
import type { Supervisor } from '../supervisor/supervisor.ts';
import type { ClusterCommandBody } from './clusterCommand.ts';
import type { ClusterNodeEvents } from './clusterNode.ts';
import { CommandRouter } from './commandRouting.ts';
import { HeldStreams } from './heldStreams.ts';
import type { KeyedQueue } from './keyedQueue.ts';
import { OrphanScan } from './orphanScan.ts';
import { OwnedStreams } from './ownedStreams.ts';
import type { ReplicaRegistry } from './replicaRegistry.ts';
import { StreamClaims } from './streamClaims.ts';
import type { StreamLeases } from './streamLeases.ts';
import type { StreamRegistry } from './streamRegistry.ts';

/** The per-stream parts of a replica (see the overview in clusterNode.ts). */
export interface ClusterParts {
  /** Streams running here, as Redis sees them: record writes, lease loss, finish. */
  readonly owned: OwnedStreams;
  /** Streams kept while Redis was unreachable (pending, suspended, unfinished), retried on each scan. */
  readonly held: HeldStreams;
  /** Commands for a stream: executed here, or forwarded to its owner. */
  readonly commands: CommandRouter;
  /** How streams come to run here: announced and claimed, taken over, adopted. */
  readonly claims: StreamClaims;
  /** The takeover scan: orphans claimed by free capacity, or removed. */
  readonly orphans: OrphanScan;
}

/** What the node lends its parts: the shared Redis views, its capacity, its command bus and its events. */
export interface ClusterPartsContext {
  readonly config: Config;
  readonly replicaId: string;
  readonly leases: StreamLeases;
  readonly registry: StreamRegistry;
  readonly replicas: ReplicaRegistry;
  readonly lanes: KeyedQueue;
  readonly logger: Logger;
  /** The supervisor; throws before `attach()`. */
  readonly supervisor: () => Supervisor;
  /** The supervisor once attached. */
  readonly attached: () => Supervisor | undefined;
  /** Streams this replica could claim now. */
  readonly free: () => number;
  /** Counts a claim in flight against free capacity until the returned function is called. */
  readonly reserve: () => () => void;
  readonly send: (to: string, body: ClusterCommandBody, hops: number) => Promise<void>;
  readonly hintAdopt: (rtmsStreamId: string, reason: string) => Promise<void>;
  readonly redisUp: () => boolean;
  readonly draining: () => boolean;
  readonly warn: (message: string, rtmsStreamId: string | undefined, error: unknown) => void;
  readonly events: Pick<EventEmitter<ClusterNodeEvents>, 'emit'>;
}

/**
 * Builds the parts and wires them to each other: the takeover scan claims through StreamClaims,
 * held streams are announced and recovered through it, and it leaves to HeldStreams what
 * cannot reach Redis. Each reference to a part is resolved when called, after all are built.
 */
export function wireClusterParts(context: ClusterPartsContext): ClusterParts {
  const { replicaId, config, leases, registry, lanes, logger, supervisor, free, reserve, send, warn, events } = context;
  const cluster = config.cluster;
  const orphans: OrphanScan = new OrphanScan({
    replicaId,
    cluster,
    registry,
    replicas: context.replicas,
    lanes,
    logger,
    free,
    warn,
    isLocal: (id) => supervisor().has(id) || leases.holds(id) || held.isSuspended(id),
    takeOver: (id, hint) => claims.takeOver(id, hint),
    abandoned: (rtmsStreamId, reason) => events.emit('abandoned', { rtmsStreamId, reason }),
  });
  const held: HeldStreams = new HeldStreams({
    reconnectWindowMs: config.rtms.reconnectWindowMs,
    registry,
    leases,
    lanes,
    logger,
    free,
    reserve,
    warn,
    announce: (start) => claims.started(start, 0),
    recovered: (claim, start, stats) => claims.startClaimed(claim, 'recovered', start, stats),
    exclude: (rtmsStreamId, userId) => context.attached()?.excludeParticipant(rtmsStreamId, userId),
  });
  const commands = new CommandRouter({ replicaId, supervisor, registry, leases, held, send, logger, warn });
  const owned: OwnedStreams = new OwnedStreams({
    supervisor,
    leases,
    registry,
    held,
    lanes,
    leaseRenewMs: cluster.leaseRenewMs,
    logger,
    warn,
    redisUp: context.redisUp,
    draining: context.draining,
    leaseLost: (rtmsStreamId, reason) => events.emit('leaseLost', { rtmsStreamId, reason }),
    reacquired: (rtmsStreamId) => events.emit('leaseAcquired', { rtmsStreamId, reason: 'reacquired' }),
  });
  const claims: StreamClaims = new StreamClaims({
    replicaId,
    maxStreams: config.maxStreams,
    supervisor,
    leases,
    registry,
    held,
    orphans,
    free,
    reserve,
    send,
    logger,
    warn,
    hintAdopt: context.hintAdopt,
    acquired: (rtmsStreamId, reason, orphanedMs) => {
      events.emit('leaseAcquired', { rtmsStreamId, reason });
      if (reason !== 'admitted') events.emit('takeover', { rtmsStreamId, reason, orphanedMs });
    },
    abandoned: (rtmsStreamId) => events.emit('abandoned', { rtmsStreamId, reason: 'stopped' }),
  });
  return { owned, held, commands, claims, orphans };
}
