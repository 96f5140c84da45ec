import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readWavData } from '../../support/wavReader.ts';
import type { SimulatedStream } from 'rtms-simulator';
import { ClusterRig, connectionsOf, untilAudio } from './clusterRig.ts';
import { eventually } from '../../support/eventually.ts';

const BYTES_PER_MS = 32;

/** Resolves with how long `condition` took to hold. */
async function until(condition: () => Promise<boolean>, timeoutMs: number, what: string): Promise<number> {
  const started = Date.now();
  await eventually(condition, { what, timeoutMs, intervalMs: 50 });
  return Date.now() - started;
}

/** Until replica `index` has logged a line with this message (the event it reports has happened). */
function untilLogged(rig: ClusterRig, index: number, message: string, count = 1): Promise<true> {
  return eventually(() => rig.replica(index).logLines.filter((line) => line.includes(`"msg":"${message}"`)).length >= count, {
    what: `replica ${index} to log "${message}" ${count} time(s)`,
    timeoutMs: 10_000,
  });
}

// Each test has its own Redis and replicas; the first spends most of its time waiting for a
// dead replica's lease to lapse (10 s): the two run side by side.
describe.concurrent('multi-replica: Redis restarting', () => {
  it('a quick restart (empty, no persistence): streams keep running, owners re-acquire their leases and restore the records', async () => {
    const rig = await ClusterRig.start({ replicas: 2 });
    try {
      const streams: SimulatedStream[] = [];
      for (const index of [0, 1]) streams.push(await rig.startStreamOn(index));
      expect(await Promise.all(streams.map((stream) => rig.waitForOwner(stream.rtmsStreamId)))).toEqual([0, 1]);
      await Promise.all(streams.map((stream) => untilAudio(stream, 1000 * BYTES_PER_MS)));

      await rig.redis.kill('SIGKILL');
      // Both replicas saw Redis go away before it comes back, empty.
      await Promise.all([0, 1].map((index) => untilLogged(rig, index, 'redis connection lost; retrying')));
      await rig.redis.restart();
      expect(await rig.keys()).toEqual([]);
      const recoveredMs = await until(
        async () => (await Promise.all(streams.map((stream) => rig.ownerOf(stream.rtmsStreamId)))).join() === '0,1',
        8000,
        'leases re-acquired',
      );
      process.stdout.write(`[cluster] Redis restart: leases re-acquired ${recoveredMs} ms after the restart\n`);
      await until(async () => (await rig.keys('stream:*')).length === 2 && (await rig.keys('replicas')).length === 1, 5000, 'records restored');

      // The streams never stopped: still their first and only connection.
      expect(streams.map(connectionsOf)).toEqual([
        { accepted: 1, duplicates: 0 },
        { accepted: 1, duplicates: 0 },
      ]);

      // The restored record is good enough for a takeover: kill replica 0, replica 1 resumes its stream.
      await rig.stopReplica(0, 'SIGKILL');
      await streams[0]!.whenReady(2);
      expect(await rig.waitForOwner(streams[0]!.rtmsStreamId)).toBe(1);
      await Promise.all(streams.map((stream) => stream.stop()));
      await rig.replica(1).waitForStream(streams[0]!.rtmsStreamId, (snapshot) => snapshot['active'] === false);
      expect(streams.map(connectionsOf)).toEqual([
        { accepted: 2, duplicates: 0 },
        { accepted: 1, duplicates: 0 },
      ]);
    } finally {
      await rig.close();
    }
  }, 90_000);

  it('Redis down longer than the lease TTL: each replica stops its streams (no connection without a lease) and resumes them when Redis is back', async () => {
    const rig = await ClusterRig.start({ replicas: 2, env: { CLUSTER_LEASE_TTL_MS: '3000' } });
    try {
      const streams: SimulatedStream[] = [];
      for (const index of [0, 1]) streams.push(await rig.startStreamOn(index));
      await Promise.all(streams.map((stream) => untilAudio(stream, 1000 * BYTES_PER_MS)));

      const downAt = Date.now();
      await rig.redis.kill('SIGKILL');
      // Within the TTL (minus the safety margin) of the last renewal, every stream is dropped.
      await until(async () => streams.every((stream) => stream.connections.interruptions >= 1), 6000, 'streams stopped');
      const stoppedMs = Date.now() - downAt;
      process.stdout.write(`[cluster] Redis down: streams stopped ${stoppedMs} ms after Redis died (lease TTL 3000 ms)\n`);
      expect(stoppedMs).toBeLessThan(3000);
      // Redis stays down until each replica has let its lease lapse on its own clock.
      await Promise.all([0, 1].map((index) => untilLogged(rig, index, 'lease not renewed in time (Redis unreachable); stopping the stream here')));

      const upAt = Date.now();
      await rig.redis.restart();
      await Promise.all(streams.map((stream) => stream.whenReady(2)));
      process.stdout.write(`[cluster] Redis back: streams resumed ${Date.now() - upAt} ms after the restart\n`);
      expect(await Promise.all(streams.map((stream) => rig.waitForOwner(stream.rtmsStreamId)))).toEqual([0, 1]);

      await Promise.all(streams.map((stream) => untilAudio(stream, stream.sent.audioBytes() + 1000 * BYTES_PER_MS)));
      await Promise.all(streams.map((stream) => stream.stop()));
      for (const [index, stream] of streams.entries()) {
        const snapshot = await rig.replica(index).waitForStream(stream.rtmsStreamId, (candidate) => candidate['active'] === false);
        expect(snapshot).toMatchObject({ state: 'ended', rejoins: { 'full/lease_recovered': 1 } });
        // The same replica continued its own directory; Zoom's buffer filled the outage.
        const dir = rig.streamDir(index, stream);
        expect((await readdir(dir)).filter((file) => file.endsWith('.wav')).sort()).toEqual(['audio.part2.wav', 'audio.wav']);
        const sent = stream.sent.audio('0');
        const first = (await readWavData(join(dir, 'audio.wav'))).data;
        const second = (await readWavData(join(dir, 'audio.part2.wav'))).data;
        expect(sent.subarray(0, first.length).equals(first)).toBe(true);
        expect(sent.subarray(sent.length - second.length).equals(second)).toBe(true);
        expect((sent.length - first.length - second.length) / BYTES_PER_MS).toBeLessThan(500);
      }
      expect(streams.map(connectionsOf)).toEqual([
        { accepted: 2, duplicates: 0 },
        { accepted: 2, duplicates: 0 },
      ]);
    } finally {
      await rig.close();
    }
  }, 90_000);
});
