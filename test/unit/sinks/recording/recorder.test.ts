import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Recorder } from '../../../../src/sinks/recording/recorder.ts';
import { recordingAudioBytes } from '../../../support/recordingProbe.ts';
import { tempDir, type TempDir } from '../../../support/tempDir.ts';
import { splitAccessUnits } from '../../media/mediaTools.ts';
import { MIXED_16K, frame } from '../sinkFrames.ts';

const units = splitAccessUnits(readFileSync(new URL('../../../../packages/rtms-simulator/fixtures/camera.h264', import.meta.url)));
const T0 = 1_700_000_000_000;
const pcm = (ms: number): Buffer => Buffer.alloc(640, ms % 251);

let dir: TempDir | undefined;
afterEach(async () => {
  await dir?.remove();
  dir = undefined;
});

async function recorder(
  directory?: string,
  fillAudioGaps = false,
): Promise<{ recorder: Recorder; events: Array<[string, Record<string, unknown>]>; directory: string }> {
  dir ??= await tempDir('rtms-recorder-');
  const events: Array<[string, Record<string, unknown>]> = [];
  const target = directory ?? dir.path;
  const made = new Recorder({ directory: target, taken: new Set(), fillAudioGaps, onEvent: (type, data) => events.push([type, data]) });
  made.setFormats(MIXED_16K);
  return { recorder: made, events, directory: target };
}

/** Audio every 20 ms and video every 40 ms over [fromMs, toMs), the video restarting at the fixture's IDR. */
function feed(target: Recorder, fromMs: number, toMs: number, options: { video?: boolean; audio?: boolean } = {}): void {
  for (let ms = fromMs, v = 0; ms < toMs; ms += 20) {
    if (options.audio !== false) target.add(frame('audio', pcm(ms), { timestamp: T0 + ms, receivedAt: T0 + ms }));
    if (options.video !== false && ms % 40 === 0) target.add(frame('video', units[v++ % units.length]!, { timestamp: T0 + ms, receivedAt: T0 + ms }));
  }
}

function codecs(path: string): string {
  return execFileSync('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_name', '-of', 'csv=p=0', path], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .join(',');
}

// Each test reads its file back with ffprobe or ffmpeg several times: seconds, not milliseconds, on a busy machine.
describe('Recorder', { timeout: 15_000 }, () => {
  it('closes a track that went quiet, and starts a new part when it comes back', async () => {
    const { recorder: target, events, directory } = await recorder();
    feed(target, 0, 2000);
    feed(target, 2000, 8000, { video: false });
    feed(target, 8000, 9000);
    await target.close();
    const stats = target.stats();
    expect(stats.parts.map((part) => [part.file, part.tracks])).toEqual([
      ['recording.mkv', ['audio', 'video']],
      ['recording.part2.mkv', ['audio', 'video']],
    ]);
    expect(stats.parts[1]!.zoomStartMs).toBe(T0 + 8000);
    expect(events.filter(([type]) => type === 'recording.part_ended').map(([, data]) => data['reason'])).toEqual(['track_added', 'closed']);
    expect(stats.frames['audio']).toEqual({ written: 450, dropped: {} });
    expect(codecs(join(directory, 'recording.mkv'))).toBe('pcm_s16le,h264');
    expect(codecs(join(directory, 'recording.part2.mkv'))).toBe('pcm_s16le,h264');
  });

  it('counts a redelivered packet instead of muxing it twice', async () => {
    const { recorder: target } = await recorder();
    feed(target, 0, 1200, { video: false });
    target.add(frame('audio', pcm(1000), { timestamp: T0 + 1000, receivedAt: T0 + 1200 }));
    await target.close();
    expect(target.stats().frames['audio']).toEqual({ written: 60, dropped: { out_of_order: 1 } });
  });

  it('keeps what it cannot write yet and writes it when the file can be made again', async () => {
    dir = await tempDir('rtms-recorder-');
    const blocked = join(dir.path, 'stream');
    writeFileSync(blocked, 'x');
    const { recorder: target } = await recorder(blocked);
    feed(target, 0, 1500);
    await target.flush();
    expect(existsSync(join(blocked, 'recording.mkv'))).toBe(false);
    rmSync(blocked);
    feed(target, 1500, 2000);
    await target.close();
    expect(target.stats().failures).toEqual({});
    const pcmOut = await recordingAudioBytes(join(blocked, 'recording.mkv'));
    expect(pcmOut.length).toBe(100 * 640);
  });

  it('counts a failure with its reason when the file never could be written; it never throws', async () => {
    dir = await tempDir('rtms-recorder-');
    const blocked = join(dir.path, 'not-a-directory');
    writeFileSync(blocked, 'x');
    const { recorder: target, events } = await recorder(blocked);
    feed(target, 0, 1500);
    await target.flush();
    feed(target, 1500, 1600);
    await target.close();
    expect(target.stats().failures).toEqual({ write_error: 1 });
    expect(events.find(([type]) => type === 'recording.failed')?.[1]).toEqual({ file: 'recording.mkv', reason: 'write_error' });
  });

  it('goes on in a new part when its file is deleted under it', async () => {
    const { recorder: target, events, directory } = await recorder();
    feed(target, 0, 1500);
    await target.flush();
    rmSync(join(directory, 'recording.mkv'));
    feed(target, 1500, 1600);
    await target.flush();
    feed(target, 1600, 3000);
    await target.close();
    const stats = target.stats();
    expect(stats.failures).toEqual({ file_lost: 1 });
    expect(stats.parts.map((part) => part.file)).toEqual(['recording.mkv', 'recording.part2.mkv']);
    expect(events.filter(([type]) => type === 'recording.part_ended').map(([, data]) => data['reason'])).toEqual(['failure', 'closed']);
    expect(codecs(join(directory, 'recording.part2.mkv'))).toBe('pcm_s16le,h264');
  });

  it('with RTMS_AUDIO_GAP_FILL=silence, pads an audio gap with silence so the track has no hole', async () => {
    const { recorder: target, directory } = await recorder(undefined, true);
    feed(target, 0, 1000, { video: false });
    feed(target, 1500, 2500, { video: false });
    await target.close();
    const path = join(directory, 'recording.mkv');
    const pcmOut = await recordingAudioBytes(path);
    const silence = Buffer.alloc(500 * 32);
    const expected = Buffer.concat([
      ...Array.from({ length: 50 }, (_, i) => pcm(i * 20)),
      silence,
      ...Array.from({ length: 50 }, (_, i) => pcm(1500 + i * 20)),
    ]);
    expect(pcmOut.length).toBe(expected.length);
    expect(pcmOut.equals(expected)).toBe(true);
  });

  it('destroy() leaves a valid file holding what was muxed', async () => {
    const { recorder: target, directory } = await recorder();
    feed(target, 0, 3000);
    await target.destroy();
    expect(codecs(join(directory, 'recording.mkv'))).toBe('pcm_s16le,h264');
    const pcmOut = await recordingAudioBytes(join(directory, 'recording.mkv'));
    expect(pcmOut.length).toBeGreaterThan(0);
    expect(pcmOut.length % 640).toBe(0);
  });
});
