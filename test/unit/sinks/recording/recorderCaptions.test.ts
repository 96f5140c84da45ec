import { afterEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import type { Cue } from '../../../../src/media/captionCues.ts';
import { CaptionTrack } from '../../../../src/sinks/recording/captionTrack.ts';
import { Recorder } from '../../../../src/sinks/recording/recorder.ts';
import { probeRecording, recordingAudioBytes } from '../../../support/recordingProbe.ts';
import { tempDir, type TempDir } from '../../../support/tempDir.ts';
import { splitAccessUnits } from '../../media/mediaTools.ts';
import { MIXED_16K, frame } from '../sinkFrames.ts';
import { readFileSync } from 'node:fs';

/** The transcript as the recording's subtitle track (docs/output.md "Recording"). */

const units = splitAccessUnits(readFileSync(new URL('../../../../packages/rtms-simulator/fixtures/camera.h264', import.meta.url)));
const T0 = 1_700_000_000_000;
const DELAY_MS = 3000;
const pcm = (ms: number): Buffer => Buffer.alloc(640, ms % 251);

let dir: TempDir | undefined;
afterEach(async () => {
  await dir?.remove();
  dir = undefined;
});

async function recorder(): Promise<{ recorder: Recorder; path: string }> {
  dir = await tempDir('rtms-captions-');
  const made = new Recorder({ directory: dir.path, taken: new Set(), fillAudioGaps: false, captionDelayMs: DELAY_MS, onEvent: () => {} });
  made.setFormats(MIXED_16K);
  return { recorder: made, path: join(dir.path, 'recording.mkv') };
}

/** Audio every 20 ms and video every 40 ms over [fromMs, toMs). */
function feed(target: Recorder, fromMs: number, toMs: number): void {
  for (let ms = fromMs; ms < toMs; ms += 20) {
    target.add(frame('audio', pcm(ms), { timestamp: T0 + ms, receivedAt: T0 + ms }));
    if (ms % 40 === 0) target.add(frame('video', units[(ms / 40) % units.length]!, { timestamp: T0 + ms, receivedAt: T0 + ms }));
  }
}

/** A transcript line as Zoom sends it: when it ends, its start in the past. */
function line(text: string, userName: string, startMs: number, endMs: number): ReturnType<typeof frame> {
  return frame('transcript', text, {
    userId: '16778240',
    userName,
    timestamp: T0 + startMs,
    startTime: T0 + startMs,
    endTime: T0 + endMs,
    receivedAt: T0 + endMs,
  });
}

const audioEndS = (probe: Awaited<ReturnType<typeof probeRecording>>): number => {
  const packets = probe.tracks.find((track) => track.type === 'audio')!.packets;
  return packets.length === 0 ? 0 : packets.at(-1)!.pts + packets.at(-1)!.duration;
};

// Each test reads its file back with ffprobe or ffmpeg several times: seconds, not milliseconds, on a busy machine.
describe('Recorder with a subtitle track', { timeout: 15_000 }, () => {
  it('muxes a line that arrives within the delay at its start, with the speaker; counts a late one and an empty one', async () => {
    const { recorder: target, path } = await recorder();
    feed(target, 0, 2000);
    target.add(line('hello & <welcome>', 'Alice', 500, 1500));
    await target.flush();
    // Nothing is past the caption clock yet, but the file is already valid: its header and first frames.
    const early = await probeRecording(path);
    expect(early.tracks.map((track) => [track.codec, track.packets.length > 0])).toEqual([
      ['pcm_s16le', true],
      ['h264', true],
    ]);
    expect(early.captions).toEqual([]);
    feed(target, 2000, 6000);
    await target.flush();
    // Caption clock at 5980 - 3000 ms: the media after it waits in memory for late lines.
    const held = await probeRecording(path);
    expect(audioEndS(held)).toBeGreaterThan(2.5);
    expect(audioEndS(held)).toBeLessThanOrEqual(3.1);
    expect(held.captions).toEqual([{ startMs: 500, durationMs: 1000, text: '<v Alice>hello &amp; &lt;welcome&gt;' }]);
    target.add(line('too late', 'Bob', 2000, 5900));
    target.add(line('on time', 'Bob', 4000, 5950));
    target.add(line('   ', 'Bob', 4100, 5960));
    feed(target, 6000, 8000);
    await target.close();
    const probe = await probeRecording(path);
    expect(probe.captions).toEqual([
      { startMs: 500, durationMs: 1000, text: '<v Alice>hello &amp; &lt;welcome&gt;' },
      { startMs: 4000, durationMs: 1950, text: '<v Bob>on time' },
    ]);
    expect(probe.tracks.map((track) => track.codec)).toEqual(['pcm_s16le', 'h264']);
    expect(target.stats().captions).toEqual({ muxed: 2, dropped: { late: 1, empty: 1 } });
    expect((await recordingAudioBytes(path)).length).toBe(400 * 640);
  });

  it('destroy() writes the media held back for late lines: the file keeps everything muxed', async () => {
    const { recorder: target, path } = await recorder();
    feed(target, 0, 5000);
    await target.flush();
    await target.destroy();
    expect((await recordingAudioBytes(path)).length).toBe(250 * 640);
  });
});

describe('CaptionTrack', () => {
  function fakePart(): { part: { addCue(cue: Cue): void; advanceCaptions(ms: number): void }; log: string[] } {
    const log: string[] = [];
    return { log, part: { addCue: (cue) => log.push(`cue ${cue.startMs} ${cue.speaker}`), advanceCaptions: (ms) => log.push(`advance ${ms}`) } };
  }

  it('holds lines until the clock passes their starts and muxes them in order of their starts, though they arrive in the order they end', () => {
    const track = new CaptionTrack(DELAY_MS);
    const { part, log } = fakePart();
    track.opened(part, T0);
    track.media(T0 + 3900);
    track.line(line('short, ends first', 'B', 2500, 3500), false);
    track.line(line('long, ends last', 'A', 1000, 4000), false);
    track.advance();
    expect(log).toEqual(['advance 900']);
    track.media(T0 + 6000);
    track.advance();
    expect(log).toEqual(['advance 900', 'cue 1000 A', 'cue 2500 B', 'advance 3000']);
    expect(track.stats()).toEqual({ muxed: 2, dropped: {} });
  });

  it('counts as late the lines from before its part, and the earliest past 100 held; the end of the part muxes the rest', () => {
    const track = new CaptionTrack(DELAY_MS);
    for (let i = 0; i < 102; i += 1) track.line(line(`l${i}`, 'A', 10_000 - i * 10, 10_000), false);
    const { part, log } = fakePart();
    // 9000 and 8990 were dropped when held over 100; 9010 to 9490 start before the part.
    track.opened(part, T0 + 9500);
    track.closed();
    expect(log[0]).toBe('cue 0 A');
    expect(log.at(-1)).toBe('cue 500 A');
    expect(log).toHaveLength(51);
    expect(track.stats()).toEqual({ muxed: 51, dropped: { late: 51 } });
  });

  it('advances its clock to the newest media less the delay, never back; a line before the clock is late', () => {
    const track = new CaptionTrack(DELAY_MS);
    const { part, log } = fakePart();
    track.opened(part, T0);
    track.media(T0 + 10_000);
    track.advance();
    track.media(T0 + 9000);
    track.advance();
    track.line(line('late', 'A', 6999, 9000), false);
    track.line(line('ok', 'A', 7000, 9000), false);
    track.line(line('stopped', 'A', 8000, 9000), true);
    track.media(T0 + 10_500);
    track.advance();
    expect(log).toEqual(['advance 7000', 'cue 7000 A', 'advance 7500']);
    expect(track.stats()).toEqual({ muxed: 1, dropped: { late: 1, recording_failed: 1 } });
  });
});
