import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { inspectStreamOutput } from '../../support/streamOutputReport.ts';
import { readWavData } from '../../support/wavReader.ts';
import { readJsonLines } from '../connectorHarness.ts';
import type { SimulatedStream } from 'rtms-simulator';
import { ClusterRig, connectionsOf, untilAudio } from './clusterRig.ts';

/** 16 kHz mono 16-bit: bytes per ms of audio. */
const BYTES_PER_MS = 32;

describe('multi-replica: SIGKILL of a stream owner', () => {
  it('a peer takes the stream over within 20 s with the default lease; one signaling connection at a time; output complete apart from the gap', async () => {
    // Three replicas with the default lease (10 s TTL, renewed every 3.3 s), one stream each.
    const rig = await ClusterRig.start({ replicas: 3 });
    try {
      const streams: SimulatedStream[] = [];
      for (const index of [0, 1, 2]) streams.push(await rig.startStreamOn(index));
      const owners = await Promise.all(streams.map((stream) => rig.waitForOwner(stream.rtmsStreamId)));
      expect(owners).toEqual([0, 1, 2]);

      // The cluster view: any replica lists all three streams.
      const listed = await rig.replica(2).admin('/streams');
      expect((listed.body['streams'] as Array<{ rtmsStreamId: string }>).map((stream) => stream.rtmsStreamId).sort()).toEqual(
        streams.map((stream) => stream.rtmsStreamId).sort(),
      );

      const victim = streams[0]!;
      await untilAudio(victim, 3 * 1000 * BYTES_PER_MS);
      const killedAt = Date.now();
      await rig.stopReplica(0, 'SIGKILL');
      await victim.whenReady(2);
      const takeoverMs = Date.now() - killedAt;
      const newOwner = await rig.waitForOwner(victim.rtmsStreamId, (index) => index !== 0);
      process.stdout.write(`[cluster] SIGKILL takeover: ${takeoverMs} ms from kill to the rejoin (replica ${newOwner})\n`);
      // Within Zoom's 60 s grace; the < 20 s target is measured in bench/clusterTakeover.ts.
      expect(takeoverMs).toBeLessThan(60_000);

      await untilAudio(victim, victim.sent.audioBytes() + 2 * 1000 * BYTES_PER_MS);
      await Promise.all(streams.map((stream) => stream.stop()));
      const survivor = rig.replica(newOwner);
      const ended = await survivor.waitForStream(victim.rtmsStreamId, (snapshot) => snapshot['active'] === false);
      expect(ended).toMatchObject({ state: 'ended', rejoins: { 'full/takeover': 1 } });

      // Never two signaling connections: the simulator refused none; the victim joined twice, the others once.
      expect(streams.map(connectionsOf)).toEqual([
        { accepted: 2, duplicates: 0 },
        { accepted: 1, duplicates: 0 },
        { accepted: 1, duplicates: 0 },
      ]);

      // Output: the dead replica's WAV is a valid prefix of what was sent, the taker's a valid
      // suffix; together all of it except the reported gap.
      const sent = victim.sent.audio('0');
      const before = (await readWavData(join(rig.streamDir(0, victim), 'audio.wav'))).data;
      const after = (await readWavData(join(rig.streamDir(newOwner, victim), 'audio.wav'))).data;
      expect(before.length).toBeGreaterThan(0);
      expect(after.length).toBeGreaterThan(0);
      expect(sent.subarray(0, before.length).equals(before)).toBe(true);
      expect(sent.subarray(sent.length - after.length).equals(after)).toBe(true);
      const missing = sent.length - before.length - after.length;
      expect(missing).toBeGreaterThanOrEqual(0);
      process.stdout.write(`[cluster] SIGKILL gap: ${Math.round(missing / BYTES_PER_MS)} ms of audio not written (unflushed on the killed replica)\n`);
      // At most what a killed process can lose: unflushed data (OUTPUT_FLUSH_INTERVAL_MS 200) plus what was in flight.
      expect(missing / BYTES_PER_MS).toBeLessThan(2000);
      const report = await inspectStreamOutput(rig.streamDir(newOwner, victim), { probe: true });
      expect(report.problems).toEqual([]);
      expect(report.state).toBe('ended');
      const events = await readJsonLines(join(rig.streamDir(newOwner, victim), 'events.jsonl'));
      expect(events.find((event) => event['eventType'] === 'stream.resumed')?.['data']).toMatchObject({ reason: 'takeover' });
      const killedFiles = await readdir(rig.streamDir(0, victim));
      expect(killedFiles).toContain('audio.wav');

      // The finished streams are gone from Redis; only the replicas' own keys remain.
      const keys = await rig.keys();
      expect(keys.filter((key) => /:(lease|stream|fence|excluded):/.test(key))).toEqual([]);
      expect(JSON.parse(await readFile(join(rig.streamDir(newOwner, victim), 'stream.json'), 'utf8'))).toMatchObject({ state: 'ended' });
    } finally {
      await rig.close();
    }
  }, 90_000);
});
