import { describe, expect, it } from 'vitest';
import { SimulatorError } from '../../src/simulatorErrors.ts';
import { ArgsError, USAGE, parseSimulatorArgs } from '../../src/simulatorArgs.ts';
import { SYNC_TONE, isMarkSlot, markPacket, marksOverlapping, resolveSyncMarks } from '../../src/syncMarks.ts';

const MARKS = { everyMs: 1000 } as const;

describe('sync marks', () => {
  it('validates everyMs: a multiple of 20, at least 500; false and undefined mean none', () => {
    expect(resolveSyncMarks({ everyMs: 500 })).toEqual({ everyMs: 500 });
    expect(resolveSyncMarks(undefined)).toBeUndefined();
    expect(resolveSyncMarks(false)).toBeUndefined();
    for (const everyMs of [480, 1010, 1000.5, Number.NaN]) expect(() => resolveSyncMarks({ everyMs })).toThrow(SimulatorError);
  });

  it('marks the picture slot at the mark instant, one per mark, for any whole fps dividing it', () => {
    for (const fps of [1, 5, 15, 25, 30]) {
      const slots = Array.from({ length: fps * 5 + 1 }, (_, slot) => slot).filter((slot) => isMarkSlot(MARKS, slot, fps));
      expect(slots.map((slot) => (slot * 1000) / fps)).toEqual([1000, 2000, 3000, 4000, 5000]);
    }
  });

  it('marks the first slot after the instant when the frame grid misses it', () => {
    // 7 fps: slots every 142.857 ms; 1000 ms is slot 7 exactly, 1500 ms falls between slots 10 and 11.
    const slots = Array.from({ length: 30 }, (_, slot) => slot).filter((slot) => isMarkSlot({ everyMs: 500 }, slot, 7));
    expect(slots).toEqual([4, 7, 11, 14, 18, 21, 25, 28]);
  });

  it('finds every mark window a packet overlaps, long packets included', () => {
    expect(marksOverlapping(MARKS, 0, 20)).toEqual([]);
    expect(marksOverlapping(MARKS, 940, 20)).toEqual([1000]);
    expect(marksOverlapping(MARKS, 920, 20)).toEqual([]);
    expect(marksOverlapping(MARKS, 1140, 20)).toEqual([1000]);
    expect(marksOverlapping(MARKS, 1160, 20)).toEqual([]);
    expect(marksOverlapping({ everyMs: 500 }, 400, 1000)).toEqual([500, 1000]);
    expect(marksOverlapping({ everyMs: 500 }, 400, 1060)).toEqual([500, 1000, 1500]);
  });

  it('writes silence, the tone from its peak, silence, and reports the onset only in the packet holding it', () => {
    const format = { sampleRateHz: 16_000, channels: 2 } as const;
    const packets = [940, 960, 980, 1000, 1020].map((from) => ({ from, pcm: Buffer.alloc(640 * 2, 0x11) }));
    const onsets = packets.map(({ from, pcm }) => markPacket(MARKS, pcm, from, 20, format, 'carrier'));
    expect(onsets).toEqual([[], [], [], [{ markMs: 1000, byteOffset: 0 }], []]);
    const all = Buffer.concat(packets.map(({ pcm }) => pcm));
    // 940-950 ms untouched, 950-1000 ms silent, then the tone (both channels).
    expect(all.readInt16LE(0)).toBe(0x1111);
    expect(all.readInt16LE(10 * 16 * 4 - 2)).toBe(0x1111);
    expect(all.subarray(10 * 16 * 4, 60 * 16 * 4).every((byte) => byte === 0)).toBe(true);
    expect(all.readInt16LE(60 * 16 * 4)).toBe(SYNC_TONE.amplitude);
    expect(all.readInt16LE(60 * 16 * 4 + 2)).toBe(SYNC_TONE.amplitude);
    expect(all.readInt16LE(60 * 16 * 4 + 8 * 4)).toBe(-SYNC_TONE.amplitude);
    const muted = Buffer.alloc(640 * 2, 0x11);
    expect(markPacket(MARKS, muted, 1000, 20, format, 'muted')).toEqual([]);
    expect(muted.every((byte) => byte === 0)).toBe(true);
  });

  it('places the onset mid-packet for longer send rates', () => {
    const pcm = Buffer.alloc(16 * 2 * 100);
    expect(markPacket(MARKS, pcm, 960, 100, { sampleRateHz: 16_000, channels: 1 }, 'carrier')).toEqual([{ markMs: 1000, byteOffset: 40 * 16 * 2 }]);
    expect(pcm.readInt16LE(40 * 16 * 2)).toBe(SYNC_TONE.amplitude);
    expect(pcm.readInt16LE(40 * 16 * 2 - 2)).toBe(0);
  });

  it('--sync-marks MS sets the period; refuses other values; --help documents it', () => {
    const url = ['--webhook-url', 'http://127.0.0.1:8080/webhook'];
    expect(parseSimulatorArgs(url).syncMarksEveryMs).toBeUndefined();
    expect(parseSimulatorArgs([...url, '--sync-marks', '2000']).syncMarksEveryMs).toBe(2000);
    for (const value of ['490', '1010', 'often']) expect(() => parseSimulatorArgs([...url, '--sync-marks', value])).toThrow(ArgsError);
    expect(USAGE).toContain('--sync-marks MS');
  });
});
