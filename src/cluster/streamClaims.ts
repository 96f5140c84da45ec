import type { Logger } from '../logger.ts';
import type { StreamStart } from '../rtms/products.ts';
import type { Supervisor } from '../supervisor/supervisor.ts';
import type { StreamStats } from '../vocabulary/streamStats.ts';
import type { ClusterCommandBody } from './clusterCommand.ts';
import { MAX_HOPS } from './commandRouting.ts';
import type { ClaimedOutcome, HeldStreams } from './heldStreams.ts';
import type { OrphanScan } from './orphanScan.ts';
import type { StreamLeases } from './streamLeases.ts';
import { type StreamRegistry, parseStoredStart, parseStoredStats } from './streamRegistry.ts';

/**
 * How a stream comes to run on this replica. An `rtms_started` is announced in Redis (its
 * payload stored) and claimed if there is room; a stream already running here takes it as a
 * failover; one owned elsewhere is forwarded to its owner; with no room here, a peer with
 * room is hinted to adopt it. An orphan is claimed by the takeover scan or an adopt hint.
 * A claimed stream starts from the stored payload, resuming the statistics stored with it.
 */

/** Why this replica got a lease. */
export type AcquireReason = 'admitted' | 'takeover' | 'handoff' | 'adopt' | 'recovered' | 'reacquired';

export interface StreamClaimsOptions {
  readonly replicaId: string;
  readonly maxStreams: number;
  readonly supervisor: () => Supervisor;
  readonly leases: Pick<StreamLeases, 'valid' | 'holds' | 'claim' | 'forget' | 'release'>;
  readonly registry: Pick<StreamRegistry, 'announce' | 'finish'>;
  readonly held: Pick<HeldStreams, 'startedWhileSuspended' | 'pend' | 'announced' | 'isSuspended'>;
  readonly orphans: Pick<OrphanScan, 'claimed'>;
  /** Streams this replica could claim now. */
  readonly free: () => number;
  /** Counts a claim in flight against the free capacity until the returned function is called. */
  readonly reserve: () => () => void;
  readonly send: (to: string, body: ClusterCommandBody, hops: number) => Promise<void>;
  /** Tells the live replica with the most room to claim the stream now. */
  readonly hintAdopt: (rtmsStreamId: string, reason: string) => Promise<void>;
  readonly acquired: (rtmsStreamId: string, reason: AcquireReason, orphanedMs: number | undefined) => void;
  readonly abandoned: (rtmsStreamId: string) => void;
  readonly logger: Logger;
  readonly warn: (message: string, rtmsStreamId: string | undefined, error: unknown) => void;
}

export class StreamClaims {
  readonly #options: StreamClaimsOptions;

  constructor(options: StreamClaimsOptions) {
    this.#options = options;
  }

  /** An `rtms_started` (from Zoom or forwarded): failover if it runs here, else claim it if there is room. */
  async started(start: StreamStart, hops: number): Promise<void> {
    const { leases, registry, held, logger } = this.#options;
    const supervisor = this.#options.supervisor();
    const id = start.rtmsStreamId;
    if (supervisor.has(id)) {
      // A failover races the session's own rejoin of the old server: act first on the local
      // lease check (valid until before Redis could expire the lease), then store the newest
      // payload for whoever resumes the stream later. The supervisor ignores stale starts.
      if (!leases.valid(id)) return;
      supervisor.failover(start);
      await registry.announce(start, { claim: false }).catch((error: unknown) => this.#options.warn('could not store the new rtms_started payload', id, error));
      return;
    }
    // Suspended: claimed again (with the newest payload) once Redis is reachable.
    if (held.startedWhileSuspended(start)) return;
    const claim = this.#options.free() > 0;
    const release = claim ? this.#options.reserve() : undefined;
    let outcome;
    try {
      outcome = await registry.announce(start, { claim });
    } catch (error) {
      this.#options.warn('redis unavailable: stream held until it is back', id, error);
      held.pend(start);
      return;
    } finally {
      release?.();
    }
    held.announced(id);
    if (outcome.status === 'stale') {
      logger.info({ rtmsStreamId: id, eventTs: start.eventTs }, 'stale rtms_started (older event_ts); ignored');
      return;
    }
    const result = outcome.claim;
    if (result?.status === 'claimed') {
      await this.startClaimed(result, parseStoredStats(result.record['stats']) === undefined ? 'admitted' : 'takeover', start);
      return;
    }
    if (result?.status === 'held') {
      if (result.owner !== this.#options.replicaId && hops < MAX_HOPS) await this.#options.send(result.owner, { type: 'started', start }, hops + 1);
      return;
    }
    logger.info({ rtmsStreamId: id, maxStreams: this.#options.maxStreams }, 'no room here; stream left for a replica with room');
    await this.#options.hintAdopt(id, 'admission');
  }

  /** Claims an orphan if there is room here (takeover scan, adopt hint). */
  async takeOver(rtmsStreamId: string, hint: AcquireReason): Promise<void> {
    const { leases } = this.#options;
    const supervisor = this.#options.supervisor();
    if (supervisor.has(rtmsStreamId) || leases.holds(rtmsStreamId) || this.#options.held.isSuspended(rtmsStreamId) || this.#options.free() <= 0) return;
    const release = this.#options.reserve();
    let outcome;
    try {
      outcome = await leases.claim(rtmsStreamId);
    } finally {
      release();
    }
    if (outcome.status !== 'claimed') return;
    this.#options.orphans.claimed(rtmsStreamId);
    const reason: AcquireReason = outcome.record['released'] === 'handoff' ? 'handoff' : hint;
    await this.startClaimed(outcome, reason);
  }

  /** Starts a stream whose lease this replica just claimed, from the stored payload. */
  async startClaimed(claim: ClaimedOutcome, reason: AcquireReason, start?: StreamStart, previous?: StreamStats): Promise<void> {
    const { leases, registry, logger } = this.#options;
    const supervisor = this.#options.supervisor();
    const { lease, record } = claim;
    const id = lease.rtmsStreamId;
    const payload = start ?? parseStoredStart(record['start']);
    if (record['stopReason'] !== undefined || record['closeRequested'] !== undefined || payload === undefined) {
      // Stopped or closed while it had no owner (or unreadable): nothing to join.
      leases.forget(id);
      await registry.finish(lease);
      this.#options.abandoned(id);
      return;
    }
    const carried = previous ?? parseStoredStats(record['stats']);
    const resumeReason = reason === 'handoff' ? 'handoff' : reason === 'recovered' ? 'lease_recovered' : 'takeover';
    const refusal = supervisor.startStream(payload, {
      ...(carried === undefined ? {} : { resume: { previous: carried, reason: resumeReason } }),
      excluded: claim.excluded,
    });
    if (refusal !== undefined) {
      leases.forget(id);
      await leases.release(lease, 'refused');
      logger.warn({ rtmsStreamId: id, refusal }, 'claimed stream refused locally; released for another replica');
      return;
    }
    this.#options.acquired(id, reason, claim.orphanedMs);
    logger.info({ rtmsStreamId: id, reason, token: lease.token, orphanedMs: claim.orphanedMs, resumed: carried !== undefined }, 'stream lease acquired');
  }
}
