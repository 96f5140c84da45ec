import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AnnexBWriter } from '../../../src/media/annexBWriter.ts';
import { startsWithStartCode } from '../../../src/media/h264.ts';
import { countVideoFrames, makeH264Clip, splitAccessUnits, tempDir } from './mediaTools.ts';

let dir: Awaited<ReturnType<typeof tempDir>>;
let accessUnits: Buffer[];
let clip: Buffer;

beforeAll(async () => {
  const source = await tempDir();
  clip = await makeH264Clip(source.path);
  accessUnits = splitAccessUnits(clip);
  await source.remove();
});
beforeEach(async () => {
  dir = await tempDir();
});
afterEach(async () => {
  await dir.remove();
});

/** The access unit as length-prefixed NAL units (AVCC), the form MP4 uses. */
function toLengthPrefixed(accessUnit: Buffer): Buffer {
  const parts: Buffer[] = [];
  const starts: Array<{ at: number; code: number }> = [];
  for (let i = 0; i + 3 <= accessUnit.length; i++) {
    if (accessUnit[i] === 0 && accessUnit[i + 1] === 0 && accessUnit[i + 2] === 1) {
      starts.push({ at: i > 0 && accessUnit[i - 1] === 0 ? i - 1 : i, code: i + 3 });
      i += 2;
    }
  }
  starts.forEach((start, index) => {
    const nal = accessUnit.subarray(start.code, starts[index + 1]?.at ?? accessUnit.length);
    const length = Buffer.alloc(4);
    length.writeUInt32BE(nal.length);
    parts.push(length, nal);
  });
  return Buffer.concat(parts);
}

function stripStartCode(accessUnit: Buffer): Buffer {
  return accessUnit.subarray(accessUnit[2] === 1 ? 3 : 4);
}

describe('AnnexBWriter', () => {
  it('appends access units as received: the file equals the source and decodes to 25 frames', async () => {
    expect(accessUnits).toHaveLength(25);
    const path = join(dir.path, 'video.h264');
    const writer = new AnnexBWriter({ path });
    for (const [index, unit] of accessUnits.entries()) {
      writer.append(unit);
      if (index % 7 === 0) await writer.flush();
    }
    await writer.close();
    expect((await readFile(path)).equals(clip)).toBe(true);
    expect(writer.stats()).toMatchObject({ recordsWritten: 25, bytesWritten: clip.length });
    expect(await countVideoFrames(path)).toEqual({ codec: 'h264', frames: 25, width: 160, height: 90 });
  });

  it('repairs access units without a start code (bare NAL or length-prefixed) so the file stays decodable', async () => {
    const path = join(dir.path, 'repaired.h264');
    const writer = new AnnexBWriter({ path });
    for (const [index, unit] of accessUnits.entries()) {
      if (index % 3 === 1) writer.append(toLengthPrefixed(unit));
      else if (index % 3 === 2 && unit.length < 400)
        writer.append(stripStartCode(unit)); // single-NAL units only
      else writer.append(unit);
    }
    await writer.close();
    const written = await readFile(path);
    expect(startsWithStartCode(written)).toBe(true);
    expect(await countVideoFrames(path)).toMatchObject({ codec: 'h264', frames: 25 });
    expect(writer.stats().recordsWritten).toBe(25);
  });

  it('detects start codes of both lengths', () => {
    expect(startsWithStartCode(Buffer.from([0, 0, 1, 0x65]))).toBe(true);
    expect(startsWithStartCode(Buffer.from([0, 0, 0, 1, 0x65]))).toBe(true);
    expect(startsWithStartCode(Buffer.from([0, 0, 0, 5, 0x65]))).toBe(false);
    expect(startsWithStartCode(Buffer.from([0x65, 0, 0, 1]))).toBe(false);
  });
});
