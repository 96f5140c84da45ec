import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { inspectStreamOutput } from '../support/streamOutputReport.ts';
import { readWavData } from '../support/wavReader.ts';
import { expectEveryFrameAccounted, readJsonLines, startRig, untilAudioSent, waitUntilEnded } from './connectorHarness.ts';

describe('worker crash recovery', () => {
  it("resumes a crashed worker's streams on a live worker; files stay valid and the audio continues", async () => {
    // Worker 1 throws an uncaught exception 2.5 s after start-up.
    const rig = await startRig({ WORKER_THREADS: '2', DEBUG_WORKER_CRASH: '1:2500' });
    try {
      const streams = await Promise.all([rig.simulator.startStream({ product: 'meeting' }), rig.simulator.startStream({ product: 'webinar' })]);
      await Promise.all(streams.map((stream) => stream.whenReady()));
      // Least-loaded placement put one stream on each worker: exactly one is hit by the crash.
      const rejoined = await Promise.race(streams.map((stream) => stream.whenReady(2).then(() => stream)));
      const untouched = streams.find((stream) => stream !== rejoined)!;
      await untilAudioSent(rejoined, 32_000 * 6);
      await Promise.all(streams.map((stream) => stream.stop()));

      const snapshot = await waitUntilEnded(rig, rejoined);
      expect(snapshot).toMatchObject({ state: 'ended', reconnects: 1, rejoins: { 'full/worker_crashed': 1 } });
      expect(await waitUntilEnded(rig, untouched)).toMatchObject({ state: 'ended', reconnects: 0 });
      expect(untouched.connections.signalingAccepted).toBe(1);

      // The first incarnation's WAV stays valid; the resumed one continues in audio.part2.wav.
      const dir = rig.streamDir(rejoined);
      expect((await readdir(dir)).filter((file) => file.endsWith('.wav')).sort()).toEqual(['audio.part2.wav', 'audio.wav']);
      const report = await inspectStreamOutput(dir, { probe: true });
      expect(report.problems).toEqual([]);
      expect(report.state).toBe('ended');
      // Together the parts are what Zoom sent, except what the dead worker had not yet written:
      // the first part is a prefix of the sent audio and the second a suffix.
      const sent = rejoined.sent.audio('0');
      const first = (await readWavData(join(dir, 'audio.wav'))).data;
      const second = (await readWavData(join(dir, 'audio.part2.wav'))).data;
      expect(first.length).toBeGreaterThan(0);
      expect(sent.subarray(0, first.length).equals(first)).toBe(true);
      expect(sent.subarray(sent.length - second.length).equals(second)).toBe(true);
      expect(first.length + second.length).toBeLessThanOrEqual(sent.length);
      const events = (await readJsonLines(join(dir, 'events.jsonl'))).map((event) => event['eventType']);
      expect(events).toContain('stream.resumed');
      await expectEveryFrameAccounted(rig, untouched);

      const metrics = await (await fetch(`${rig.connector.baseUrl}/metrics`)).text();
      expect(metrics).toMatch(/^rtms_worker_restarts_total\{reason="crashed"\} 1$/m);
      expect(metrics).toMatch(/^rtms_worker_threads 2$/m);
    } finally {
      await rig.close();
    }
  }, 60_000);
});
