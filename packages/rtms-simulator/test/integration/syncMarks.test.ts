import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { measureAvOffset, measureAvOffsetFromParts } from '../../../../test/support/avOffset.ts';
import { tempDir } from '../../../../test/support/tempDir.ts';
import { wavFile } from '../../../../test/support/wavReader.ts';
import { isIdrAccessUnit } from '../../src/h264AccessUnits.ts';
import { mediaFixtures } from '../../src/mediaFixtures.ts';
import { SYNC_TONE } from '../../src/syncMarks.ts';
import { type Harness, harness, timestampGaps } from './helpers/harness.ts';

const run = promisify(execFile);

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** The tone as the stand-in writes it: a cosine from its peak, then silence. */
function expectToneAt(pcm: Buffer, byteOffset: number, rateHz: number, channels: number): void {
  const frame = 2 * channels;
  const guard = (SYNC_TONE.guardMs * rateHz) / 1000;
  const tone = (SYNC_TONE.ms * rateHz) / 1000;
  for (let i = -guard; i < tone + guard; i += 1) {
    const expected = i >= 0 && i < tone ? Math.round(SYNC_TONE.amplitude * Math.cos((2 * Math.PI * SYNC_TONE.hz * i) / rateHz)) : 0;
    for (let channel = 0; channel < channels; channel += 1) {
      const at = byteOffset + i * frame + 2 * channel;
      if (pcm.readInt16LE(at) !== expected) throw new Error(`sample ${i} (channel ${channel}) is ${pcm.readInt16LE(at)}, expected ${expected}`);
    }
  }
}

