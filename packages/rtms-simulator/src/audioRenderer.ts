import { endianness } from 'node:os';
import type { Conversation, Utterance } from './conversation.ts';
import type { SimParticipant } from './participants.ts';
import { PITCH_LEVELS, syllableBank } from './speechSynth.ts';

/** PCM layout of rendered packets: L16 (s16le), interleaved when stereo. */
export interface AudioFormat {
  readonly sampleRateHz: number;
  readonly channels: 1 | 2;
}

export interface SpeakerPacket {
  readonly participant: SimParticipant;
  readonly data: Buffer;
}

/** Zoom's multi-stream mode carries at most three speakers per interval (docs/protocol.md#media-parameters). */
export const MAX_SPEAKERS_PER_PACKET = 3;

const LITTLE_ENDIAN = endianness() === 'LE';

/**
 * Turns the conversation script into L16 packets: the mix of everyone (mixed mode, user 0)
 * or one packet per participant who is talking (multi-stream mode). Stateless apart from
 * the shared script, so any interval can be rendered in any order.
 */
export class AudioRenderer {
  readonly #participants: readonly SimParticipant[];
  readonly #conversation: Conversation;

  constructor(options: { participants: readonly SimParticipant[]; conversation: Conversation }) {
    this.#participants = options.participants;
    this.#conversation = options.conversation;
  }

  /** Everyone summed (clipped), [fromMs, fromMs + durationMs); silence when nobody talks. */
  mixed(fromMs: number, durationMs: number, format: AudioFormat): Buffer {
    const n = sampleCount(durationMs, format.sampleRateHz);
    const utterances = this.#conversation.utterancesBetween(fromMs, fromMs + durationMs);
    // Nobody talking: a zeroed buffer, without the mixing work.
    if (utterances.length === 0) return Buffer.alloc(n * format.channels * 2);
    const left = new Float32Array(n);
    const right = format.channels === 2 ? new Float32Array(n) : undefined;
    const startSample = sampleCount(fromMs, format.sampleRateHz);
    for (const utterance of utterances) {
      const participant = this.#participants[utterance.speaker];
      if (participant === undefined) continue;
      if (right === undefined) {
        accumulate(left, utterance, participant, startSample, format.sampleRateHz, participant.gain);
      } else {
        const pan = participant.pan;
        accumulate(left, utterance, participant, startSample, format.sampleRateHz, participant.gain * (pan > 0 ? 1 - pan : 1));
        accumulate(right, utterance, participant, startSample, format.sampleRateHz, participant.gain * (pan < 0 ? 1 + pan : 1));
      }
    }
    return toPcm(left, right ?? left, format.channels);
  }

  /** One packet per participant talking in the interval (at most three, earliest first). */
  perSpeaker(fromMs: number, durationMs: number, format: AudioFormat): SpeakerPacket[] {
    const utterances = this.#conversation.utterancesBetween(fromMs, fromMs + durationMs);
    const speakers: number[] = [];
    for (const utterance of utterances) {
      if (!speakers.includes(utterance.speaker)) speakers.push(utterance.speaker);
    }
    const packets: SpeakerPacket[] = [];
    for (const speaker of speakers.slice(0, MAX_SPEAKERS_PER_PACKET)) {
      const participant = this.#participants[speaker];
      if (participant !== undefined) packets.push({ participant, data: this.#voice(participant, utterances, fromMs, durationMs, format) });
    }
    return packets;
  }

  /**
   * Contact Center: one packet per call leg (SIP channel) every interval, silence included,
   * whatever `data_opt` asked for: parties are told apart by `channel_id`, never mixed into
   * one packet (evidence in README.md#fidelity-and-evidence).
   */
  perChannel(fromMs: number, durationMs: number, format: AudioFormat): SpeakerPacket[] {
    const utterances = this.#conversation.utterancesBetween(fromMs, fromMs + durationMs);
    return this.#participants.map((participant) => ({ participant, data: this.#voice(participant, utterances, fromMs, durationMs, format) }));
  }

  /** One participant's own voice over the interval (silence when they do not talk). */
  #voice(participant: SimParticipant, utterances: readonly Utterance[], fromMs: number, durationMs: number, format: AudioFormat): Buffer {
    const n = sampleCount(durationMs, format.sampleRateHz);
    const mono = new Float32Array(n);
    const startSample = sampleCount(fromMs, format.sampleRateHz);
    for (const utterance of utterances) {
      if (utterance.speaker === participant.index) accumulate(mono, utterance, participant, startSample, format.sampleRateHz, participant.gain);
    }
    return toPcm(mono, mono, format.channels);
  }
}

/** Samples per channel in `ms` at `rateHz` (exact for multiples of 20 ms at Zoom's rates). */
export function sampleCount(ms: number, rateHz: number): number {
  return Math.round((ms * rateHz) / 1000);
}

function accumulate(target: Float32Array, utterance: Utterance, participant: SimParticipant, startSample: number, rateHz: number, gain: number): void {
  const bank = syllableBank(participant.voice, rateHz);
  const endSample = startSample + target.length;
  for (const syllable of utterance.syllables) {
    const wave = bank[syllable.shape * PITCH_LEVELS + syllable.pitch];
    if (wave === undefined) continue;
    const s0 = sampleCount(utterance.startMs + syllable.offsetMs, rateHz);
    const from = Math.max(s0, startSample);
    const to = Math.min(s0 + wave.length, endSample);
    const targetOffset = startSample;
    for (let i = from; i < to; i += 1) {
      // Indices are in range by construction of from/to; typed arrays make `!` safe here.
      target[i - targetOffset]! += wave[i - s0]! * gain;
    }
  }
}

function toPcm(left: Float32Array, right: Float32Array, channels: 1 | 2): Buffer {
  const n = left.length;
  const samples = new Int16Array(n * channels);
  if (channels === 1) {
    for (let i = 0; i < n; i += 1) samples[i] = clip(left[i]!);
  } else {
    for (let i = 0; i < n; i += 1) {
      samples[2 * i] = clip(left[i]!);
      samples[2 * i + 1] = clip(right[i]!);
    }
  }
  const pcm = Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength);
  // L16 on the wire is little-endian whatever the host is.
  if (!LITTLE_ENDIAN) pcm.swap16();
  return pcm;
}

function clip(value: number): number {
  // Truncation instead of rounding: inaudible, and markedly cheaper in this hot loop.
  return value > 32767 ? 32767 : value < -32768 ? -32768 : value | 0;
}
