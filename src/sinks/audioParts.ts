import { join } from 'node:path';
import { AudioTimeline, MAX_SPEAKERS } from '../media/audioTimeline.ts';
import type { Frame, MediaFormats } from '../vocabulary/frame.ts';
import { WAV_MAX_DATA_BYTES, WavWriter, type WavWriterOptions } from '../media/wavWriter.ts';
import { fileSafeId } from './fileSafeId.ts';
import { SpeakerFiles } from './speakerFiles.ts';
import { freePartName } from './streamDirectory.ts';

type AudioFormat = MediaFormats['audio'];

/**
 * Memory a part being finalized holds beyond its pending data (writer, queue, the 4 KiB
 * staging buffer its frames were copied into), counted in the sink's buffer: 20,000 new
 * speakers at once must push back on the socket, not cost 20,000 × 7 KB unaccounted.
 */
export const RETIRING_PART_BYTES = 8 * 1024;

export interface AudioPartsOptions {
  readonly directory: string;
  /** Data bytes per part before the next one starts (at most the 4 GiB RIFF limit). */
  readonly maxWavDataBytes: number;
  /** Pad gaps where Zoom sent nothing with silence. */
  readonly fillAudioGaps: boolean;
  /** Writes each WAV's time index, `<name>.index.jsonl` (frameIndex.ts). */
  readonly index?: boolean | undefined;
  /** Per-speaker WAVs open at once; undefined: unbounded. */
  readonly maxOpenSpeakerFiles?: number | undefined;
  /** A speaker's WAV was closed early to respect `maxOpenSpeakerFiles`. */
  readonly onSpeakerFileClosedEarly?: (() => void) | undefined;
  /** Names in use in the stream directory (a new part never takes one). */
  readonly taken: ReadonlySet<string>;
  /** How the new WAV `name` reports its failures. */
  readonly callbacks: (name: string) => Pick<WavWriterOptions, 'onError' | 'onRetry'>;
  /** A new part was opened; `detach` makes the next frame open another (its file was lost). */
  readonly register: (name: string, writer: WavWriter, detach: () => void) => void;
  /** A part closed before the stream ends is finalized (its counts are final). */
  readonly finished?: ((writer: WavWriter) => void) | undefined;
}

/**
 * The WAV files of one stream: one per speaker (Zoom's user 0 = the mixed `audio.wav`), and a
 * new part (`audio.part2.wav`, …) when the format changes, a part is full, a file of that name
 * exists (an earlier run's, or a lost part's), or the current part was lost.
 */
export class AudioParts {
  readonly #options: AudioPartsOptions;
  /** Set when gaps are padded with silence. */
  readonly #timeline: AudioTimeline | undefined;
  /** Current WAV per speaker (key null = mixed) and its `rate/channels`. */
  readonly #current = new Map<string | null, { readonly format: string; readonly writer: WavWriter }>();
  /** Parts being finalized after a roll-over, or closed to bound descriptors. */
  readonly #retiring = new Set<Promise<void>>();
  /** Bounds the per-speaker WAVs holding a descriptor; undefined: unbounded. */
  readonly #speakerFiles: SpeakerFiles | undefined;

  constructor(options: AudioPartsOptions) {
    this.#options = options;
    // A speaker this timeline forgets must have no open file left, or a new part's leading
    // silence could land in an old one: it outlives the open files (and the mixed user 0).
    const open = options.maxOpenSpeakerFiles;
    const maxSpeakers = open === undefined ? Number.MAX_SAFE_INTEGER : Math.max(MAX_SPEAKERS, open + 1);
    this.#timeline = options.fillAudioGaps ? new AudioTimeline(maxSpeakers) : undefined;
    this.#speakerFiles = options.maxOpenSpeakerFiles === undefined ? undefined : new SpeakerFiles(options.maxOpenSpeakerFiles);
  }

  /** False for a speaker file closed to bound descriptors: its close queue writes it out. */
  mayFlush(writer: object): boolean {
    return this.#speakerFiles?.mayFlush(writer) ?? true;
  }

  /** Whether `writer` waits in the close queue: its close belongs to the queue. */
  isRetiring(writer: object): boolean {
    return this.#speakerFiles?.isRetiring(writer) ?? false;
  }

