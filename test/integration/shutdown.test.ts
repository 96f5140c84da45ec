import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { inspectStreamOutput } from '../support/streamOutputReport.ts';
import { readJsonLines, startRig, untilAudioSent } from './connectorHarness.ts';

describe('graceful shutdown', () => {
  it('SIGTERM closes live streams through Zoom, finalizes every file and exits 0', async () => {
    const rig = await startRig();
    try {
      const streams = await Promise.all([rig.simulator.startStream({ product: 'meeting' }), rig.simulator.startStream({ product: 'contact_center' })]);
      await Promise.all(streams.map((stream) => stream.whenReady()));
      await Promise.all(streams.map((stream) => untilAudioSent(stream, 32_000)));

      expect(await rig.connector.stop('SIGTERM')).toBe(0);
      for (const stream of streams) {
        expect(await stream.whenEnded()).toMatchObject({ cause: 'closeRequest', stopReason: 20 });
        const report = await inspectStreamOutput(rig.streamDir(stream), { probe: true });
        expect(report.problems).toEqual([]);
        expect(report.state).toBe('ended');
        expect(report.audioSeconds).toBeGreaterThanOrEqual(1);
        const events = await readJsonLines(join(rig.streamDir(stream), 'events.jsonl'));
        expect(events.at(-1)?.['eventType']).toBe('stream.ended');
      }
    } finally {
      await rig.close();
    }
  });
});