describe('sync marks', () => {
  it('puts a tone onset and a white picture at the same Zoom timestamps, every everyMs of media time', async () => {
    h = await harness({ syncMarks: { everyMs: 1000 } });
    const stream = await h.sim.startStream({ durationMs: 3600 });
    const session = await h.join(stream, {
      media: [
        { url: 'audio', mediaType: 1 },
        { url: 'video', mediaType: 2, mediaParams: { video: { codec: 7, fps: 25 } } },
        { url: 'sharescreen', mediaType: 4, mediaParams: { deskshare: { codec: 7, fps: 15 } } },
      ],
    });
    await stream.whenEnded();
    await session.signaling.closed;
    const start = stream.firstPacketTimestamp ?? Number.NaN;
    const expected = [1000, 2000, 3000].map((ms) => start + ms);

    const audioMarks = stream.sent.syncMarks('audio');
    expect(audioMarks.map((mark) => mark.timestamp)).toEqual(expected);
    const audio = session.collector.audioOf('0');
    expect(audio.equals(stream.sent.audio('0'))).toBe(true);
    const timestamps = session.collector.audioTimestamps.get('0') ?? [];
    for (const mark of audioMarks) {
      expect(mark.userId).toBe('0');
      expectToneAt(audio, mark.offset, 16_000, 1);
      // The packet holding the onset states the mark's time for the onset's sample: 640 bytes per 20 ms.
      expect((timestamps[Math.floor(mark.offset / 640)] ?? 0) + ((mark.offset % 640) / 640) * 20).toBe(mark.timestamp);
    }

    const fixtures = mediaFixtures();
    for (const kind of ['video', 'deskshare'] as const) {
      const marks = stream.sent.syncMarks(kind);
      expect(marks.map((mark) => mark.timestamp)).toEqual(expected);
      const frames = kind === 'video' ? session.collector.video : session.collector.deskshare;
      const frameTimes = kind === 'video' ? session.collector.videoTimestamps : session.collector.deskshareTimestamps;
      const white = frames.flatMap((frame, index) => (frame.equals(fixtures.sync.h264) ? [index] : []));
      expect(white).toEqual(marks.map((mark) => mark.offset));
      expect(white.map((index) => frameTimes[index])).toEqual(expected);
      // The clip resumes at an IDR, so every frame after a mark decodes.
      for (const index of white) expect(isIdrAccessUnit(frames[index + 1] as Buffer)).toBe(true);
    }
  });

  it('carries the tone in the first participant in multi-stream mode, the others silent around it', async () => {
    h = await harness({ seed: 7 });
    const stream = await h.sim.startStream({ durationMs: 2400, participants: 3, scopes: ['audio'], syncMarks: { everyMs: 1000 } });
    const session = await h.join(stream, {
      media: [{ url: 'audio', mediaType: 1, mediaParams: { audio: { sample_rate: 3, channel: 2, data_opt: 2, send_rate: 100 } } }],
    });
    await stream.whenEnded();
    await session.signaling.closed;
    const carrier = stream.participants[0]?.key ?? '';
    const marks = stream.sent.syncMarks('audio');
    const start = stream.firstPacketTimestamp ?? Number.NaN;
    expect(marks.map((mark) => [mark.userId, mark.timestamp])).toEqual([
      [carrier, start + 1000],
      [carrier, start + 2000],
    ]);
    for (const mark of marks) expectToneAt(session.collector.audioOf(carrier), mark.offset, 48_000, 2);
    // Everyone else is silent in every packet overlapping a mark window.
    for (const [userId, chunks] of session.collector.audio) {
      if (userId === carrier) continue;
      const times = session.collector.audioTimestamps.get(userId) ?? [];
      chunks.forEach((chunk, index) => {
        const from = (times[index] ?? 0) - start;
        for (const markMs of [1000, 2000]) {
          if (from + 100 <= markMs - SYNC_TONE.guardMs || from >= markMs + SYNC_TONE.ms + SYNC_TONE.guardMs) continue;
          const first = Math.max(0, ((markMs - SYNC_TONE.guardMs - from) * 48_000) / 1000) * 4;
          const last = Math.min(100, markMs + SYNC_TONE.ms + SYNC_TONE.guardMs - from) * 48 * 4;
          expect(chunk.subarray(first, last).every((byte) => byte === 0)).toBe(true);
        }
      });
    }
  });

  it('gives test/support/avOffset.ts what it needs: it measures 0 ms on the media as received, and on a file muxed from them', async () => {
    h = await harness({ syncMarks: { everyMs: 1000 } });
    // One participant: no camera toggles, so video runs at an even 25 fps.
    const stream = await h.sim.startStream({ durationMs: 3600, participants: 1, scopes: ['audio', 'video'] });
    const session = await h.join(stream, {
      media: [
        { url: 'audio', mediaType: 1 },
        { url: 'video', mediaType: 2, mediaParams: { video: { codec: 7, fps: 25 } } },
      ],
    });
    await stream.whenEnded();
    await session.signaling.closed;
    const audioTimes = session.collector.audioTimestamps.get('0') ?? [];
    const videoTimes = session.collector.videoTimestamps;
    expect(timestampGaps(audioTimes, 20)).toEqual([]);
    expect(timestampGaps(videoTimes, 40)).toEqual([]);
    const marks = stream.sent.syncMarks('audio').map((mark) => mark.timestamp);
    expect(marks).toHaveLength(3);
    const dir = await tempDir('sync-marks-');
    try {
      const audio = join(dir.path, 'audio.wav');
      const video = join(dir.path, 'video.h264');
      await writeFile(audio, wavFile(session.collector.audioOf('0'), 16_000, 1));
      await writeFile(video, Buffer.concat(session.collector.video));
      const parts = await measureAvOffsetFromParts({ audio, audioStartMs: audioTimes[0] ?? 0, video, frameTimestampsMs: videoTimes });
      expect(parts.audioMarksMs).toEqual(marks);
      expect(parts.videoMarksMs).toEqual(marks);
      expect(parts.pairs.map((pair) => pair.offsetMs)).toEqual([0, 0, 0]);
      // A player's view: both in one Matroska file, the video placed at its first timestamp.
      const timed = join(dir.path, 'video.mkv');
      const muxed = join(dir.path, 'muxed.mkv');
      await run('ffmpeg', ['-v', 'error', '-r', '25', '-i', video, '-c', 'copy', timed]);
      const lead = ((videoTimes[0] ?? 0) - (audioTimes[0] ?? 0)) / 1000;
      await run('ffmpeg', [
        '-v',
        'error',
        '-itsoffset',
        String(lead),
        '-i',
        timed,
        '-i',
        audio,
        '-map',
        '0:v',
        '-map',
        '1:a',
        '-c:v',
        'copy',
        '-c:a',
        'pcm_s16le',
        muxed,
      ]);
      const file = await measureAvOffset(muxed);
      expect(file.pairs).toHaveLength(3);
      for (const pair of file.pairs) expect(Math.abs(pair.offsetMs)).toBeLessThanOrEqual(1);
    } finally {
      await dir.remove();
    }
  });

  it('refuses an everyMs that is not a multiple of 20 or below 500', async () => {
    h = await harness();
    await expect(h.sim.startStream({ syncMarks: { everyMs: 490 } })).rejects.toMatchObject({ code: 'INVALID_OPTION' });
    await expect(h.sim.startStream({ syncMarks: { everyMs: 1010 } })).rejects.toMatchObject({ code: 'INVALID_OPTION' });
  });
});