  /**
   * Queues the frame (after silence for a gap, when gaps are filled) and reports the writer's
   * pending growth; false before the audio format is known.
   */
  append(frame: Frame, audio: AudioFormat | undefined, pendingGrew: (writer: WavWriter, before: number) => void): boolean {
    if (audio === undefined) return false;
    const writer = this.#writer(frame.userId, audio, frame.data.length);
    const before = writer.pendingBytes;
    const gapMs = this.#gapMs(frame, audio);
    if (gapMs > 0 && writer.remainingBytes >= frame.data.length + writer.byteRate * (gapMs / 1000)) writer.appendSilence(gapMs);
    writer.append(frame.data, frame);
    pendingGrew(writer, before);
    return true;
  }

  /** Parts being finalized in the background (each holds memory until it is). */
  get retiring(): number {
    return this.#retiring.size;
  }

  /** Waits for parts finalized in the background. */
  async settle(): Promise<void> {
    await Promise.all(this.#retiring);
  }

  /** Milliseconds of silence to pad before this frame, when gaps are filled. */
  #gapMs(frame: Frame, audio: AudioFormat): number {
    if (this.#timeline === undefined) return 0;
    const durationMs = (frame.data.length / (audio.sampleRateHz * audio.channels * 2)) * 1000;
    // Arrival times bound the gap: a step of Zoom's clock never becomes hours of silence.
    const placement = this.#timeline.place(frame.userId, frame.timestamp, durationMs, frame.receivedAt);
    return placement.duplicate ? 0 : placement.gapMs;
  }

  #writer(userId: string, audio: AudioFormat, bytes: number): WavWriter {
    // Zoom's mixed stream is user 0; any identified speaker or Contact Center channel gets its
    // own file whatever mode was asked for, so two parties can never interleave in one WAV.
    const key = userId === '0' ? null : userId;
    const format = `${audio.sampleRateHz}/${audio.channels}`;
    const slot = this.#current.get(key);
    if (slot !== undefined && slot.format === format && slot.writer.remainingBytes >= bytes) {
      if (key !== null) this.#speakerFiles?.written(key);
      return slot.writer;
    }
    if (slot !== undefined) this.#retire(slot.writer);
    if (key !== null) this.#closeIdleSpeakerFiles(key);
    // A WAV from an earlier run (or a lost part) cannot be continued blindly and is never overwritten.
    const { directory } = this.#options;
    const name = freePartName(directory, this.#options.taken, `${key === null ? 'audio' : `audio-${fileSafeId(key)}`}.wav`);
    const writer = new WavWriter({
      path: join(directory, name),
      sampleRateHz: audio.sampleRateHz,
      channels: audio.channels,
      // A frame larger than a whole part is still written rather than lost.
      maxDataBytes: Math.min(WAV_MAX_DATA_BYTES, Math.max(this.#options.maxWavDataBytes, bytes)),
      index: this.#options.index,
      ...this.#options.callbacks(name),
    });
    this.#current.set(key, { format, writer });
    this.#options.register(name, writer, () => {
      if (this.#current.get(key)?.writer === writer) this.#current.delete(key);
    });
    return writer;
  }

  /** Makes room for `speaker`'s new WAV: closes those written longest ago past the bound. */
  #closeIdleSpeakerFiles(speaker: string): void {
    const speakerFiles = this.#speakerFiles;
    if (speakerFiles === undefined) return;
    for (const idle of speakerFiles.opening(speaker)) {
      const slot = this.#current.get(idle);
      if (slot === undefined) continue;
      this.#current.delete(idle);
      const closing: Promise<void> = speakerFiles
        .retire(slot.writer)
        .then(() => this.#options.finished?.(slot.writer))
        .finally(() => this.#retiring.delete(closing));
      this.#retiring.add(closing);
      this.#options.onSpeakerFileClosedEarly?.();
    }
  }

  /** Finalizes a part in the background; `settle()` waits for it. */
  #retire(writer: WavWriter): void {
    const closing = writer
      .close()
      .then(() => this.#options.finished?.(writer))
      .finally(() => this.#retiring.delete(closing));
    this.#retiring.add(closing);
  }
}
