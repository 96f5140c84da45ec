import { Prng, deriveSeed } from './prng.ts';

/**
 * A tiny source-filter speech synthesiser. Each voice has a bank of pre-rendered syllables
 * (a consonant onset, a vowel with a pitch contour, an amplitude envelope) at a few pitch
 * levels; utterances are sequences of bank entries, so producing audio for thousands of
 * streams is copying and adding, not synthesis. Banks are cached per (voice, sample rate)
 * and shared by every stream of the process.
 *
 * Model per syllable: a raised-cosine glottal pulse train at f0 (with a rising or falling
 * contour and slight vibrato), differentiated for lip radiation, through three cascaded
 * two-pole formant resonators that glide from a consonant locus to the vowel target; plus
 * a noise burst (plosive) or frication (fricative) onset. Output is s16 mono.
 */

interface VoiceProfile {
  /** Base fundamental frequency, Hz. */
  readonly f0: number;
  /** Formant scale relative to an adult male vocal tract. */
  readonly formantScale: number;
}

const VOICES: readonly VoiceProfile[] = [
  { f0: 105, formantScale: 1 },
  { f0: 122, formantScale: 1.02 },
  { f0: 140, formantScale: 1.05 },
  { f0: 185, formantScale: 1.12 },
  { f0: 210, formantScale: 1.16 },
  { f0: 235, formantScale: 1.2 },
];

/** Number of distinct voices; participants are assigned one each (round robin). */
export const VOICE_COUNT = VOICES.length;

type Onset = 'none' | 'plosive' | 'fricative' | 'nasal';

/** Vowel formant targets F1, F2, F3 (Hz, adult male). */
const VOWELS = {
  a: [730, 1090, 2440],
  e: [530, 1840, 2480],
  i: [270, 2290, 3010],
  o: [570, 840, 2410],
  u: [300, 870, 2240],
  schwa: [500, 1500, 2500],
} as const;

interface SyllableShape {
  readonly onset: Onset;
  readonly vowel: keyof typeof VOWELS;
  /** Length of the rendered syllable, ms. */
  readonly durationMs: number;
  /** Pitch movement over the syllable: +1 rising, -1 falling. */
  readonly contour: 1 | -1;
}

/** The syllable inventory; the conversation picks shapes by index and uses `durationMs` for timing. */
export const SYLLABLE_SHAPES: readonly SyllableShape[] = [
  { onset: 'plosive', vowel: 'a', durationMs: 180, contour: -1 },
  { onset: 'fricative', vowel: 'e', durationMs: 200, contour: 1 },
  { onset: 'nasal', vowel: 'i', durationMs: 160, contour: -1 },
  { onset: 'none', vowel: 'o', durationMs: 150, contour: 1 },
  { onset: 'plosive', vowel: 'u', durationMs: 170, contour: -1 },
  { onset: 'fricative', vowel: 'schwa', durationMs: 140, contour: -1 },
  { onset: 'nasal', vowel: 'a', durationMs: 220, contour: 1 },
  { onset: 'plosive', vowel: 'i', durationMs: 150, contour: 1 },
  { onset: 'none', vowel: 'e', durationMs: 190, contour: -1 },
  { onset: 'fricative', vowel: 'o', durationMs: 240, contour: -1 },
  { onset: 'nasal', vowel: 'schwa', durationMs: 130, contour: 1 },
  { onset: 'plosive', vowel: 'e', durationMs: 210, contour: -1 },
];

/** Pitch levels per shape (low, mid, high): utterances start high and fall (declination). */
export const PITCH_LEVELS = 3;
const PITCH_FACTORS = [0.88, 1, 1.14] as const;

/** Peak of a rendered syllable, in s16 units (leaves headroom for mixing three voices). */
const PEAK = 9000;

/** Pre-rendered syllables of one voice at one sample rate, indexed `shape * PITCH_LEVELS + pitch`. */
export type SyllableBank = readonly Int16Array[];

const BANK_CACHE_LIMIT = 32;
const bankCache = new Map<string, SyllableBank>();

/** The bank for a voice at a sample rate; built on first use (a few ms) and cached. */
export function syllableBank(voice: number, sampleRateHz: number): SyllableBank {
  const key = `${voice}:${sampleRateHz}`;
  const hit = bankCache.get(key);
  if (hit !== undefined) return hit;
  const profile = VOICES[((voice % VOICE_COUNT) + VOICE_COUNT) % VOICE_COUNT] as VoiceProfile;
  const bank: Int16Array[] = [];
  SYLLABLE_SHAPES.forEach((shape, shapeIndex) => {
    for (let pitch = 0; pitch < PITCH_LEVELS; pitch += 1) {
      bank.push(renderSyllable({ profile, shape, pitch, sampleRateHz, seed: deriveSeed(0x5eed, voice, shapeIndex, pitch) }));
    }
  });
  if (bankCache.size >= BANK_CACHE_LIMIT) {
    const oldest = bankCache.keys().next().value;
    if (oldest !== undefined) bankCache.delete(oldest);
  }
  bankCache.set(key, bank);
  return bank;
}

/** Sample count of a syllable shape at a sample rate (what `syllableBank` renders). */
export function syllableLength(shape: number, sampleRateHz: number): number {
  const durationMs = SYLLABLE_SHAPES[shape]?.durationMs ?? 0;
  return Math.round((durationMs * sampleRateHz) / 1000);
}

class Resonator {
  #y1 = 0;
  #y2 = 0;
  #a1 = 0;
  #a2 = 0;
  #gain = 1;

