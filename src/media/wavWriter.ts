import { AppendOnlyFile } from './appendOnlyFile.ts';
import { FrameIndex, type FrameStamp } from './frameIndex.ts';
import type { MediaWriter } from './mediaWriter.ts';
import type { WriteStats } from './writeQueue.ts';

/** Bytes of the canonical header written by {@link WavWriter}: RIFF, `fmt ` (16) and `data`. */
export const WAV_HEADER_BYTES = 44;

/**
 * Largest data chunk a RIFF file can describe: the RIFF size field (file size − 8) is a
 * uint32, the header before the data takes 36 of it, and one byte is kept for the pad byte
 * an odd-sized chunk needs. 4 GiB − 38 bytes ≈ 37 h of 16 kHz mono, 6.2 h of 48 kHz stereo.
 */
export const WAV_MAX_DATA_BYTES = 0xffff_ffff - 36 - 1;

export interface WavWriterOptions {
  /** Absolute path; must not exist yet (never overwritten). */
  readonly path: string;
  /** Samples per second per channel, e.g. 16000. */
  readonly sampleRateHz: number;
  /** Interleaved channels, e.g. 1. */
  readonly channels: number;
  /**
   * Most data bytes this file accepts; default and maximum {@link WAV_MAX_DATA_BYTES}.
   * The caller checks {@link WavWriter.remainingBytes} and starts a new file when full.
   */
  readonly maxDataBytes?: number | undefined;
  /** Called once with the first error (open, write, close). Must not throw. */
  readonly onError?: ((error: Error) => void) | undefined;
  /** Called with each error after which the file was cut back and the batch waits for a retry. */
  readonly onRetry?: ((error: Error) => void) | undefined;
  /** Writes `<path>.index.jsonl`, the time index of the frames appended with a stamp (frameIndex.ts). */
  readonly index?: boolean | undefined;
}

const ZEROS = Buffer.alloc(64 * 1024);
const PAD_BYTE = Buffer.alloc(1);

/**
 * 16-bit PCM WAV (format 1), valid at every moment: the 44-byte header is written before any
 * data, rewritten after every flush to describe exactly the data on disk, and finalized on
 * close. The data chunk holds exactly the bytes given, in order: no resampling, no padding
 * except {@link appendSilence} and, on close, the RIFF pad byte after an odd-sized data chunk
 * (not counted in the data size). Odd or partial-sample input is kept as is; it only ever
 * comes from a malformed frame and dropping bytes would hide it.
 *
 * Size limit: a WAV cannot describe more than {@link WAV_MAX_DATA_BYTES} data bytes.
 * `append()` beyond `maxDataBytes` throws a `RangeError`; callers roll over to a new file
 * before that (the file sink starts `<name>.part2.wav`).
 */
export class WavWriter implements MediaWriter {
  readonly #file: AppendOnlyFile;
  readonly #index: FrameIndex | undefined;
  readonly #sampleRateHz: number;
  readonly #channels: number;
  readonly #maxDataBytes: number;
  /** Data bytes appended (queued or written). */
  #dataBytes = 0;
  /** Content offset of the pad byte, once one was appended on close. */
  #padAt: number | undefined;
  #closing: Promise<void> | undefined;

