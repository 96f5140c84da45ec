import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { inspectStreamOutput } from '../support/streamOutputReport.ts';
import { readWavData } from '../support/wavReader.ts';
import { fileSafeId } from '../../src/sinks/fileSafeId.ts';
import { expectAudioIdentical, expectEveryFrameAccounted, readJsonLines, startRig, untilAudioSent, waitUntilEnded } from './connectorHarness.ts';

// The tests run at once: each starts its own rig and spends its time waiting on real-time audio.
describe.concurrent('multi-stream audio (one WAV per speaker)', () => {
  it('writes each speaker byte for byte and marks the gaps where Zoom sent nothing', async () => {
    const rig = await startRig({ RTMS_AUDIO_MODE: 'multi', RTMS_MEDIA: 'audio,transcript' });
    try {
      const stream = await rig.simulator.startStream({ product: 'meeting', participants: 3 });
      await stream.whenReady();
      await untilAudioSent(stream, 32_000 * 4);
      await stream.stop();
      await waitUntilEnded(rig, stream);
      expect(stream.sent.audioUserIds().length).toBeGreaterThanOrEqual(2);
      expect(stream.sent.audioUserIds()).not.toContain('0');
      await expectAudioIdentical(rig, stream);
      await expectEveryFrameAccounted(rig, stream);
      const gaps = (await readJsonLines(join(rig.streamDir(stream), 'events.jsonl'))).filter((event) => event['eventType'] === 'media.gap');
      expect(gaps.length).toBeGreaterThan(0);
      expect(gaps[0]?.['data']).toMatchObject({ kind: 'audio', reason: 'no_data', filledWithSilence: false });
    } finally {
      await rig.close();
    }
  });

  it('with RTMS_AUDIO_GAP_FILL=silence every speaker file keeps the stream timeline', async () => {
    const rig = await startRig({ RTMS_AUDIO_MODE: 'multi', RTMS_AUDIO_GAP_FILL: 'silence', RTMS_MEDIA: 'audio' });
    try {
      const stream = await rig.simulator.startStream({ product: 'meeting', participants: 3 });
      await stream.whenReady();
      await untilAudioSent(stream, 32_000 * 4);
      await stream.stop();
      await waitUntilEnded(rig, stream);
      // The session marks each gap in events.jsonl; the sink pads exactly those gaps with
      // silence (16 kHz mono L16: 32 bytes per ms) and keeps every byte Zoom sent.
      const gaps = (await readJsonLines(join(rig.streamDir(stream), 'events.jsonl')))
        .filter((event) => event['eventType'] === 'media.gap')
        .map((event) => event['data'] as { userId: string; gapMs: number; filledWithSilence: boolean });
      expect(gaps.length).toBeGreaterThan(0);
      expect(gaps.every((gap) => gap.filledWithSilence)).toBe(true);
      let padded = 0;
      for (const userId of stream.sent.audioUserIds()) {
        const wav = await readWavData(join(rig.streamDir(stream), `audio-${fileSafeId(userId)}.wav`));
        const sent = stream.sent.audio(userId);
        const gapMs = gaps.filter((gap) => gap.userId === userId).reduce((sum, gap) => sum + gap.gapMs, 0);
        expect({ userId, paddingBytes: wav.data.length - sent.length }).toEqual({ userId, paddingBytes: Math.round(gapMs * 32) });
        const nonZero = (buffer: Buffer): number => buffer.reduce((count, byte) => count + (byte === 0 ? 0 : 1), 0);
        expect(nonZero(wav.data)).toBe(nonZero(sent));
        padded += wav.data.length - sent.length;
      }
      expect(padded).toBeGreaterThan(0);
    } finally {
      await rig.close();
    }
  });

  it('Contact Center mixed audio: one WAV per party from channel_id, each byte for byte what Zoom sent on that channel', async () => {
    // RTMS_AUDIO_MODE defaults to mixed (data_opt 1); Zoom still files every packet by channel_id.
    const rig = await startRig({ RTMS_MEDIA: 'audio,transcript' });
    try {
      const stream = await rig.simulator.startStream({ product: 'contact_center' });
      await stream.whenReady();
      await untilAudioSent(stream, 32_000 * 4);
      await stream.stop();
      await waitUntilEnded(rig, stream);
      const channels = stream.participants.map((party) => String(party.channelId));
      expect([...stream.sent.audioUserIds()].sort()).toEqual([...channels].sort());
      const wavs = (await readdir(rig.streamDir(stream))).filter((name) => name.endsWith('.wav')).sort();
      expect(wavs).toEqual(channels.map((channel) => `audio-${fileSafeId(channel)}.wav`).sort());
      for (const channel of channels) {
        const wav = await readWavData(join(rig.streamDir(stream), `audio-${fileSafeId(channel)}.wav`));
        expect(wav.data.length).toBeGreaterThan(0);
        expect(wav.data.equals(stream.sent.audio(channel))).toBe(true);
      }
      await expectEveryFrameAccounted(rig, stream);
      const report = await inspectStreamOutput(rig.streamDir(stream), { probe: true });
      expect(report.problems).toEqual([]);
    } finally {
      await rig.close();
    }
  });
});
