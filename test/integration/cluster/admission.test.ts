import { describe, expect, it } from 'vitest';
import type { SimulatedStream } from 'rtms-simulator';
import { ClusterRig, connectionsOf } from './clusterRig.ts';
import { eventually } from '../../support/eventually.ts';

describe('multi-replica: admission', () => {
  it('a full replica leaves a new stream to one with room; with no room anywhere the stream waits, and is claimed when a slot frees', async () => {
    // Replica 0 holds one stream at most, replica 1 two; every rtms_started reaches replica 0.
    const rig = await ClusterRig.start({ replicas: 2, replicaEnv: (index) => ({ MAX_STREAMS: index === 0 ? '1' : '2' }) });
    try {
      rig.route = ({ event }) => (event.endsWith('rtms_started') ? 0 : undefined);
      const start = async (): Promise<{ stream: SimulatedStream; readyMs: number }> => {
        const announcedAt = Date.now();
        const stream = await rig.simulator.startStream({ product: 'meeting' });
        await stream.whenReady();
        return { stream, readyMs: Date.now() - announcedAt };
      };

      const a = await start();
      expect(await rig.waitForOwner(a.stream.rtmsStreamId)).toBe(0);
      const b = await start();
      const c = await start();
      expect(await rig.waitForOwner(b.stream.rtmsStreamId)).toBe(1);
      expect(await rig.waitForOwner(c.stream.rtmsStreamId)).toBe(1);
      process.stdout.write(`[cluster] full replica: stream joined by the replica with room ${b.readyMs} ms / ${c.readyMs} ms after the webhook\n`);

      // No room anywhere: the stream is accepted (200), stored, listed as waiting, not rejected.
      const d = await rig.simulator.startStream({ product: 'webinar' });
      expect(d.webhooks[0]).toMatchObject({ status: 200 });
      // The replica that got the webhook has decided: no room here, left for a replica with room.
      await eventually(
        () =>
          [0, 1].some((index) =>
            rig
              .replica(index)
              .logLines.some((line) => line.includes('"msg":"no room here; stream left for a replica with room"') && line.includes(d.rtmsStreamId)),
          ),
        { what: `a replica to leave ${d.rtmsStreamId} for lack of room` },
      );
      expect(d.readyCount).toBe(0);
      expect(await rig.ownerOf(d.rtmsStreamId)).toBeUndefined();
      const waiting = await rig.replica(1).admin(`/streams/${d.rtmsStreamId}`);
      expect(waiting.body['stream']).toMatchObject({ rtmsStreamId: d.rtmsStreamId, state: 'idle' });

      // A slot frees on replica 0: it claims the waiting stream in its next scan.
      const freedAt = Date.now();
      await a.stream.stop();
      await d.whenReady();
      process.stdout.write(`[cluster] waiting stream joined ${Date.now() - freedAt} ms after a slot freed\n`);
      expect(await rig.waitForOwner(d.rtmsStreamId)).toBe(0);

      for (const stream of [b.stream, c.stream, d]) await stream.stop();
      expect([a.stream, b.stream, c.stream, d].map(connectionsOf)).toEqual(Array.from({ length: 4 }, () => ({ accepted: 1, duplicates: 0 })));
      const metrics = await (await fetch(`${rig.replica(1).baseUrl}/metrics`)).text();
      expect(metrics).toMatch(/^rtms_stream_capacity 2$/m);
    } finally {
      await rig.close();
    }
  }, 90_000);
});