  constructor(options: WavWriterOptions) {
    const { sampleRateHz, channels } = options;
    if (!Number.isInteger(channels) || channels < 1 || channels > 0x7fff) {
      throw new RangeError(`channels must be an integer from 1 to 32767, got ${channels}`);
    }
    // The byte rate (rate × channels × 2) must fit the header's uint32.
    if (!Number.isInteger(sampleRateHz) || sampleRateHz <= 0 || sampleRateHz * channels * 2 > 0xffff_ffff) {
      throw new RangeError(`sampleRateHz must be a positive integer, got ${sampleRateHz}`);
    }
    const maxDataBytes = options.maxDataBytes ?? WAV_MAX_DATA_BYTES;
    if (!Number.isSafeInteger(maxDataBytes) || maxDataBytes < 0 || maxDataBytes > WAV_MAX_DATA_BYTES) {
      throw new RangeError(`maxDataBytes must be an integer from 0 to ${WAV_MAX_DATA_BYTES}, got ${maxDataBytes}`);
    }
    this.#sampleRateHz = sampleRateHz;
    this.#channels = channels;
    this.#maxDataBytes = maxDataBytes;
    const index =
      options.index === true ? new FrameIndex({ path: `${options.path}.index.jsonl`, baseOffset: WAV_HEADER_BYTES, byteRate: this.byteRate }) : undefined;
    this.#index = index;
    this.#file = new AppendOnlyFile({
      path: options.path,
      header: { bytes: WAV_HEADER_BYTES, render: (contentBytes) => this.#header(contentBytes) },
      onError: (error) => {
        // Nothing more reaches the file, so nothing more is indexed.
        index?.discard(0);
        options.onError?.(error);
      },
      onRetry: options.onRetry,
      companion: index,
    });
  }

  get path(): string {
    return this.#file.path;
  }
  get sampleRateHz(): number {
    return this.#sampleRateHz;
  }
  get channels(): number {
    return this.#channels;
  }
  /** Bytes per second of audio: rate × channels × 2. */
  get byteRate(): number {
    return this.#sampleRateHz * this.#channels * 2;
  }
  /** Data bytes appended so far (written or pending), silence included. */
  get dataBytes(): number {
    return this.#dataBytes;
  }
  /** Data bytes this file can still take before `maxDataBytes`. */
  get remainingBytes(): number {
    return this.#maxDataBytes - this.#dataBytes;
  }
  /** Accounted bytes not yet on disk, and the index records waiting with them. */
  get pendingBytes(): number {
    return this.#file.pendingBytes + (this.#index?.pendingBytes ?? 0);
  }
  /** The time index beside the file, if any. */
  get index(): FrameIndex | undefined {
    return this.#index;
  }

  /** Counters; `bytesWritten` is data bytes on disk (silence included), records are frames. */
  stats(): WriteStats {
    return this.#file.stats();
  }

  /** Queues one frame of interleaved little-endian 16-bit PCM. Throws `RangeError` past `maxDataBytes`. */
  append(pcm: Buffer, stamp?: FrameStamp): void {
    this.#reserve(pcm.length);
    if (stamp !== undefined) this.#index?.note(pcm.length, stamp);
    else this.#index?.skip(pcm.length);
    this.#file.append(pcm, 1);
  }

  /**
   * Queues `ms` milliseconds of digital silence (whole sample frames, rounded to nearest),
   * for filling gaps; counted as data bytes, not as a frame. Throws `RangeError` past
   * `maxDataBytes`.
   */
  appendSilence(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`silence must be a non-negative number of ms, got ${ms}`);
    const blockAlign = this.#channels * 2;
    let bytes = Math.round((ms * this.#sampleRateHz) / 1000) * blockAlign;
    this.#reserve(bytes);
    this.#index?.skip(bytes);
    // One shared zero buffer, referenced as often as needed: no allocation per gap.
    while (bytes > 0) {
      const chunk = bytes >= ZEROS.length ? ZEROS : ZEROS.subarray(0, bytes);
      this.#file.append(chunk, 0);
      bytes -= chunk.length;
    }
  }

  /** Writes pending data, then rewrites the header. Never rejects. */
  /** Counts what waits to be written as failed and forgets it; returns the number of records. */
  discard(): number {
    const records = this.#file.discard();
    this.#index?.discard(this.#file.contentBytes);
    return records;
  }

  flush(): Promise<void> {
    return this.#file.flush();
  }

  /** Flushes, adds the pad byte if the data size is odd, finalizes the header, closes. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (() => {
      if (this.#dataBytes % 2 === 1 && this.#file.stats().error === undefined) {
        this.#padAt = this.#dataBytes;
        this.#file.appendPadding(PAD_BYTE);
      }
      return this.#file.close().then(() => this.#index?.discard(0));
    })();
    return this.#closing;
  }

  /** Abandons pending data and closes; the header already matches the data on disk. */
  destroy(): Promise<void> {
    return this.#file.destroy().then(() => this.#index?.discard(0));
  }

  #reserve(bytes: number): void {
    if (this.#closing !== undefined) throw new Error('WAV writer is closed');
    if (bytes > this.remainingBytes) {
      throw new RangeError(`WAV data would exceed ${this.#maxDataBytes} bytes; start a new file`);
    }
    this.#dataBytes += bytes;
  }

  #header(contentBytes: number): Buffer {
    // The pad byte is part of the RIFF chunk but not of the data chunk.
    const dataBytes = this.#padAt !== undefined && contentBytes > this.#padAt ? this.#padAt : contentBytes;
    const blockAlign = this.#channels * 2;
    const header = Buffer.alloc(WAV_HEADER_BYTES);
    header.write('RIFF', 0, 'ascii');
    header.writeUInt32LE(WAV_HEADER_BYTES - 8 + contentBytes, 4);
    header.write('WAVE', 8, 'ascii');
    header.write('fmt ', 12, 'ascii');
    header.writeUInt32LE(16, 16);
    header.writeUInt16LE(1, 20); // WAVE_FORMAT_PCM
    header.writeUInt16LE(this.#channels, 22);
    header.writeUInt32LE(this.#sampleRateHz, 24);
    header.writeUInt32LE(this.#sampleRateHz * blockAlign, 28);
    header.writeUInt16LE(blockAlign, 32);
    header.writeUInt16LE(16, 34);
    header.write('data', 36, 'ascii');
    header.writeUInt32LE(dataBytes, 40);
    return header;
  }
}