  set(frequencyHz: number, bandwidthHz: number, sampleRateHz: number): void {
    const r = Math.exp((-Math.PI * bandwidthHz) / sampleRateHz);
    const theta = (2 * Math.PI * frequencyHz) / sampleRateHz;
    this.#a1 = 2 * r * Math.cos(theta);
    this.#a2 = -r * r;
    // Unity gain at DC keeps the cascade's level roughly independent of the formant.
    this.#gain = 1 - this.#a1 - this.#a2;
  }

  process(x: number): number {
    const y = this.#gain * x + this.#a1 * this.#y1 + this.#a2 * this.#y2;
    this.#y2 = this.#y1;
    this.#y1 = y;
    return y;
  }
}

function renderSyllable(options: { profile: VoiceProfile; shape: SyllableShape; pitch: number; sampleRateHz: number; seed: number }): Int16Array {
  const { profile, shape, sampleRateHz: rate } = options;
  const prng = new Prng(options.seed);
  const n = Math.round((shape.durationMs * rate) / 1000);
  const voiced = new Float32Array(n);
  const noise = new Float32Array(n);
  const nyquist = rate / 2;

  const onsetMs = shape.onset === 'plosive' ? 25 : shape.onset === 'fricative' ? 60 : 0;
  const voiceStart = Math.round((onsetMs * rate) / 1000);
  const target = VOWELS[shape.vowel].map((f) => f * profile.formantScale);
  const locus =
    shape.onset === 'nasal' ? [250, 1100, 2300] : shape.onset === 'plosive' ? [300, 1800, 2600] : shape.onset === 'fricative' ? [400, 1600, 2600] : target;
  const bandwidths = [80, 110, 160];
  const resonators = [new Resonator(), new Resonator(), new Resonator()];
  const glideSamples = Math.max(1, Math.round((50 * rate) / 1000));
  const f0Base = profile.f0 * (PITCH_FACTORS[options.pitch] ?? 1);

  let phase = 0;
  let previousPulse = 0;
  for (let i = voiceStart; i < n; i += 1) {
    const voicedIndex = i - voiceStart;
    if (voicedIndex % 16 === 0) {
      const glide = Math.min(1, voicedIndex / glideSamples);
      for (let k = 0; k < 3; k += 1) {
        const frequency = (locus[k] ?? 0) + ((target[k] ?? 0) - (locus[k] ?? 0)) * glide;
        // Formants above ~90 % of Nyquist alias at 8 kHz; park them safely below.
        (resonators[k] as Resonator).set(Math.min(frequency, nyquist * 0.9), bandwidths[k] ?? 100, rate);
      }
    }
    const t = i / n;
    const vibrato = 1 + 0.012 * Math.sin((2 * Math.PI * 5.5 * i) / rate);
    const f0 = f0Base * (1 + 0.09 * shape.contour * (t - 0.5)) * vibrato;
    phase += f0 / rate;
    if (phase >= 1) phase -= 1;
    const pulse = phase < 0.6 ? 0.5 - 0.5 * Math.cos((2 * Math.PI * phase) / 0.6) : 0;
    let source = (pulse - previousPulse) * 8 + 0.03 * (prng.next() - 0.5) * pulse;
    previousPulse = pulse;
    for (const resonator of resonators) source = resonator.process(source);
    voiced[i] = source;
  }

  // Consonant noise: a short burst for plosives, a longer hiss for fricatives; first
  // difference of white noise tilts it towards the high frequencies where consonants live.
  if (shape.onset === 'plosive' || shape.onset === 'fricative') {
    const from = Math.round(((shape.onset === 'plosive' ? 8 : 0) * rate) / 1000);
    const to = Math.min(n, Math.round(((shape.onset === 'plosive' ? 20 : 70) * rate) / 1000));
    let previous = 0;
    for (let i = from; i < to; i += 1) {
      const white = prng.next() * 2 - 1;
      const envelope = Math.sin((Math.PI * (i - from)) / Math.max(1, to - from));
      noise[i] = (white - previous) * envelope;
      previous = white;
    }
  }

  // Amplitude envelope of the voiced part: raised-cosine attack and release.
  const attack = Math.max(1, Math.round((20 * rate) / 1000));
  const release = Math.max(1, Math.round((50 * rate) / 1000));
  let voicedPeak = 1e-9;
  for (let i = voiceStart; i < n; i += 1) {
    const fromStart = i - voiceStart;
    const fromEnd = n - 1 - i;
    let envelope = 1;
    if (fromStart < attack) envelope = 0.5 - 0.5 * Math.cos((Math.PI * fromStart) / attack);
    if (fromEnd < release) envelope *= 0.5 - 0.5 * Math.cos((Math.PI * fromEnd) / release);
    if (shape.onset === 'nasal' && fromStart < release) envelope *= 0.4 + (0.6 * fromStart) / release;
    const value = (voiced[i] ?? 0) * envelope;
    voiced[i] = value;
    voicedPeak = Math.max(voicedPeak, Math.abs(value));
  }

  const out = new Int16Array(n);
  const noiseLevel = shape.onset === 'plosive' ? 0.45 : 0.25;
  for (let i = 0; i < n; i += 1) {
    const value = ((voiced[i] ?? 0) / voicedPeak + (noise[i] ?? 0) * noiseLevel) * PEAK;
    out[i] = Math.max(-32768, Math.min(32767, Math.round(value)));
  }
  return out;
}
