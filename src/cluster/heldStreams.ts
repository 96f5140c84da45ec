import type { Logger } from '../logger.ts';
import type { StreamStart } from '../rtms/products.ts';
import type { StreamStats } from '../vocabulary/streamStats.ts';
import { type ClusterCommandBody, commandStreamId } from './clusterCommand.ts';
import type { KeyedQueue } from './keyedQueue.ts';
import type { ClaimOutcome, HeldLease, StreamLeases } from './streamLeases.ts';
import { type StreamRegistry, parseStoredStart } from './streamRegistry.ts';

/**
 * What a replica keeps while Redis is unreachable, and retries on each scan once it is back:
 * new streams it could not announce (`pending`), streams it stopped when their lease
 * deadline passed (`suspended`, claimed back if nobody else took them), and finished streams
 * whose record it could not delete (`unfinished`). A held stream is given up after Zoom's
 * reconnect window (`RTMS_RECONNECT_WINDOW_MS`): Zoom has ended it by then.
 */

export interface SuspendedStream {
  start: StreamStart;
  readonly stats: StreamStats | undefined;
  readonly excluded: string[];
  /** When it was stopped here, ms epoch. */
  readonly since: number;
}

export type ClaimedOutcome = Extract<ClaimOutcome, { status: 'claimed' }>;

export interface HeldStreamsOptions {
  readonly reconnectWindowMs: number;
  readonly registry: Pick<StreamRegistry, 'announce' | 'finish' | 'removeOrphan'>;
  readonly leases: Pick<StreamLeases, 'claim'>;
  readonly lanes: KeyedQueue;
  readonly logger: Logger;
  /** Streams this replica could claim now. */
  readonly free: () => number;
  /** Counts a claim in flight against the free capacity until the returned function is called. */
  readonly reserve: () => () => void;
  /** Announces a new stream again, as its `rtms_started` did. */
  readonly announce: (start: StreamStart) => Promise<void>;
  /** Starts a suspended stream this replica claimed back. */
  readonly recovered: (claim: ClaimedOutcome, start: StreamStart, stats: StreamStats | undefined) => Promise<void>;
  readonly exclude: (rtmsStreamId: string, userId: string) => void;
  readonly warn: (message: string, rtmsStreamId: string | undefined, error: unknown) => void;
}

export class HeldStreams {
  readonly #options: HeldStreamsOptions;
  /** Streams stopped because the lease deadline passed with Redis unreachable: claimed again when it is back. */
  readonly #suspended = new Map<string, SuspendedStream>();
  /** New streams announced while Redis was unreachable: announced again when it is back. */
  readonly #pending = new Map<string, { start: StreamStart; since: number }>();
  /** Finished streams whose record could not be deleted yet. */
  readonly #unfinished = new Map<string, HeldLease>();

  constructor(options: HeldStreamsOptions) {
    this.#options = options;
  }

  isSuspended(rtmsStreamId: string): boolean {
    return this.#suspended.has(rtmsStreamId);
  }

  /** An `rtms_started` for a suspended stream: the newest payload is the one it is claimed back with. True if suspended. */
  startedWhileSuspended(start: StreamStart): boolean {
    const suspended = this.#suspended.get(start.rtmsStreamId);
    if (suspended === undefined) return false;
    if (start.eventTs >= suspended.start.eventTs) suspended.start = start;
    return true;
  }

  /** A new stream Redis could not take: announced again on the next scan. */
  pend(start: StreamStart): void {
    const id = start.rtmsStreamId;
    this.#pending.set(id, { start, since: this.#pending.get(id)?.since ?? Date.now() });
  }

  /** The stream was announced. */
  announced(rtmsStreamId: string): void {
    this.#pending.delete(rtmsStreamId);
  }

  suspend(rtmsStreamId: string, stream: Omit<SuspendedStream, 'since'>): void {
    this.#suspended.set(rtmsStreamId, { ...stream, since: Date.now() });
  }

  /** A finished stream whose record is still to be deleted. */
  unfinished(rtmsStreamId: string, lease: HeldLease): void {
    this.#unfinished.set(rtmsStreamId, lease);
  }

  /** A stop or close for a stream held here without a lease (suspended, pending) ends it; true if held. */
  command(body: ClusterCommandBody): boolean {
    const id = commandStreamId(body);
    const held = this.#suspended.has(id) || this.#pending.has(id);
    if (body.type === 'stop' || body.type === 'close') {
      this.#suspended.delete(id);
      this.#pending.delete(id);
    } else if (body.type === 'exclude') {
      this.#suspended.get(id)?.excluded.push(body.userId);
    }
    return held;
  }

  async retryUnfinished(): Promise<void> {
    const { registry } = this.#options;
    for (const [id, lease] of [...this.#unfinished]) {
      this.#unfinished.delete(id);
      if (!(await registry.finish(lease))) await registry.removeOrphan(id);
    }
  }

  /** Announces held new streams again and claims suspended ones back; gives up after Zoom's grace. */
  retryHeld(): void {
    const { lanes, logger, warn } = this.#options;
    const now = Date.now();
    const window = this.#options.reconnectWindowMs;
    for (const [id, { start, since }] of [...this.#pending]) {
      this.#pending.delete(id);
      if (now - since > window) {
        logger.warn({ rtmsStreamId: id }, 'stream announced while Redis was unreachable and not claimed in time; dropped');
        continue;
      }
      this.#pending.set(id, { start, since });
      void lanes.run(id, () => this.#options.announce(start)).catch((error: unknown) => warn('held stream not announced', id, error));
    }
    for (const [id, suspended] of [...this.#suspended]) {
      if (now - suspended.since > window) {
        this.#suspended.delete(id);
        logger.warn({ rtmsStreamId: id }, 'suspended stream not recovered within the reconnect window; dropped');
        continue;
      }
      void lanes.run(id, () => this.#recover(id)).catch((error: unknown) => warn('suspended stream not recovered', id, error));
    }
  }

  /** Claims back a stream this replica stopped when its lease deadline passed, if nobody else took it. */
  async #recover(rtmsStreamId: string): Promise<void> {
    const { registry, leases, logger } = this.#options;
    const suspended = this.#suspended.get(rtmsStreamId);
    if (suspended === undefined || this.#options.free() <= 0) return;
    const release = this.#options.reserve();
    let outcome: ClaimOutcome | undefined;
    try {
      // Announce first: Redis may have lost the record (restart without persistence).
      const announced = await registry.announce(suspended.start, { claim: true });
      outcome = announced.status === 'stale' ? await leases.claim(rtmsStreamId) : announced.claim;
    } finally {
      release();
    }
    if (outcome === undefined) return;
    this.#suspended.delete(rtmsStreamId);
    if (outcome.status !== 'claimed') {
      logger.info({ rtmsStreamId, outcome: outcome.status }, 'suspended stream is owned elsewhere now; dropped here');
      return;
    }
    const stored = parseStoredStart(outcome.record['start']) ?? suspended.start;
    await this.#options.recovered(outcome, stored.eventTs >= suspended.start.eventTs ? stored : suspended.start, suspended.stats);
    // Exclusions made while the stream was suspended and Redis did not have them.
    for (const userId of suspended.excluded) if (!outcome.excluded.includes(userId)) this.#options.exclude(rtmsStreamId, userId);
  }
}
