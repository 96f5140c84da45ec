/**
 * Which orphans (streams without a live lease) this replica should claim. Every replica runs
 * the same deterministic plan on the same inputs, so the streams of a dead replica are
 * spread over the survivors by free capacity in one scan instead of all going to whichever
 * scans first:
 *
 *   orphans sorted by id; each goes to the replica with the most room left (ties: lowest
 *   id), whose room then shrinks by one.
 *
 * Replicas see slightly different snapshots (heartbeats lag), so this only decides who tries
 * first; the lease claim (SET NX) arbitrates. An orphan still unclaimed after
 * `fallbackAfterMs` in this replica's view is claimed by anyone with room.
 */

export interface PlanReplica {
  readonly replicaId: string;
  readonly free: number;
}

export interface TakeoverPlanInput {
  /** Orphan stream ids. */
  readonly orphans: readonly string[];
  /** Live replicas (this one included) and their free capacity. */
  readonly replicas: readonly PlanReplica[];
  readonly self: string;
  /** This replica's free capacity right now (authoritative over its heartbeat). */
  readonly selfFree: number;
  /** How long each orphan has been seen without an owner by this replica, ms. */
  readonly seenForMs: (rtmsStreamId: string) => number;
  readonly fallbackAfterMs: number;
}

/** Orphan ids this replica should claim, in order; never more than `selfFree`. */
export function planTakeovers(input: TakeoverPlanInput): string[] {
  if (input.selfFree <= 0 || input.orphans.length === 0) return [];
  const room = new Map<string, number>();
  for (const replica of input.replicas) if (replica.replicaId !== input.self) room.set(replica.replicaId, Math.max(0, replica.free));
  room.set(input.self, input.selfFree);
  const byRoom = (): string | undefined => {
    let best: string | undefined;
    let bestRoom = 0;
    for (const [replicaId, free] of room) {
      if (free > bestRoom || (free === bestRoom && free > 0 && best !== undefined && replicaId < best)) {
        best = replicaId;
        bestRoom = free;
      }
    }
    return best;
  };
  const mine: string[] = [];
  const others: string[] = [];
  for (const id of [...input.orphans].sort()) {
    const target = byRoom();
    if (target === undefined) {
      others.push(id);
      continue;
    }
    room.set(target, (room.get(target) ?? 1) - 1);
    if (target === input.self) mine.push(id);
    else others.push(id);
  }
  for (const id of others) {
    if (mine.length >= input.selfFree) break;
    if (input.seenForMs(id) >= input.fallbackAfterMs) mine.push(id);
  }
  return mine.slice(0, input.selfFree);
}
