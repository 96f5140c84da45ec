import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

/** Test helpers shared by media and sink tests: temp dirs, ffprobe, a real H.264 clip. */

const run = promisify(execFile);

export { tempDir } from '../../support/tempDir.ts';

export { countVideoFrames, ffprobe, probeAudio, type ProbeResult } from '../../support/ffprobe.ts';

/** A 1 s, 25 fps, 160x90 H.264 Annex B clip made by ffmpeg now. */
export async function makeH264Clip(dir: string): Promise<Buffer> {
  const path = join(dir, 'clip-source.h264');
  await run('ffmpeg', [
    '-v',
    'error',
    '-y',
    '-f',
    'lavfi',
    '-i',
    'testsrc=size=160x90:rate=25',
    '-t',
    '1',
    '-c:v',
    'libx264',
    '-bsf:v',
    'h264_mp4toannexb',
    '-f',
    'h264',
    path,
  ]);
  return readFile(path);
}

/** `count` small JPEG images made by ffmpeg now. */
export async function makeJpegs(dir: string, count: number): Promise<Buffer[]> {
  await run('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc=size=32x32:rate=5', '-frames:v', String(count), join(dir, 'src-%d.jpg')]);
  return Promise.all(Array.from({ length: count }, (_, index) => readFile(join(dir, `src-${index + 1}.jpg`))));
}

/** Offsets of Annex B start codes (3 or 4 bytes) and where each NAL unit's header byte is. */
function nalUnits(stream: Buffer): Array<{ start: number; header: number }> {
  const units: Array<{ start: number; header: number }> = [];
  for (let i = 0; i + 3 <= stream.length; i++) {
    if (stream[i] === 0 && stream[i + 1] === 0 && stream[i + 2] === 1) {
      const start = i > 0 && stream[i - 1] === 0 ? i - 1 : i;
      units.push({ start, header: i + 3 });
      i += 2;
    }
  }
  return units;
}

/**
 * Splits an Annex B stream into access units (each keeping its start codes): a new unit
 * begins at an AUD/SPS/PPS/SEI after a picture, or at a slice with first_mb_in_slice 0.
 */
export function splitAccessUnits(stream: Buffer): Buffer[] {
  const units = nalUnits(stream);
  const boundaries: number[] = [];
  let sawPicture = false;
  for (const unit of units) {
    const type = stream[unit.header]! & 0x1f;
    const isSlice = type === 1 || type === 5;
    // first_mb_in_slice is ue(v): value 0 is the single bit 1.
    const firstSlice = isSlice && (stream[unit.header + 1]! & 0x80) !== 0;
    const startsUnit = (sawPicture && [6, 7, 8, 9].includes(type)) || (sawPicture && firstSlice) || boundaries.length === 0;
    if (startsUnit) {
      boundaries.push(unit.start);
      sawPicture = false;
    }
    if (isSlice) sawPicture = true;
  }
  return boundaries.map((start, index) => stream.subarray(start, boundaries[index + 1] ?? stream.length));
}

/** A deterministic 16-bit PCM test signal: a ramp that differs per frame, so reordering or loss shows. */
export function pcmFrame(index: number, bytes: number): Buffer {
  const frame = Buffer.alloc(bytes);
  for (let i = 0; i < bytes; i++) frame[i] = (index * 31 + i * 7) & 0xff;
  return frame;
}
