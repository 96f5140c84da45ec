import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { splitAccessUnits } from '../../media/mediaTools.ts';
import { annexBNalUnits, avcCodecString, avcDecoderConfigurationRecord, toLengthPrefixed } from '../../../../src/sinks/recording/avcFraming.ts';
import { avcPictureSize } from '../../../../src/sinks/recording/avcSps.ts';

describe('H.264 framing for the recording', () => {
  const idr = splitAccessUnits(readFileSync(new URL('../../../../packages/rtms-simulator/fixtures/camera.h264', import.meta.url)))[0]!;

  it('moves the parameter sets of an Annex B IDR to the decoder record and length-prefixes the picture, bytes unchanged', () => {
    const sample = toLengthPrefixed(idr)!;
    expect((sample.sps?.[0] ?? 0) & 0x1f).toBe(7);
    expect((sample.pps?.[0] ?? 0) & 0x1f).toBe(8);
    const picture = annexBNalUnits(idr).filter((unit) => ![7, 8, 9].includes(unit[0]! & 0x1f));
    const expected = Buffer.concat(
      picture.flatMap((unit) => [Buffer.from([unit.length >>> 24, (unit.length >> 16) & 255, (unit.length >> 8) & 255, unit.length & 255]), Buffer.from(unit)]),
    );
    expect(Buffer.from(sample.data).equals(expected)).toBe(true);
    const record = avcDecoderConfigurationRecord(sample.sps!, sample.pps!);
    expect([...record.subarray(0, 6)]).toEqual([1, sample.sps![1], sample.sps![2], sample.sps![3], 0xff, 0xe1]);
    expect(avcCodecString(sample.sps!)).toMatch(/^avc1\.[0-9a-f]{6}$/);
  });

  it("reads the picture size from the stand-in's SPS (160x90, cropped from 96 lines)", () => {
    expect(avcPictureSize(toLengthPrefixed(idr)!.sps!)).toEqual({ width: 160, height: 90 });
  });

  it('gives nothing for an access unit with no picture, and no size for a truncated SPS', () => {
    expect(toLengthPrefixed(Buffer.from([0, 0, 0, 1, 9, 0xf0]))).toBeUndefined();
    expect(avcPictureSize(Uint8Array.from([0x67, 0x64]))).toBeUndefined();
  });
});
