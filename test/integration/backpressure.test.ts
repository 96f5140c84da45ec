import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { inspectStreamOutput } from '../support/streamOutputReport.ts';
import { expectEveryFrameAccounted, readJsonLines, startRig, untilAudioSent, waitUntilEnded } from './connectorHarness.ts';
import { eventually } from '../support/eventually.ts';

const HIGH_WATER = 64 * 1024;

describe('backpressure with a stalled sink', () => {
  it('keeps memory bounded while the sink stalls, evicts video first past the deadline, and recovers', async () => {
    // The sink stops accepting frames 1 s into each stream, for 6 s.
    const rig = await startRig({
      DEBUG_SINK_STALL: '1000:6000',
      BUFFER_HIGH_WATER_BYTES: String(HIGH_WATER),
      BUFFER_LOW_WATER_BYTES: String(HIGH_WATER / 4),
      BUFFER_STALL_DEADLINE_MS: '1500',
    });
    try {
      const stream = await rig.simulator.startStream({ product: 'meeting' });
      await stream.whenReady();
      const buffered: number[] = [];
      const states = new Set<string>();
      // Sample the stream through the stall until the backlog, having grown past high water, has drained again.
      await eventually(
        async () => {
          const { body } = await rig.connector.admin(`/streams/${stream.rtmsStreamId}`);
          const snapshot = body['stream'] as Record<string, unknown>;
          buffered.push(Number(snapshot['bufferedBytes']));
          states.add(String(snapshot['state']));
          return Math.max(...buffered) > HIGH_WATER && buffered.at(-1)! < HIGH_WATER;
        },
        {
          what: 'the backlog to grow past high water during the stall and drain after it',
          timeoutMs: 25_000,
          intervalMs: 100,
          state: () => buffered.slice(-10),
        },
      );
      // The backlog grew while the sink stalled, never past its bound (2 x high water for
      // the backlog, one high water plus a frame in the sink), and emptied afterwards.
      expect(Math.max(...buffered)).toBeGreaterThan(HIGH_WATER);
      expect(Math.max(...buffered)).toBeLessThanOrEqual(3 * HIGH_WATER + 64 * 1024);
      expect(buffered.at(-1)).toBeLessThan(HIGH_WATER);
      // The stall never cost the connection: no rejoin, no failure.
      expect([...states].filter((state) => state !== 'connecting' && state !== 'live')).toEqual([]);

      await untilAudioSent(stream, 32_000 * 10);
      await stream.stop();
      await waitUntilEnded(rig, stream);
      const media = await expectEveryFrameAccounted(rig, stream);
      expect(media['video']?.framesDropped['buffer_full'] ?? 0).toBeGreaterThan(0);
      expect(media['audio']?.framesReceived).toBe(stream.sent.audioPackets());
      const gaps = (await readJsonLines(join(rig.streamDir(stream), 'events.jsonl'))).filter((event) => event['eventType'] === 'media.gap');
      expect(gaps.map((gap) => (gap['data'] as Record<string, unknown>)['kind'])).toContain('video');
      // Eviction takes whole groups of pictures: every picture written still decodes.
      const report = await inspectStreamOutput(rig.streamDir(stream), { probe: true });
      expect(report.problems).toEqual([]);
      expect(report.videoFrames).toBe(media['video']?.framesWritten);
    } finally {
      await rig.close();
    }
  }, 60_000);
});
