import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { isIdrAccessUnit, splitLengthPrefixed, startsWithStartCode } from '../../../src/media/h264.ts';
import { splitAccessUnits } from './mediaTools.ts';

const fixturePath = new URL('../../../packages/rtms-simulator/fixtures/camera.h264', import.meta.url);

/** An Annex B access unit rewritten as AVCC: each start code replaced by a 4-byte length. */
function toLengthPrefixed(accessUnit: Buffer): Buffer {
  const nals: Buffer[] = [];
  let begin = -1;
  for (let i = 0; i + 3 <= accessUnit.length; i++) {
    if (accessUnit[i] === 0 && accessUnit[i + 1] === 0 && accessUnit[i + 2] === 1) {
      if (begin >= 0) nals.push(accessUnit.subarray(begin, accessUnit[i - 1] === 0 ? i - 1 : i));
      begin = i + 3;
      i += 2;
    }
  }
  nals.push(accessUnit.subarray(begin));
  return Buffer.concat(
    nals.flatMap((nal) => {
      const length = Buffer.alloc(4);
      length.writeUInt32BE(nal.length);
      return [length, nal];
    }),
  );
}

describe('H.264 access units', () => {
  it('finds the IDR pictures of a real clip in Annex B and in AVCC framing', async () => {
    const units = splitAccessUnits(await readFile(fixturePath));
    const annexB = units.map((unit) => isIdrAccessUnit(unit));
    expect(annexB.flatMap((idr, index) => (idr ? [index] : []))).toEqual([0, 10, 20, 30, 40]);
    const avcc = units.map((unit) => toLengthPrefixed(unit));
    expect(avcc.every((unit) => !startsWithStartCode(unit) && splitLengthPrefixed(unit) !== undefined)).toBe(true);
    expect(avcc.map((unit) => isIdrAccessUnit(unit))).toEqual(annexB);
  });

  it('reads a bare NAL unit by its header and stops at the first slice', () => {
    expect(isIdrAccessUnit(Buffer.from([0x65, 0x88, 0x84]))).toBe(true);
    expect(isIdrAccessUnit(Buffer.from([0x41, 0x9a, 0x02]))).toBe(false);
    // A non-IDR picture whose slice data happens to contain `00 00 01 65` is still not an IDR.
    const pFrame = Buffer.from([0, 0, 0, 1, 0x09, 0x30, 0, 0, 1, 0x41, 0x9a, 0, 0, 1, 0x65, 0x88]);
    expect(isIdrAccessUnit(pFrame)).toBe(false);
    expect(isIdrAccessUnit(Buffer.from([0, 0, 0, 1, 0x67, 0x42, 0, 0, 1, 0x68, 0xce]))).toBe(false);
    expect(isIdrAccessUnit(Buffer.alloc(0))).toBe(false);
  });

  it("reads framings in the writer's order: AVCC before a 3-byte start code, Annex B after extra zeros", () => {
    // AVCC with a 261-byte first NAL: its length reads `00 00 01 05`, like a start code and an IDR header.
    const pSlice = Buffer.concat([Buffer.from([0x41]), Buffer.alloc(260, 0x9a)]);
    const idrSlice = Buffer.concat([Buffer.from([0x65]), Buffer.alloc(260, 0x88)]);
    const withLength = (nal: Buffer): Buffer => Buffer.concat([Buffer.from([0, 0, 1, 5]), nal]);
    expect(isIdrAccessUnit(withLength(pSlice))).toBe(false);
    expect(isIdrAccessUnit(withLength(idrSlice))).toBe(true);
    // Annex B with a zero byte in front of a 4-byte start code.
    expect(isIdrAccessUnit(Buffer.from([0, 0, 0, 0, 1, 0x65, 0x88]))).toBe(true);
    expect(isIdrAccessUnit(Buffer.from([0, 0, 0, 0, 1, 0x41, 0x9a]))).toBe(false);
  });
});
