import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { inspectStreamOutput } from '../../support/streamOutputReport.ts';
import { readWavData } from '../../support/wavReader.ts';
import type { MediaCounters } from '../../../src/vocabulary/streamStats.ts';
import { readJsonLines } from '../connectorHarness.ts';
import { ClusterRig, connectionsOf, untilAudio } from './clusterRig.ts';
import { eventually } from '../../support/eventually.ts';

/** 16 kHz mono 16-bit: bytes per ms of audio. */
const BYTES_PER_MS = 32;

/**
 * The final stream.json of `dir` accounts for every frame (received = written + Σ dropped, per
 * kind) and its audio `bytesWritten` is the WAV data the directory holds.
 */
async function expectAccountingWhole(dir: string): Promise<Record<string, MediaCounters>> {
  const streamJson = JSON.parse(await readFile(join(dir, 'stream.json'), 'utf8')) as { media: Record<string, MediaCounters> };
  for (const [kind, counters] of Object.entries(streamJson.media)) {
    const dropped = Object.values(counters.framesDropped).reduce((sum, count) => sum + count, 0);
    expect({ kind, received: counters.framesReceived }).toEqual({ kind, received: counters.framesWritten + dropped });
  }
  let wavData = 0;
  for (const name of await readdir(dir)) if (name.endsWith('.wav')) wavData += (await readWavData(join(dir, name))).data.length;
  expect(streamJson.media['audio']?.bytesWritten).toBe(wavData);
  return streamJson.media;
}

describe('multi-replica: accounting across a takeover', () => {
  it('what the killed replica received after its last report is counted as replica_lost; bytesWritten is what the shared volume holds', async () => {
    const rig = await ClusterRig.start({ replicas: 2, sharedOutputDir: true, env: { CLUSTER_LEASE_TTL_MS: '3000' } });
    try {
      const stream = await rig.startStreamOn(0);
      expect(await rig.waitForOwner(stream.rtmsStreamId)).toBe(0);
      await untilAudio(stream, 3 * 1000 * BYTES_PER_MS);
      await rig.stopReplica(0, 'SIGKILL');
      await stream.whenReady(2);
      expect(await rig.waitForOwner(stream.rtmsStreamId, (index) => index !== 0)).toBe(1);
      await untilAudio(stream, stream.sent.audioBytes() + 2 * 1000 * BYTES_PER_MS);
      await stream.stop();
      const ended = await rig.replica(1).waitForStream(stream.rtmsStreamId, (snapshot) => snapshot['active'] === false);
      expect(ended).toMatchObject({ state: 'ended', rejoins: { 'full/takeover': 1 } });
      expect(connectionsOf(stream)).toEqual({ accepted: 2, duplicates: 0 });

      const dir = rig.streamDir(1, stream);
      // The killed replica's remainder included; bytesWritten is what both replicas' files hold on the shared volume.
      const media = await expectAccountingWhole(dir);
      expect(media['transcript']?.bytesWritten ?? 0).toBe((await stat(join(dir, 'transcript.jsonl')).catch(() => ({ size: 0 }))).size);

      const events = await readJsonLines(join(dir, 'events.jsonl'));
      const gaps = events
        .filter((event) => event['eventType'] === 'media.gap')
        .map((event) => event['data'] as { kind: string; reason: string; frames: number })
        .filter((gap) => gap.reason === 'replica_lost');
      expect(gaps.map((gap) => gap.kind)).toContain('audio');
      for (const gap of gaps) expect(gap.frames).toBe(media[gap.kind]?.framesDropped['replica_lost'] ?? 0);
      process.stdout.write(`[cluster] takeover: replica_lost ${JSON.stringify(Object.fromEntries(gaps.map((gap) => [gap.kind, gap.frames])))}\n`);
      const report = await inspectStreamOutput(dir, { probe: true });
      expect(report.problems).toEqual([]);
    } finally {
      await rig.close();
    }
  }, 90_000);

  it('a worker crash on a replica resumes each orphan once after its lease check; accounting whole', async () => {
    // Replica 0 runs two workers and worker 1 crashes while it holds two of the four streams.
    const rig = await ClusterRig.start({
      replicas: 2,
      replicaEnv: (index): Record<string, string> => (index === 0 ? { WORKER_THREADS: '2', DEBUG_WORKER_CRASH: '1:3000', MAX_STREAMS: '8' } : {}),
    });
    try {
      rig.route = ({ event }) => (event.endsWith('rtms_started') ? 0 : undefined);
      const streams = await Promise.all(Array.from({ length: 4 }, () => rig.simulator.startStream({ product: 'meeting' })));
      await Promise.all(streams.map((stream) => stream.whenReady()));
      rig.route = () => undefined;
      for (const stream of streams) expect(await rig.waitForOwner(stream.rtmsStreamId)).toBe(0);
      await eventually(() => streams.filter((stream) => stream.readyCount >= 2).length >= 2, { what: 'two streams resumed' });
      const resumed = streams.filter((stream) => stream.readyCount >= 2);
      await Promise.all(resumed.map((stream) => untilAudio(stream, stream.sent.audioBytes() + 1000 * BYTES_PER_MS)));
      await Promise.all(streams.map((stream) => stream.stop()));
      for (const stream of streams) {
        expect(await rig.replica(0).waitForStream(stream.rtmsStreamId, (snapshot) => snapshot['active'] === false)).toMatchObject({ state: 'ended' });
        // Still on replica 0 (the lease check confirmed it), one signaling connection at a time.
        expect(connectionsOf(stream)).toEqual({ accepted: resumed.includes(stream) ? 2 : 1, duplicates: 0 });
        const dir = rig.streamDir(0, stream);
        await expectAccountingWhole(dir);
        expect((await inspectStreamOutput(dir, { probe: true })).problems).toEqual([]);
      }
    } finally {
      await rig.close();
    }
  }, 90_000);
});
