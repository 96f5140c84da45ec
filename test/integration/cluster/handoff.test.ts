import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { createClient } from 'redis';
import { describe, expect, it } from 'vitest';
import { inspectStreamOutput } from '../../support/streamOutputReport.ts';
import { readWavData } from '../../support/wavReader.ts';
import { readJsonLines } from '../connectorHarness.ts';
import { ClusterRig, connectionsOf, untilAudio } from './clusterRig.ts';
import { eventually } from '../../support/eventually.ts';

const BYTES_PER_MS = 32;

describe('multi-replica: SIGTERM hand-off', () => {
  it('hands every stream to a peer before exiting: no STREAM_CLOSE, one connection at a time, output continued', async () => {
    // A shared OUTPUT_DIR (one volume for all replicas): the peer continues each stream's directory.
    const rig = await ClusterRig.start({ replicas: 2, sharedOutputDir: true });
    try {
      rig.route = ({ event }) => (event.endsWith('rtms_started') ? 0 : undefined);
      const streams = await Promise.all([rig.simulator.startStream({ product: 'meeting' }), rig.simulator.startStream({ product: 'session' })]);
      await Promise.all(streams.map((stream) => stream.whenReady()));
      expect(await Promise.all(streams.map((stream) => rig.waitForOwner(stream.rtmsStreamId)))).toEqual([0, 0]);
      await Promise.all(streams.map((stream) => untilAudio(stream, 2 * 1000 * BYTES_PER_MS)));
      rig.route = () => undefined;

      const termAt = Date.now();
      const exited = rig.stopReplica(0, 'SIGTERM');
      await Promise.all(streams.map((stream) => stream.whenReady(2)));
      const gapMs = Date.now() - termAt;
      expect(await exited).toBe(0);
      process.stdout.write(`[cluster] SIGTERM hand-off: both streams rejoined on the peer ${gapMs} ms after SIGTERM\n`);
      // Within Zoom's 60 s grace (the time itself is measured in bench/clusterTakeover.ts).
      expect(gapMs).toBeLessThan(60_000);
      expect(await Promise.all(streams.map((stream) => rig.waitForOwner(stream.rtmsStreamId)))).toEqual([1, 1]);
      // Zoom was never asked to close them.
      for (const stream of streams) expect(stream.end).toBeUndefined();

      await Promise.all(streams.map((stream) => untilAudio(stream, stream.sent.audioBytes() + 2 * 1000 * BYTES_PER_MS)));
      const redis = createClient({ url: rig.redis.url });
      await redis.connect();
      // Whatever TTL the releasing replica gave the Redis output, the peer that resumed it took away.
      for (const stream of streams) expect(await redis.ttl(`rtms:${stream.rtmsStreamId}:events`)).toBe(-1);
      await Promise.all(streams.map((stream) => stream.stop()));
      for (const stream of streams) {
        const snapshot = await rig.replica(1).waitForStream(stream.rtmsStreamId, (candidate) => candidate['active'] === false);
        expect(snapshot).toMatchObject({ state: 'ended', rejoins: { 'full/handoff': 1 } });
      }
      const lifecycle = ((await redis.xRange('rtms:streams', '-', '+')) ?? []).map((entry) => entry?.message ?? {});
      for (const stream of streams) {
        // For consumers the stream moved, it did not end and start again.
        expect(lifecycle.filter((entry) => entry['rtmsStreamId'] === stream.rtmsStreamId).map((entry) => entry['event'])).toEqual([
          'started',
          'moved',
          'resumed',
          'ended',
        ]);
        // Ended for good now: the keys get their TTL (issued just before the stream is reported finished).
        await eventually(async () => (await redis.ttl(`rtms:${stream.rtmsStreamId}:events`)) > 0, {
          what: `a TTL on rtms:${stream.rtmsStreamId}:events`,
          timeoutMs: 10_000,
        });
      }
      await redis.close();
      expect(streams.map(connectionsOf)).toEqual([
        { accepted: 2, duplicates: 0 },
        { accepted: 2, duplicates: 0 },
      ]);

      for (const stream of streams) {
        const dir = rig.streamDir(1, stream);
        expect((await readdir(dir)).filter((file) => file.endsWith('.wav')).sort()).toEqual(['audio.part2.wav', 'audio.wav']);
        const report = await inspectStreamOutput(dir, { probe: true });
        expect(report.problems).toEqual([]);
        expect(report.state).toBe('ended');
        const sent = stream.sent.audio('0');
        const first = (await readWavData(join(dir, 'audio.wav'))).data;
        const second = (await readWavData(join(dir, 'audio.part2.wav'))).data;
        expect(sent.subarray(0, first.length).equals(first)).toBe(true);
        expect(sent.subarray(sent.length - second.length).equals(second)).toBe(true);
        const missing = sent.length - first.length - second.length;
        expect(missing).toBeGreaterThanOrEqual(0);
        process.stdout.write(`[cluster] SIGTERM hand-off: ${Math.round(missing / BYTES_PER_MS)} ms of audio missing for ${stream.product}\n`);
        // What was in the released sockets' buffers when they closed; Zoom redelivers the rest.
        expect(missing / BYTES_PER_MS).toBeLessThan(500);
        const events = (await readJsonLines(join(dir, 'events.jsonl'))).map((event) => ({
          type: event['eventType'],
          data: event['data'] as Record<string, unknown>,
        }));
        expect(events.find((event) => event.type === 'stream.ended')?.data).toMatchObject({ reason: 'handed_off' });
        expect(events.find((event) => event.type === 'stream.resumed')?.data).toMatchObject({ reason: 'handoff' });
        expect(events.at(-1)?.type).toBe('stream.ended');
      }
      expect((await rig.keys()).filter((key) => /:(lease|stream|fence|excluded):/.test(key))).toEqual([]);
      // The replica that left is gone from the registry and its command stream deleted.
      expect((await rig.keys()).filter((key) => key.includes(rig.slots[0]!.replicaId))).toEqual([]);
    } finally {
      await rig.close();
    }
  }, 90_000);
});
