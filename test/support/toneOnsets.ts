/**
 * Finds the onsets of tone bursts (the stand-in's sync marks, packages/rtms-simulator/README.md
 * "Sync marks") in mono s16 samples. Speech is rejected by purity: a block counts as tone only
 * when nearly all its energy is at the tone frequency. The onset is then the first sample, just
 * before the burst, reaching half the burst's amplitude: the exact first sample for the
 * stand-in's PCM (a cosine starting at its peak), within a few samples after lossy coding.
 */

export interface ToneOnsetOptions {
  /** Tone frequency, Hz (default 1000, the stand-in's). */
  readonly toneHz?: number;
  /** Shortest burst counted, ms (default 50; the stand-in's last 100). */
  readonly minBurstMs?: number;
  /** Quietest burst counted: peak amplitude in s16 units (default 2000, about -24 dBFS). */
  readonly minAmplitude?: number;
  /** Share of a block's energy that must lie at the tone frequency (default 0.8). */
  readonly minPurity?: number;
}

/** Analysis block, ms: 5 cycles of a 1 kHz tone. */
const BLOCK_MS = 5;
/** How far before the first tone block the onset is searched, ms. */
const LOOK_BACK_MS = 2 * BLOCK_MS;

/** Sample indices of each burst's first sample, ascending. */
export function toneOnsets(samples: Int16Array, sampleRateHz: number, options: ToneOnsetOptions = {}): number[] {
  const toneHz = options.toneHz ?? 1000;
  const minAmplitude = options.minAmplitude ?? 2000;
  const minPurity = options.minPurity ?? 0.8;
  const block = Math.max(8, Math.round((sampleRateHz * BLOCK_MS) / 1000));
  const minBlocks = Math.ceil((options.minBurstMs ?? 50) / BLOCK_MS);
  const omega = (2 * Math.PI * toneHz) / sampleRateHz;
  const cos = Float64Array.from({ length: block }, (_, i) => Math.cos(omega * i));
  const sin = Float64Array.from({ length: block }, (_, i) => Math.sin(omega * i));
  const blocks = Math.floor(samples.length / block);
  // Amplitude of the tone component per block, or 0 when the block is not tone.
  const amplitude = new Float64Array(blocks);
  for (let b = 0; b < blocks; b += 1) {
    let energy = 0;
    let re = 0;
    let im = 0;
    for (let i = 0; i < block; i += 1) {
      const x = samples[b * block + i] ?? 0;
      energy += x * x;
      re += x * (cos[i] ?? 0);
      im += x * (sin[i] ?? 0);
    }
    const toneEnergy = (2 * (re * re + im * im)) / block;
    const toneAmplitude = (2 * Math.sqrt(re * re + im * im)) / block;
    amplitude[b] = energy > 0 && toneEnergy / energy >= minPurity && toneAmplitude >= minAmplitude ? toneAmplitude : 0;
  }
  const onsets: number[] = [];
  let searchFrom = 0;
  for (let b = 0; b < blocks;) {
    if ((amplitude[b] ?? 0) === 0) {
      b += 1;
      continue;
    }
    let end = b;
    let peak = 0;
    while (end < blocks && (amplitude[end] ?? 0) > 0) {
      peak = Math.max(peak, amplitude[end] ?? 0);
      end += 1;
    }
    if (end - b >= minBlocks) {
      const from = Math.max(searchFrom, b * block - Math.round((sampleRateHz * LOOK_BACK_MS) / 1000));
      let onset = b * block;
      for (let i = from; i < (b + 1) * block; i += 1) {
        if (Math.abs(samples[i] ?? 0) >= peak / 2) {
          onset = i;
          break;
        }
      }
      onsets.push(onset);
    }
    searchFrom = end * block;
    b = end;
  }
  return onsets;
}
