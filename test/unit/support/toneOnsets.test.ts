import { SYNC_TONE } from 'rtms-simulator';
import { describe, expect, it } from 'vitest';
import { toneOnsets } from '../../support/toneOnsets.ts';

/** Speech-ish clutter (a chord near 1 kHz and noise), with the stand-in's bursts at `onsets`. */
function signal(rateHz: number, seconds: number, onsets: readonly number[], amplitude: number = SYNC_TONE.amplitude): Int16Array {
  const samples = new Int16Array(rateHz * seconds);
  let seed = 12345;
  const noise = (): number => {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    return seed / 2 ** 31 - 0.5;
  };
  for (let i = 0; i < samples.length; i += 1) {
    const t = i / rateHz;
    const chord = Math.sin(2 * Math.PI * 800 * t) + Math.sin(2 * Math.PI * 1000 * t) + Math.sin(2 * Math.PI * 1250 * t);
    samples[i] = Math.round(3000 * chord + 2000 * noise());
  }
  const guard = (SYNC_TONE.guardMs * rateHz) / 1000;
  const tone = (SYNC_TONE.ms * rateHz) / 1000;
  for (const onset of onsets) {
    for (let i = -guard; i < tone + guard; i += 1) {
      samples[onset + i] = i >= 0 && i < tone ? Math.round(amplitude * Math.cos((2 * Math.PI * SYNC_TONE.hz * i) / rateHz)) : 0;
    }
  }
  return samples;
}

describe('toneOnsets', () => {
  it.each([8000, 16_000, 44_100, 48_000])('finds every burst at its exact first sample at %i Hz, and nothing in the clutter', (rateHz) => {
    const onsets = [Math.round(rateHz * 0.5) + 3, Math.round(rateHz * 1.5) + 17, Math.round(rateHz * 2.25)];
    expect(toneOnsets(signal(rateHz, 3, onsets), rateHz)).toEqual(onsets);
  });

  it('finds nothing without bursts, and ignores bursts quieter than minAmplitude', () => {
    expect(toneOnsets(signal(16_000, 2, []), 16_000)).toEqual([]);
    expect(toneOnsets(signal(16_000, 2, [8000], 1000), 16_000)).toEqual([]);
    expect(toneOnsets(signal(16_000, 2, [8000], 1000), 16_000, { minAmplitude: 500 })).toEqual([8000]);
  });

  it('ignores a burst at another frequency and one shorter than minBurstMs', () => {
    const samples = new Int16Array(16_000);
    for (let i = 1000; i < 2600; i += 1) samples[i] = Math.round(16_000 * Math.cos((2 * Math.PI * 700 * (i - 1000)) / 16_000));
    for (let i = 8000; i < 8480; i += 1) samples[i] = Math.round(16_000 * Math.cos((2 * Math.PI * 1000 * (i - 8000)) / 16_000));
    expect(toneOnsets(samples, 16_000)).toEqual([]);
    expect(toneOnsets(samples, 16_000, { minBurstMs: 20 })).toEqual([8000]);
    expect(toneOnsets(samples, 16_000, { toneHz: 700 })).toEqual([1000]);
  });
});
