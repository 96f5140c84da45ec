import { type AudioFormat, sampleCount } from './audioRenderer.ts';
import { SimulatorError } from './simulatorErrors.ts';

/**
 * Sync marks (README.md, "Sync marks"): at media times everyMs, 2 x everyMs, ... the audio
 * becomes a tone burst and every picture track shows a flat white picture with the same
 * Zoom timestamp, so a test can measure the audio-video offset of a recording made from the
 * stream. Everything here is ordinary media: L16 samples and fixture pictures.
 */

/** `syncMarks` option of the simulator and of `startStream()`. */
export interface SyncMarksOptions {
  /** Period of the marks in media time, ms: a multiple of 20, at least 500. The first mark is at `everyMs`. */
  readonly everyMs: number;
}

/** The burst every mark plays; a measuring tool looks for this. */
export const SYNC_TONE = {
  /** Tone frequency, Hz. */
  hz: 1000,
  /** Tone length, ms. */
  ms: 100,
  /** Peak amplitude of the tone, s16 (about -6 dBFS). */
  amplitude: 16_000,
  /** Silence before and after the tone, ms, so its onset stands out from speech. */
  guardMs: 50,
} as const;

/** Validates the option; undefined when marks are off. Throws `SimulatorError('INVALID_OPTION')`. */
export function resolveSyncMarks(options: SyncMarksOptions | false | undefined): SyncMarksOptions | undefined {
  if (options === undefined || options === false) return undefined;
  const everyMs = options.everyMs;
  if (!Number.isInteger(everyMs) || everyMs < 500 || everyMs % 20 !== 0) {
    throw new SimulatorError('INVALID_OPTION', `syncMarks.everyMs must be a multiple of 20 and at least 500, got ${String(everyMs)}`);
  }
  return { everyMs };
}

/**
 * Whether picture slot `slot` of a track at `fps` shows a mark: the first slot at or after a
 * mark instant. When everyMs is a multiple of the frame interval (any multiple of 1000 for
 * whole fps), that slot's time is the mark instant itself.
 */
export function isMarkSlot(marks: SyncMarksOptions, slot: number, fps: number): boolean {
  if (slot <= 0) return false;
  // Integer form of: previous slot time < k * everyMs <= slot time, for some k >= 1.
  const k = Math.floor((slot * 1000) / (fps * marks.everyMs));
  const markTimesFps = k * marks.everyMs * fps;
  return k >= 1 && markTimesFps <= slot * 1000 && markTimesFps > (slot - 1) * 1000;
}

/** How a packet plays the mark: `carrier` gets the tone, `muted` gets silence in the mark window. */
export type MarkRole = 'carrier' | 'muted';

/** A tone onset inside a packet. */
export interface PacketMark {
  /** Media time of the mark, ms. */
  readonly markMs: number;
  /** Offset of the tone's first sample in the packet, bytes. */
  readonly byteOffset: number;
}

/**
 * Writes the mark windows into one L16 packet covering media time [fromMs, fromMs + durationMs),
 * in place. Returns the tone onsets that fall in this packet (carrier only; usually none).
 */
export function markPacket(marks: SyncMarksOptions, pcm: Buffer, fromMs: number, durationMs: number, format: AudioFormat, role: MarkRole): PacketMark[] {
  const onsets: PacketMark[] = [];
  const rate = format.sampleRateHz;
  const frameBytes = 2 * format.channels;
  const packetStart = sampleCount(fromMs, rate);
  const packetEnd = packetStart + pcm.length / frameBytes;
  for (const markMs of marksOverlapping(marks, fromMs, durationMs)) {
    const onset = sampleCount(markMs, rate);
    const toneEnd = sampleCount(markMs + SYNC_TONE.ms, rate);
    const from = Math.max(packetStart, sampleCount(markMs - SYNC_TONE.guardMs, rate));
    const to = Math.min(packetEnd, sampleCount(markMs + SYNC_TONE.ms + SYNC_TONE.guardMs, rate));
    for (let sample = from; sample < to; sample += 1) {
      const inTone = role === 'carrier' && sample >= onset && sample < toneEnd;
      // A cosine starts at its peak: the onset is the first loud sample, exactly.
      const value = inTone ? Math.round(SYNC_TONE.amplitude * Math.cos((2 * Math.PI * SYNC_TONE.hz * (sample - onset)) / rate)) : 0;
      const at = (sample - packetStart) * frameBytes;
      // L16 on the wire is little-endian whatever the host is.
      for (let channel = 0; channel < format.channels; channel += 1) pcm.writeInt16LE(value, at + 2 * channel);
    }
    if (role === 'carrier' && onset >= packetStart && onset < packetEnd) onsets.push({ markMs, byteOffset: (onset - packetStart) * frameBytes });
  }
  return onsets;
}

/** Media times of the marks whose window (guard, tone, guard) overlaps [fromMs, fromMs + durationMs). */
export function marksOverlapping(marks: SyncMarksOptions, fromMs: number, durationMs: number): number[] {
  const before = SYNC_TONE.guardMs;
  const after = SYNC_TONE.ms + SYNC_TONE.guardMs;
  const found: number[] = [];
  for (let k = Math.max(1, Math.floor((fromMs - after) / marks.everyMs)); k * marks.everyMs - before < fromMs + durationMs; k += 1) {
    const markMs = k * marks.everyMs;
    if (markMs + after > fromMs) found.push(markMs);
  }
  return found;
}
