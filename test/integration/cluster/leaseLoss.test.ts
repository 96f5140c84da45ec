import { describe, expect, it } from 'vitest';
import { ClusterRig, connectionsOf, untilAudio } from './clusterRig.ts';
import { eventually } from '../../support/eventually.ts';

describe('multi-replica: lease lost to another owner', () => {
  it('the replica stops the stream at its next renewal, without STREAM_CLOSE; after the foreign lease expires a replica resumes it', async () => {
    const rig = await ClusterRig.start({ replicas: 2, env: { CLUSTER_LEASE_TTL_MS: '3000' } });
    try {
      rig.route = ({ event }) => (event.endsWith('rtms_started') ? 0 : undefined);
      const stream = await rig.simulator.startStream({ product: 'meeting' });
      await stream.whenReady();
      expect(await rig.waitForOwner(stream.rtmsStreamId)).toBe(0);
      await untilAudio(stream, 32_000);
      rig.route = () => undefined;

      // Another owner appears in Redis (what a replica would see after Redis lost its key and a peer claimed it).
      const client = await rig.redis.client();
      const takenAt = Date.now();
      await client.set(`${rig.keyPrefix}lease:${stream.rtmsStreamId}`, 'ghost-replica|999', { expiration: { type: 'PX', value: 3000 } });
      await client.close();
      // Within the foreign lease's 3 s, or the check below says how late it was.
      await eventually(() => stream.connections.interruptions > 0, {
        what: 'the stream stopped after its lease was taken',
        timeoutMs: 3000,
        intervalMs: 20,
      }).catch(() => undefined);
      const stoppedMs = Date.now() - takenAt;
      process.stdout.write(`[cluster] lease taken: stream stopped ${stoppedMs} ms later (renewal every 1000 ms)\n`);
      expect(stream.connections.interruptions).toBe(1);
      // Safety bound, not speed: stopped before the foreign lease (3 s) could let its owner connect.
      expect(stoppedMs).toBeLessThan(3000);
      expect(stream.end).toBeUndefined();

      // The foreign lease expires; the stream is an orphan and is resumed (no second connection ever).
      await stream.whenReady(2);
      await rig.waitForOwner(stream.rtmsStreamId);
      await stream.stop();
      expect(connectionsOf(stream)).toEqual({ accepted: 2, duplicates: 0 });
    } finally {
      await rig.close();
    }
  }, 60_000);
});
