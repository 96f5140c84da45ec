import { existsSync } from 'node:fs';
import { open, unlink, type FileHandle } from 'node:fs/promises';
import {
  EncodedAudioPacketSource,
  EncodedPacket,
  EncodedVideoPacketSource,
  MkvOutputFormat,
  Output,
  StreamTarget,
  TextSubtitleSource,
  type StreamTargetChunk,
} from 'mediabunny';
import { clockTime, vttCue, type Cue } from '../../media/captionCues.ts';
import type { MediaKind } from '../../vocabulary/mediaKind.ts';
import { makeDirectory } from '../../media/makeDirectory.ts';
import { shortWriteError } from '../../media/writeFully.ts';
import { dirname } from 'node:path';

/** Why a recording part stopped early; its file stays valid up to its last whole write. */
export type RecordingFailureReason =
  /** mediabunny refused a packet or failed. */
  | 'mux_error'
  /** The file could not be written; it is cut back to its last whole write. */
  | 'write_error'
  /** The file was deleted (or its directory) while being written: the recording goes on in a new part. */
  | 'file_lost';

export type RecordedKind = Extract<MediaKind, 'audio' | 'video' | 'deskshare'>;

export interface RecordingPartOptions {
  /** Absolute path of the `.mkv` file (created with `wx`: never over an earlier part). */
  readonly path: string;
  /** The Zoom timestamp (ms epoch) of the part's time 0, kept in its tags. */
  readonly zoomStartMs: number;
  /** Audio track, 16-bit PCM. */
  readonly audio: { readonly sampleRateHz: number; readonly channels: number } | undefined;
  /** H.264 tracks, in this order. */
  readonly video: readonly RecordedKind[];
  /** A WebVTT subtitle track for the transcript (captionTrack.ts). */
  readonly captions?: boolean | undefined;
  readonly onFailure: (reason: RecordingFailureReason, error: Error) => void;
}

/**
 * Shortest Matroska cluster, s (Matroska block times are 16-bit ms offsets within a cluster, so
 * at most 32). The muxer keeps one cue point per cluster in memory until the part ends (written
 * last, for seeking): with 1 s clusters the heap grew 1.8 MB per hour of audio, with 10 s about
 * 0.3 MB. Blocks still reach the file as they come; only seeking is coarser.
 */
const CLUSTER_SECONDS = 10;

/** Muxed bytes a part keeps while its file cannot be written (full disk, no descriptor) before it gives up. */
const MAX_WAITING_BYTES = 4 * 1024 * 1024;

/** One packet for the muxer: times in seconds from the part's time 0. */
export interface RecordingPacket {
  readonly data: Uint8Array;
  readonly timestampS: number;
  readonly durationS: number;
  readonly key: boolean;
  /** WebCodecs decoder configuration, on a track's first packet. */
  readonly config?: { readonly codec: string; readonly codedWidth: number; readonly codedHeight: number; readonly description: Uint8Array } | undefined;
}

/**
 * One Matroska file of the recording (docs/output.md "Recording"), muxed by mediabunny in its
 * append-only mode: an unknown-size segment and clusters, so the file is valid after every
 * whole element. The muxer's output is kept in memory and appended to the file by `flush()`
 * (the file sink's flush interval), one write per flush; a process killed between two writes
 * leaves a file that plays up to its last flush.
 */
export class RecordingPart {
  readonly #options: RecordingPartOptions;
  readonly #output: Output;
  readonly #sources = new Map<RecordedKind, EncodedAudioPacketSource | EncodedVideoPacketSource>();
  #captions: TextSubtitleSource | undefined;
  #pending: Uint8Array[] = [];
  #pendingBytes = 0;
  /** Bytes the muxer produced so far (the next chunk must start there). */
  #produced = 0;
  /** Bytes on disk. */
  #written = 0;
  #handle: FileHandle | undefined;
  /** The muxer's calls, one at a time in order. */
  #tail: Promise<void> = Promise.resolve();
  #writing: Promise<void> = Promise.resolve();
  #failed: RecordingFailureReason | undefined;
  /** The last write error while data waits for the file. */
  #writeError: unknown;

