import { describe, expect, it } from 'vitest';
import type { StoredStream } from '../../../src/cluster/streamRegistry.ts';
import { getClusterStream, listClusterStreams, storedStats } from '../../../src/cluster/streamView.ts';
import type { StreamStart } from '../../../src/rtms/products.ts';
import { initialStreamStats, type StreamStats } from '../../../src/vocabulary/streamStats.ts';

const start = (id: string): StreamStart => ({
  product: 'meeting',
  rtmsStreamId: id,
  entityIdKey: 'meeting_uuid',
  entityId: 'm',
  serverUrls: 'x',
  signalingUrl: 'x',
  eventTs: 1,
});
const stored = (id: string, fields: Partial<StoredStream> = {}): StoredStream => ({ rtmsStreamId: id, start: start(id), ...fields }) as StoredStream;

function sources(local: StreamStats[], remote: StoredStream[] | 'down') {
  const warnings: string[] = [];
  return {
    warnings,
    sources: {
      supervisor: {
        list: () => local,
        has: (id: string) => local.some((stats) => stats.rtmsStreamId === id),
        get: (id: string) => local.find((stats) => stats.rtmsStreamId === id),
      },
      registry: {
        list: async () => {
          if (remote === 'down') throw new Error('down');
          return remote;
        },
        get: async (id: string) => (remote === 'down' ? undefined : remote.find((stream) => stream.rtmsStreamId === id)),
      },
      warn: (message: string) => void warnings.push(message),
    },
  };
}

describe('streamView', () => {
  it("lists this replica's streams in full and the others' from Redis, each once", async () => {
    const here = initialStreamStats(start('a'), 'live', 1);
    const { sources: view } = sources([here], [stored('a'), stored('b', { owner: 'peer', state: 'live' })]);
    const list = await listClusterStreams(view);
    expect(list.map((stats) => [stats.rtmsStreamId, stats.state])).toEqual([
      ['a', 'live'],
      ['b', 'live'],
    ]);
    expect(await getClusterStream(view, 'b')).toMatchObject({ rtmsStreamId: 'b', state: 'live' });
  });

  it('Redis down: this replica only, and a warning', async () => {
    const here = initialStreamStats(start('a'), 'live', 1);
    const { sources: view, warnings } = sources([here], 'down');
    expect((await listClusterStreams(view)).map((stats) => stats.rtmsStreamId)).toEqual(['a']);
    expect(warnings).toHaveLength(1);
  });

  it('a stream without an owner waits: idle if it never went live, waitingReconnect if it did', () => {
    expect(storedStats(stored('x'))?.state).toBe('idle');
    const wasLive = { ...initialStreamStats(start('y'), 'live', 1), liveAt: 2 };
    expect(storedStats(stored('y', { stats: wasLive }))?.state).toBe('waitingReconnect');
    expect(storedStats({ rtmsStreamId: 'z' } as StoredStream)).toBeUndefined();
  });
});
