import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { SYNC_TONE } from 'rtms-simulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { measureAvOffset, measureAvOffsetFromParts } from '../support/avOffset.ts';
import { type TempDir, tempDir } from '../support/tempDir.ts';
import { wavFile } from '../support/wavReader.ts';

/**
 * The measuring tool measured: files built by ffmpeg from the stand-in's own media (its H.264
 * clip and sync picture, its tone) with a known offset injected by -itsoffset. The tool must
 * find it within a few ms, in PCM and lossy (AAC) audio, MP4 and Matroska, before any test
 * relies on it to judge a recording.
 */

const run = promisify(execFile);
const FIXTURES = new URL('../../packages/rtms-simulator/fixtures/', import.meta.url);
const RATE = 16_000;
const FPS = 25;
const SECONDS = 4;
/** Marks at these media times, ms (multiples of the 40 ms frame interval). */
const MARKS_MS = [1000, 2000, 3000];

/** Splits Annex B into access units at each access unit delimiter (the fixture has one per unit). */
function splitAtDelimiters(stream: Buffer): Buffer[] {
  const starts: number[] = [];
  for (let i = 0; i + 4 < stream.length; i += 1) {
    if (stream[i] === 0 && stream[i + 1] === 0 && stream[i + 2] === 0 && stream[i + 3] === 1 && ((stream[i + 4] ?? 0) & 0x1f) === 9) starts.push(i);
  }
  return starts.map((start, i) => stream.subarray(start, starts[i + 1] ?? stream.length));
}

let dir: TempDir;
let video: string;
let audio: string;
let timedVideo: string;

beforeAll(async () => {
  dir = await tempDir('av-offset-');
  // Video: the camera clip at 25 fps, the white IDR at each mark, resuming at the clip's next IDR (every 10th unit).
  const clip = splitAtDelimiters(await readFile(new URL('camera.h264', FIXTURES)));
  const white = await readFile(new URL('sync.h264', FIXTURES));
  const units: Buffer[] = [];
  let next = 0;
  for (let frame = 0; frame < SECONDS * FPS; frame += 1) {
    if (MARKS_MS.includes((frame * 1000) / FPS)) {
      units.push(white);
      next = Math.ceil(next / 10) * 10;
    } else {
      units.push(clip[next % clip.length] as Buffer);
      next += 1;
    }
  }
  video = join(dir.path, 'video.h264');
  await writeFile(video, Buffer.concat(units));
  // Audio: a 300 Hz hum (speech stand-in) with the stand-in's burst at each mark.
  const pcm = Buffer.alloc(SECONDS * RATE * 2);
  for (let i = 0; i < SECONDS * RATE; i += 1) pcm.writeInt16LE(Math.round(4000 * Math.sin((2 * Math.PI * 300 * i) / RATE)), 2 * i);
  for (const markMs of MARKS_MS) {
    const onset = (markMs * RATE) / 1000;
    for (let i = -(SYNC_TONE.guardMs * RATE) / 1000; i < ((SYNC_TONE.ms + SYNC_TONE.guardMs) * RATE) / 1000; i += 1) {
      const inTone = i >= 0 && i < (SYNC_TONE.ms * RATE) / 1000;
      pcm.writeInt16LE(inTone ? Math.round(SYNC_TONE.amplitude * Math.cos((2 * Math.PI * SYNC_TONE.hz * i) / RATE)) : 0, 2 * (onset + i));
    }
  }
  audio = join(dir.path, 'audio.wav');
  await writeFile(audio, wavFile(pcm, RATE, 1));
  // A raw stream has no timestamps for -itsoffset to shift: give it some first.
  timedVideo = join(dir.path, 'video.mkv');
  await run('ffmpeg', ['-v', 'error', '-r', String(FPS), '-i', video, '-c', 'copy', timedVideo]);
});

afterAll(async () => {
  await dir?.remove();
});

/** Muxes the parts with the video shifted by `videoDelayMs` (the injected offset). */
async function mux(name: string, videoDelayMs: number, audioCodec: string[]): Promise<string> {
  const out = join(dir.path, name);
  await run('ffmpeg', [
    '-v',
    'error',
    '-y',
    '-itsoffset',
    String(videoDelayMs / 1000),
    '-i',
    timedVideo,
    '-i',
    audio,
    '-map',
    '0:v',
    '-map',
    '1:a',
    '-c:v',
    'copy',
    ...audioCodec,
    out,
  ]);
  return out;
}

describe('measureAvOffset', () => {
  // Tolerance: PCM is exact (Matroska stores ms timestamps, marks sit on whole ms); lossy codecs
  // smear the onset a little (Opus here: 1.5 ms, mostly the 16 -> 48 kHz resampler's delay).
  it.each([
    ['recording.mkv', 0, 0.01, ['-c:a', 'pcm_s16le']],
    ['recording.mkv', 120, 0.01, ['-c:a', 'pcm_s16le']],
    ['recording.mkv', -80, 0.01, ['-c:a', 'pcm_s16le']],
    ['recording.mp4', 0, 1, ['-c:a', 'aac', '-b:a', '64k']],
    ['recording.mp4', 120, 1, ['-c:a', 'aac', '-b:a', '64k']],
    ['fragmented.mp4', -40, 1, ['-c:a', 'aac', '-b:a', '64k', '-movflags', 'frag_keyframe+empty_moov+default_base_moof']],
    ['opus.mkv', 120, 3, ['-c:a', 'libopus', '-b:a', '32k']],
  ] as const)('measures %s with the video %i ms late at every mark, within %f ms', async (name, delayMs, toleranceMs, codec) => {
    const file = await mux(`${delayMs}-${name}`, delayMs, [...codec]);
    const result = await measureAvOffset(file);
    expect(result.unpairedAudioMs).toEqual([]);
    expect(result.unpairedVideoMs).toEqual([]);
    expect(result.pairs).toHaveLength(MARKS_MS.length);
    for (const pair of result.pairs) expect(Math.abs(pair.offsetMs - delayMs)).toBeLessThanOrEqual(toleranceMs);
  });

  it('measures from parts: a WAV with its start time and an elementary stream with a timestamp per picture', async () => {
    const zoomStart = 1_765_000_000_000;
    const frameTimestampsMs = Array.from({ length: SECONDS * FPS }, (_, n) => zoomStart + 40 * n + 7);
    const result = await measureAvOffsetFromParts({ audio, audioStartMs: zoomStart, video, frameTimestampsMs });
    expect(result.audioMarksMs).toEqual(MARKS_MS.map((ms) => zoomStart + ms));
    expect(result.pairs.map((pair) => pair.offsetMs)).toEqual([7, 7, 7]);
  });
});
