import { EventEmitter } from 'node:events';
import type { StreamStart } from '../rtms/products.ts';
import type { StreamStats } from '../vocabulary/streamStats.ts';
import type { SupervisorEvents } from './supervisor.ts';

/** What the lifecycle needs from the supervisor. */
export interface LifecycleSource {
  get(rtmsStreamId: string): StreamStats | undefined;
  list(): readonly StreamStats[];
  on(event: 'streamState', listener: (change: SupervisorEvents['streamState'][0]) => void): unknown;
}

/**
 * Streams as they start and end on this instance, for consumers that discover streams
 * instead of polling `GET /streams`: the Redis stream `rtms:streams`
 * (sinks/redisLifecycleLog.ts) and the WebSocket feed `GET /streams/live`
 * (http/lifecycleHub.ts). Built from the supervisor's state changes.
 *
 * - `started`: admitted here (Zoom's `*.rtms_started`);
 * - `resumed`: continued here after another replica let it go (multi-replica hand-off);
 * - `moved`: let go here, it continues on another replica (a `resumed` follows there);
 * - `ended`, `failed`: finished for good; its output is complete;
 * - `rejected`: refused at admission (`MAX_STREAMS`, shutting down).
 */
export const LIFECYCLE_EVENTS = ['started', 'resumed', 'moved', 'ended', 'failed', 'rejected'] as const;
export type LifecycleEventName = (typeof LIFECYCLE_EVENTS)[number];

export interface StreamLifecycleEntry {
  readonly event: LifecycleEventName;
  readonly rtmsStreamId: string;
  readonly product: StreamStart['product'];
  /** Meeting uuid, session id or engagement id (`entityIdKey` names which). */
  readonly entityId: string | undefined;
  /** Why: `admitted`, Zoom's stop reason name, the failure, the rejection or hand-off reason. */
  readonly reason: string | undefined;
  /** ms epoch. */
  readonly at: number;
}

/**
 * Reasons a stream is let go rather than finished (`Supervisor.release` callers in
 * cluster/clusterNode.ts: `handed_off`, `lease_<why>`).
 */
function isRelease(reason: string | undefined): boolean {
  return reason === 'handed_off' || reason?.startsWith('lease_') === true;
}

export class StreamLifecycle extends EventEmitter<{ entry: [StreamLifecycleEntry] }> {
  readonly #supervisor: LifecycleSource;

  constructor(supervisor: LifecycleSource, now: () => number = Date.now) {
    super();
    this.#supervisor = supervisor;
    supervisor.on('streamState', ({ rtmsStreamId, product, from, to, reason }) => {
      const event = lifecycleEventOf(from, to, reason);
      if (event === undefined) return;
      const stats: StreamStats | undefined = supervisor.get(rtmsStreamId);
      this.emit('entry', { event, rtmsStreamId, product, entityId: stats?.entityId, reason, at: now() });
    });
  }

  /** Streams active here now, as `started` entries (what a consumer that just connected missed). */
  active(): StreamLifecycleEntry[] {
    return this.#supervisor.list().flatMap((stats) =>
      stats.endedAt !== undefined || ['ended', 'failed', 'rejected'].includes(stats.state)
        ? []
        : [
            {
              event: 'started' as const,
              rtmsStreamId: stats.rtmsStreamId,
              product: stats.product,
              entityId: stats.entityId,
              reason: undefined,
              at: stats.createdAt,
            },
          ],
    );
  }
}

function lifecycleEventOf(from: string | undefined, to: string, reason: string | undefined): LifecycleEventName | undefined {
  if (from === undefined && to === 'idle') return reason === 'admitted' ? 'started' : 'resumed';
  if (to === 'rejected') return 'rejected';
  if (to === 'ended') return isRelease(reason) ? 'moved' : 'ended';
  if (to === 'failed') return 'failed';
  return undefined;
}