  constructor(options: RecordingPartOptions) {
    this.#options = options;
    const writable = new WritableStream<StreamTargetChunk>({ write: (chunk) => this.#take(chunk) });
    this.#output = new Output({
      format: new MkvOutputFormat({ appendOnly: true, minimumClusterDuration: CLUSTER_SECONDS }),
      target: new StreamTarget(writable),
    });
    if (options.audio !== undefined) {
      const source = new EncodedAudioPacketSource('pcm-s16');
      this.#output.addAudioTrack(source, { name: 'audio' });
      this.#sources.set('audio', source);
    }
    for (const kind of options.video) {
      const source = new EncodedVideoPacketSource('avc');
      this.#output.addVideoTrack(source, { name: kind });
      this.#sources.set(kind, source);
    }
    if (options.captions === true) {
      this.#captions = new TextSubtitleSource('webvtt');
      this.#output.addSubtitleTrack(this.#captions, { name: 'transcript' });
    }
    this.#output.setMetadataTags({ date: new Date(options.zoomStartMs), raw: { ZOOM_START_MS: String(options.zoomStartMs) } });
    this.#tail = this.#run(() => this.#output.start());
    // The muxer writes nothing until every track has a packet: an empty cue at 0 opens the subtitle track.
    if (this.#captions !== undefined) this.#addCaptionText(`WEBVTT\n\n${emptyCue(0)}`);
  }

  get failed(): RecordingFailureReason | undefined {
    return this.#failed;
  }

  has(kind: RecordedKind): boolean {
    return this.#sources.has(kind);
  }

  add(kind: RecordedKind, packet: RecordingPacket): void {
    const source = this.#sources.get(kind);
    if (source === undefined || this.#failed !== undefined) return;
    const encoded = new EncodedPacket(packet.data, packet.key ? 'key' : 'delta', packet.timestampS, packet.durationS);
    if (source instanceof EncodedAudioPacketSource) {
      const audio = this.#options.audio;
      const meta = audio === undefined ? undefined : { decoderConfig: { codec: 'pcm-s16', sampleRate: audio.sampleRateHz, numberOfChannels: audio.channels } };
      this.#tail = this.#run(() => source.add(encoded, meta));
    } else {
      const config = packet.config;
      this.#tail = this.#run(() => source.add(encoded, config === undefined ? undefined : { decoderConfig: { ...config } }));
    }
  }

  /** A transcript cue, ms from the part's time 0, with the speaker as a WebVTT voice span. */
  addCue(cue: Cue): void {
    this.#addCaptionText(vttCue(cue));
  }

  /**
   * No cue will start before `ms`: an empty cue there (no text, no duration) lets the muxer
   * write the media before it, as it writes a track's packets only up to the others' next one.
   */
  advanceCaptions(ms: number): void {
    this.#addCaptionText(emptyCue(ms));
  }

  #addCaptionText(text: string): void {
    const source = this.#captions;
    if (source === undefined || this.#failed !== undefined) return;
    this.#tail = this.#run(() => source.add(text));
  }

  /** No more packets of `kind` in this part: the muxer stops waiting for it to interleave. */
  closeTrack(kind: RecordedKind): void {
    const source = this.#sources.get(kind);
    if (source === undefined) return;
    this.#sources.delete(kind);
    this.#tail = this.#run(() => {
      source.close();
    });
  }

  /** Appends what the muxer produced since the last flush. Never rejects. */
  async flush(): Promise<void> {
    await this.#tail;
    // One write at a time: a periodic flush and the final one may overlap.
    this.#writing = this.#writing.then(() => this.#writeOut());
    await this.#writing;
  }

  /** Writes the rest (cues included) and closes the file. Never rejects. */
  async finalize(): Promise<void> {
    this.#tail = this.#run(() => this.#output.finalize());
    await this.flush();
    await this.#giveUpWaiting();
  }

