import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readJsonLines } from '../connectorHarness.ts';
import { ClusterRig, connectionsOf, untilAudio } from './clusterRig.ts';

/**
 * Webhooks and admin calls that reach a replica other than the stream's owner: shared
 * dedup, commands through the owner's command stream, one connection per stream.
 */
describe('multi-replica: webhooks and admin calls on any replica', () => {
  it('deduplicates across replicas, hands lifecycle webhooks and admin calls to the owner, and lists the whole cluster', async () => {
    const rig = await ClusterRig.start({ replicas: 2 });
    try {
      // The same rtms_started delivered to both replicas at once (a retrying load balancer):
      // the shared dedup lets one through, so there is one connection.
      rig.route = ({ event, count }) => (event.endsWith('rtms_started') && count === 0 ? 'all' : undefined);
      const first = await rig.simulator.startStream({ product: 'meeting', participants: 3 });
      await first.whenReady();
      const owner = await rig.waitForOwner(first.rtmsStreamId);
      const other = 1 - owner;
      const startDeliveries = rig.deliveries.filter((delivery) => delivery.event.endsWith('rtms_started'));
      expect(startDeliveries.map((delivery) => delivery.status)).toEqual([200, 200]);

      // Zoom's retry of the same body, 5 min later in reality, now through the other replica: a duplicate.
      rig.route = () => other;
      const retry = await first.resendStart();
      expect(retry.status).toBe(200);
      expect(retry.body).toContain('duplicate');

      // A second stream lands on the other replica; GET /streams on either lists both.
      const second = await rig.simulator.startStream({ product: 'webinar' });
      await second.whenReady();
      expect(await rig.waitForOwner(second.rtmsStreamId)).toBe(other);
      for (const index of [0, 1]) {
        const { body } = await rig.replica(index).admin('/streams');
        const listed = (body['streams'] as Array<{ rtmsStreamId: string; state: string }>).map((stream) => stream.rtmsStreamId).sort();
        expect(listed).toEqual([first.rtmsStreamId, second.rtmsStreamId].sort());
      }
      const remote = await rig.replica(other).admin(`/streams/${first.rtmsStreamId}`);
      expect(remote.status).toBe(200);
      expect(remote.body['stream']).toMatchObject({ rtmsStreamId: first.rtmsStreamId, state: 'live' });

      // rtms_interrupted on the non-owner: the owner rejoins (one connection at a time).
      await untilAudio(first, 32_000);
      rig.route = () => other;
      await first.interrupt();
      await first.whenReady(2);
      expect(await rig.ownerOf(first.rtmsStreamId)).toBe(owner);

      // rtms_started again on the non-owner, for a stream that runs on the owner: forwarded as a
      // command; the owner ignores a re-announcement with the same server_urls and a stale one.
      // (A real failover with new server_urls takes the same path; it is not driven here because
      // the simulator's failover() makes the old server refuse the session's immediate rejoin
      // with a non-retryable status, a race the webhook can lose in single-instance mode too.)
      const received = rig.deliveries.length;
      expect((await first.announce()).status).toBe(200);
      expect((await first.sendStaleStart())?.status).toBe(200);
      expect(rig.deliveries.slice(received).map((delivery) => delivery.replica)).toEqual([other, other]);

      // Privacy opt-out through the non-owner: applied by the owner, kept in Redis for any later owner.
      const userId = String(first.participants[1]!.userId);
      const excluded = await rig.replica(other).admin(`/streams/${first.rtmsStreamId}/participants/${userId}`, 'DELETE');
      expect(excluded.status).toBe(202);
      const excludedSet = await rig.redis.client().then(async (client) => {
        const members = await client.sMembers(`${rig.keyPrefix}excluded:${first.rtmsStreamId}`);
        await client.close();
        return members;
      });
      expect(excludedSet).toEqual([userId]);

      // Admin close through the non-owner: the owner sends STREAM_CLOSE_REQ.
      const closed = await rig.replica(other).admin(`/streams/${first.rtmsStreamId}`, 'DELETE');
      expect(closed.status).toBe(202);
      expect(await first.whenEnded()).toMatchObject({ cause: 'closeRequest', stopReason: 20 });
      // Files are final once the owner reports the stream ended.
      await rig.replica(owner).waitForStream(first.rtmsStreamId, (snapshot) => snapshot['active'] === false);
      const events = await readJsonLines(join(rig.streamDir(owner, first), 'events.jsonl'));
      expect(
        events.filter((event) => event['eventType'] === 'stream.participant_excluded').map((event) => (event['data'] as { userId: string }).userId),
      ).toEqual([userId]);

      // rtms_stopped on the non-owner ends the second stream on its owner.
      rig.route = () => owner;
      await second.stop();
      await rig.replica(other).waitForStream(second.rtmsStreamId, (snapshot) => snapshot['active'] === false && snapshot['state'] === 'ended');

      expect([first, second].map(connectionsOf)).toEqual([
        { accepted: 2, duplicates: 0 },
        { accepted: 1, duplicates: 0 },
      ]);
      // Commands crossed replicas; the finished streams left nothing behind in Redis.
      expect((await rig.keys()).filter((key) => /:(lease|stream|fence|excluded):/.test(key))).toEqual([]);
      const unknown = await rig.replica(owner).admin('/streams/no-such-stream', 'DELETE');
      expect(unknown.status).toBe(404);
    } finally {
      await rig.close();
    }
  }, 90_000);
});
