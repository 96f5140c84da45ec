import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { StreamLifecycle, type StreamLifecycleEntry } from '../../../src/supervisor/streamLifecycle.ts';
import type { SupervisorEvents } from '../../../src/supervisor/supervisor.ts';
import type { StreamStats } from '../../../src/vocabulary/streamStats.ts';

/** The supervisor's event surface, driven by hand. */
class SupervisorEvents_ extends EventEmitter<SupervisorEvents> {
  readonly streams = new Map<string, Partial<StreamStats>>();
  get(id: string): StreamStats | undefined {
    return this.streams.get(id) as StreamStats | undefined;
  }
  list(): StreamStats[] {
    return [...this.streams.values()] as StreamStats[];
  }
}

function rig(): { supervisor: SupervisorEvents_; entries: StreamLifecycleEntry[]; lifecycle: StreamLifecycle } {
  const supervisor = new SupervisorEvents_();
  const lifecycle = new StreamLifecycle(supervisor, () => 1000);
  const entries: StreamLifecycleEntry[] = [];
  lifecycle.on('entry', (entry) => entries.push(entry));
  return { supervisor, entries, lifecycle };
}

describe('StreamLifecycle', () => {
  it('maps state changes to started / ended / failed / rejected; intermediate states are not announced', () => {
    const { supervisor, entries } = rig();
    supervisor.streams.set('a', { rtmsStreamId: 'a', product: 'meeting', entityId: 'uuid-a', state: 'idle', createdAt: 1 });
    const state = (from: SupervisorEvents['streamState'][0]['from'], to: SupervisorEvents['streamState'][0]['to'], reason: string | undefined): void =>
      void supervisor.emit('streamState', { rtmsStreamId: 'a', product: 'meeting', from, to, reason });
    state(undefined, 'idle', 'admitted');
    state('idle', 'connecting', undefined);
    state('connecting', 'live', undefined);
    state('live', 'ended', 'HOST_ENDED');
    state(undefined, 'rejected', 'max_streams');
    state('live', 'failed', 'handshake rejected');
    expect(entries).toEqual([
      { event: 'started', rtmsStreamId: 'a', product: 'meeting', entityId: 'uuid-a', reason: 'admitted', at: 1000 },
      { event: 'ended', rtmsStreamId: 'a', product: 'meeting', entityId: 'uuid-a', reason: 'HOST_ENDED', at: 1000 },
      { event: 'rejected', rtmsStreamId: 'a', product: 'meeting', entityId: 'uuid-a', reason: 'max_streams', at: 1000 },
      { event: 'failed', rtmsStreamId: 'a', product: 'meeting', entityId: 'uuid-a', reason: 'handshake rejected', at: 1000 },
    ]);
  });

  it('a hand-off is moved here and resumed on the peer, not ended and started', () => {
    const { supervisor, entries } = rig();
    supervisor.emit('streamState', { rtmsStreamId: 'b', product: 'meeting', from: 'live', to: 'ended', reason: 'handed_off' });
    supervisor.emit('streamState', { rtmsStreamId: 'c', product: 'meeting', from: 'live', to: 'ended', reason: 'lease_lost' });
    supervisor.emit('streamState', { rtmsStreamId: 'b', product: 'meeting', from: undefined, to: 'idle', reason: 'takeover' });
    expect(entries.map((entry) => [entry.rtmsStreamId, entry.event])).toEqual([
      ['b', 'moved'],
      ['c', 'moved'],
      ['b', 'resumed'],
    ]);
  });

  it('active() lists the streams running now as started', () => {
    const { supervisor, lifecycle } = rig();
    supervisor.streams.set('a', { rtmsStreamId: 'a', product: 'meeting', entityId: 'uuid-a', state: 'live', createdAt: 5, endedAt: undefined });
    supervisor.streams.set('z', { rtmsStreamId: 'z', product: 'meeting', entityId: 'uuid-z', state: 'ended', createdAt: 6, endedAt: 9 });
    expect(lifecycle.active()).toEqual([{ event: 'started', rtmsStreamId: 'a', product: 'meeting', entityId: 'uuid-a', reason: undefined, at: 5 }]);
  });
});