  /** Stops without finishing (no cues): what was muxed goes to disk, and the file stays valid. Never rejects. */
  async abandon(): Promise<void> {
    // Closing the subtitle track releases the media held back for late cues.
    const captions = this.#captions;
    this.#captions = undefined;
    if (captions !== undefined) this.#tail = this.#run(() => captions.close());
    await this.flush();
    await this.#giveUpWaiting();
  }

  /** At the end, data that still could not be written is lost: counted as a failure. */
  async #giveUpWaiting(): Promise<void> {
    if (this.#pendingBytes > 0 && this.#failed === undefined) this.#fail('write_error', this.#writeError);
    await this.#closeFile();
  }

  #run(step: () => unknown): Promise<void> {
    return this.#tail.then(() => (this.#failed === undefined ? step() : undefined)).then(noop, (error: unknown) => this.#fail('mux_error', error));
  }

  #take(chunk: StreamTargetChunk): void {
    // Append-only mode never seeks back; a chunk elsewhere would be a torn file.
    if (chunk.position !== this.#produced) throw new Error(`muxer wrote at ${chunk.position}, expected ${this.#produced}`);
    // mediabunny hands over a fresh array per chunk (StreamTarget): kept without a copy.
    this.#pending.push(chunk.data);
    this.#pendingBytes += chunk.data.length;
    this.#produced += chunk.data.length;
  }

  async #writeOut(): Promise<void> {
    if (this.#pendingBytes === 0 || this.#failed === 'write_error' || this.#failed === 'file_lost') return;
    // Synchronous: one stat a flush, far cheaper than a promise round trip through the pool.
    if (this.#handle !== undefined && !existsSync(this.#options.path)) {
      this.#fail('file_lost', new Error(`${this.#options.path} is gone`));
      return;
    }
    // Chunks the muxer hands over while this write waits stay for the next one.
    const taken = this.#pending.length;
    const data = taken === 1 ? this.#pending[0]! : Buffer.concat(this.#pending.slice(0, taken));
    try {
      if (this.#handle === undefined) {
        await makeDirectory(dirname(this.#options.path));
        this.#handle = await open(this.#options.path, 'wx');
      }
      for (let offset = 0; offset < data.length;) {
        const { bytesWritten } = await this.#handle.write(data, offset, data.length - offset, this.#written + offset);
        // A write taking no byte would loop for ever: failed like AppendOnlyFile's, cut back and retried.
        if (bytesWritten <= 0) throw shortWriteError(this.#options.path);
        offset += bytesWritten;
      }
      this.#written += data.length;
      this.#pending.splice(0, taken);
      this.#pendingBytes -= data.length;
      this.#writeError = undefined;
    } catch (error) {
      // Cut back to the last whole write, so the file ends at an element boundary; a file
      // that never got its header is removed, and made again at the next try.
      await this.#handle?.truncate(this.#written).catch(noop);
      if (this.#written === 0 && this.#handle !== undefined) {
        await unlink(this.#options.path).catch(noop);
        await this.#closeFile();
      }
      // A full disk or no free descriptor may pass: the data waits for the next flush, up to a bound.
      this.#pending.splice(0, taken, data);
      this.#writeError = error;
      if (this.#pendingBytes > MAX_WAITING_BYTES) this.#fail('write_error', error);
    }
  }

  async #closeFile(): Promise<void> {
    const handle = this.#handle;
    this.#handle = undefined;
    await handle?.close().catch(noop);
  }

  #fail(reason: RecordingFailureReason, error: unknown): void {
    if (this.#failed !== undefined) return;
    this.#failed = reason;
    this.#options.onFailure(reason, error instanceof Error ? error : new Error(String(error)));
  }
}

function noop(): void {}

/** A WebVTT cue with no text and no duration at `ms`: ffmpeg's Matroska reader skips such empty blocks. */
function emptyCue(ms: number): string {
  return `${clockTime(ms, 'vtt')} --> ${clockTime(ms, 'vtt')}\n\n`;
}
