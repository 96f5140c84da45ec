import { join } from 'node:path';
import type { Logger } from '../../logger.ts';
import { isIdrAccessUnit } from '../../media/h264.ts';
import type { Frame, MediaFormats } from '../../vocabulary/frame.ts';
import { freePartName } from '../streamDirectory.ts';
import { avcCodecString, avcDecoderConfigurationRecord, toLengthPrefixed } from './avcFraming.ts';
import { avcPictureSize } from './avcSps.ts';
import { CaptionTrack, type CaptionStats } from './captionTrack.ts';
import { RecordingPart, type RecordedKind, type RecordingFailureReason, type RecordingPacket } from './recordingPart.ts';

/** Why a frame the file sink took is not in the recording (the plain files still have it). */
export type RecordingDropReason =
  /** H.264 before the first IDR of a part (a decoder could not start there). */
  | 'awaiting_keyframe'
  /** Dated at or before the last frame of its track in the part (a redelivered packet). */
  | 'out_of_order'
  /** The recording stopped after a failure (see `RecordingFailureReason`). */
  | 'recording_failed';

/** Why a part ended and the next one began. */
export type RecordingCutReason = 'rejoin' | 'track_added' | 'clock_step' | 'format_change' | 'failure' | 'closed';

export const RECORDING_FILE = 'recording.mkv';

export interface RecorderOptions {
  readonly directory: string;
  /** Names already used in the directory (an earlier run's files): parts never reuse them. */
  readonly taken: ReadonlySet<string>;
  /** Pad audio gaps with silence (`RTMS_AUDIO_GAP_FILL=silence`); otherwise a gap stays a gap in time. */
  readonly fillAudioGaps: boolean;
  /** How long (local time) a new part waits to learn which tracks it has, ms (longer while H.264 waits for an IDR, up to `stallMs`). Default 1000. */
  readonly discoveryMs?: number | undefined;
  /** A track silent this long (Zoom time) while another goes on is closed in its part, ms. Default 5000. */
  readonly stallMs?: number | undefined;
  /** Transcript lines as a subtitle track, muxed at their starts: how long media is held back for them, ms (Zoom time); 0: no subtitle track. */
  readonly captionDelayMs?: number | undefined;
  /** A `recording.*` event for `events.jsonl`. */
  readonly onEvent: (eventType: string, data: Record<string, unknown>) => void;
  readonly logger?: Logger | undefined;
}

export interface RecordingStats {
  readonly parts: ReadonlyArray<{ readonly file: string; readonly zoomStartMs: number; readonly tracks: readonly RecordedKind[] }>;
  readonly frames: Partial<Record<RecordedKind, { written: number; dropped: Partial<Record<RecordingDropReason, number>> }>>;
  readonly failures: Partial<Record<RecordingFailureReason, number>>;
  /** Transcript lines muxed as cues, and those left out by reason (with a subtitle track). */
  readonly captions?: CaptionStats | undefined;
}

interface TrackState {
  lastTs: number;
  /** Audio: where the last packet ended, ms (Zoom time). */
  endTs: number;
  /** Video: the parameter sets in the track header. */
  sps?: Uint8Array | undefined;
  pps?: Uint8Array | undefined;
  interval: number;
}

interface OpenPart {
  readonly part: RecordingPart;
  readonly file: string;
  readonly base: number;
  readonly tracks: Map<RecordedKind, TrackState>;
  /** Tracks closed for silence: their next frame begins a new part. */
  readonly closed: Set<RecordedKind>;
  /** Contiguous audio packets gathered into one block (fewer, larger blocks: the muxer's cost is per block). */
  audioBlock: { readonly start: number; end: number; readonly chunks: Buffer[] } | undefined;
}

const MAX_SILENCE_PACKET_MS = 1000;
/** Longest audio block, ms: contiguous packets (each starting where the last ended) are joined up to this. */
const AUDIO_BLOCK_MS = 100;

/**
 * The synced recording of one stream (docs/output.md "Recording"): mixed audio and H.264
 * video and screen share in Matroska files, each frame at its Zoom timestamp. A new part
 * (`recording.part2.mkv`, …) begins after a rejoin, when a kind starts that the part has no
 * track for, on a step back of Zoom's clock, or a new H.264 parameter set; every part is a
 * valid file on its own. Never throws: a write or mux failure stops the recording (a deleted
 * file only ends its part), never the other files.
 */
export class Recorder {
  readonly #options: RecorderOptions;
  readonly #discoveryMs: number;
  readonly #stallMs: number;
  #formats: MediaFormats | undefined;
  /** Frames waiting while a new part learns its tracks. */
  #discovery: Frame[] = [];
  /** H.264 kinds seen during discovery without an IDR yet: discovery waits for them (up to `stallMs`). */
  readonly #awaitingIdr = new Set<RecordedKind>();
  #open: OpenPart | undefined;
  /** Parts being finalized. */
  #closing: Promise<void> = Promise.resolve();
  readonly #taken: Set<string>;
  readonly #parts: Array<{ file: string; zoomStartMs: number; tracks: RecordedKind[] }> = [];
  readonly #frames: NonNullable<RecordingStats['frames']> = {};
  readonly #failures: Partial<Record<RecordingFailureReason, number>> = {};
  #stopped = false;
  readonly #captions: CaptionTrack | undefined;

  constructor(options: RecorderOptions) {
    this.#options = options;
    const delayMs = options.captionDelayMs ?? 0;
    this.#captions = delayMs > 0 ? new CaptionTrack(delayMs) : undefined;
    this.#discoveryMs = options.discoveryMs ?? 1000;
    this.#stallMs = options.stallMs ?? 5000;
    this.#taken = new Set(options.taken);
  }

  setFormats(formats: MediaFormats): void {
    if (this.#formats !== undefined && JSON.stringify(this.#formats.audio) !== JSON.stringify(formats.audio)) this.cut('format_change');
    this.#formats = formats;
  }

  /** The parts' file names, in order (cheaper than `stats()`). */
  files(): string[] {
    return this.#parts.map((part) => part.file);
  }

  stats(): RecordingStats {
    const captions = this.#captions?.stats();
    return {
      parts: this.#parts.map((part) => ({ ...part, tracks: [...part.tracks] })),
      frames: structuredClone(this.#frames),
      failures: { ...this.#failures },
      ...(captions === undefined ? {} : { captions }),
    };
  }

  /** Takes a frame the file sink took. Never throws: an unexpected error stops the recording (`mux_error`). */
  add(frame: Frame): void {
    try {
      this.#add(frame);
    } catch (error) {
      this.#failed(this.#open?.file ?? RECORDING_FILE, 'mux_error', error instanceof Error ? error : new Error(String(error)));
    }
  }

  #add(frame: Frame): void {
    if (frame.kind === 'transcript') return this.#captions?.line(frame, this.#stopped);
    const kind = this.#recordable(frame);
    if (kind === undefined) return;
    if (this.#stopped) return this.#drop(kind, 'recording_failed');
    this.#captions?.media(frame.timestamp);
    const open = this.#open;
    if (open === undefined) return this.#discover(kind, frame);
    if (!open.tracks.has(kind) || open.closed.has(kind)) {
      if (kind !== 'audio' && !isIdrAccessUnit(frame.data)) return this.#drop(kind, 'awaiting_keyframe');
      this.cut('track_added');
      return this.#discover(kind, frame);
    }
    const track = open.tracks.get(kind)!;
    if (frame.timestamp <= track.lastTs && track.lastTs !== -Infinity) {
      if (track.lastTs - frame.timestamp <= 1000) return this.#drop(kind, 'out_of_order');
      this.cut('clock_step');
      return this.#discover(kind, frame);
    }
    this.#closeStalled(open, kind, frame.timestamp);
    this.#mux(open, kind, track, frame);
  }

  /** Ends the part being written; the next frame begins a new one. */
  cut(reason: RecordingCutReason): void {
    const open = this.#open;
    this.#open = undefined;
    if (open !== undefined) {
      this.#flushAudioBlock(open);
      this.#captions?.closed();
      this.#options.onEvent('recording.part_ended', { file: open.file, reason });
      this.#closing = this.#closing.then(() => open.part.finalize());
    }
  }

  /** Writes what the muxer produced so far. Never rejects. */
  async flush(): Promise<void> {
    if (this.#open !== undefined) this.#flushAudioBlock(this.#open);
    this.#captions?.advance();
    await this.#closing;
    await this.#open?.part.flush();
  }

  /** The stream ended: frames still in discovery make a last part, and the last part ends (its file is finalized by `close()`). */
  end(): void {
    if (this.#discovery.length > 0 && !this.#stopped) this.#startPart();
    this.cut('closed');
  }

  /** Ends the last part, if `end()` did not, and finalizes every file. Never rejects. */
  async close(): Promise<void> {
    this.end();
    await this.#closing;
  }

  /** Stops at once: what was muxed is written, the files stay valid, nothing more is taken. Never rejects. */
  async destroy(): Promise<void> {
    this.#stopped = true;
    this.#discovery = [];
    this.#captions?.stopped();
    const open = this.#open;
    this.#open = undefined;
    if (open !== undefined) this.#flushAudioBlock(open);
    await this.#closing;
    await open?.part.abandon();
  }

  #recordable(frame: Frame): RecordedKind | undefined {
    const formats = this.#formats;
    if (formats === undefined) return undefined;
    if (frame.kind === 'audio') return formats.audio.mode === 'mixed' ? 'audio' : undefined;
    if (frame.kind === 'video' || frame.kind === 'deskshare') return formats[frame.kind].codec === 'h264' ? frame.kind : undefined;
    return undefined;
  }

  #discover(kind: RecordedKind, frame: Frame): void {
    if (kind !== 'audio' && !this.#discovery.some((held) => held.kind === kind) && !isIdrAccessUnit(frame.data)) {
      this.#drop(kind, 'awaiting_keyframe');
      this.#awaitingIdr.add(kind);
    } else {
      this.#awaitingIdr.delete(kind);
      this.#discovery.push(frame);
    }
    // Local time: after a rejoin Zoom delivers the audio it held back in a burst, seconds of
    // Zoom time before the first picture can arrive.
    const first = this.#discovery[0]?.receivedAt;
    if (first === undefined) return;
    const elapsed = frame.receivedAt - first;
    if ((elapsed >= this.#discoveryMs && this.#awaitingIdr.size === 0) || elapsed >= this.#stallMs) this.#startPart();
  }

  #startPart(): void {
    const frames = this.#discovery;
    this.#discovery = [];
    this.#awaitingIdr.clear();
    const formats = this.#formats!;
    const kinds = new Set(frames.map((frame) => frame.kind as RecordedKind));
    const base = Math.min(...frames.map((frame) => frame.timestamp));
    const file = freePartName(this.#options.directory, this.#taken, RECORDING_FILE);
    this.#taken.add(file);
    const tracks = (['audio', 'video', 'deskshare'] as const).filter((kind) => kinds.has(kind));
    const part = new RecordingPart({
      path: join(this.#options.directory, file),
      zoomStartMs: base,
      audio: kinds.has('audio') ? { sampleRateHz: formats.audio.sampleRateHz, channels: formats.audio.channels } : undefined,
      video: tracks.filter((kind) => kind !== 'audio'),
      captions: this.#captions !== undefined,
      onFailure: (reason, error) => this.#failed(file, reason, error),
    });
    const open: OpenPart = { part, file, base, tracks: new Map(), closed: new Set(), audioBlock: undefined };
    for (const kind of tracks) open.tracks.set(kind, { lastTs: -Infinity, endTs: base, interval: 0 });
    this.#open = open;
    this.#parts.push({ file, zoomStartMs: base, tracks });
    this.#options.onEvent('recording.part_started', { file, zoomStartMs: base, tracks });
    this.#captions?.opened(part, base);
    for (const frame of frames) this.#add(frame);
  }

  /** Closes the tracks of `open` that have been silent for `stallMs` while `kind` goes on. */
  #closeStalled(open: OpenPart, kind: RecordedKind, timestamp: number): void {
    for (const [other, track] of open.tracks) {
      if (other === kind || open.closed.has(other) || timestamp - Math.max(track.lastTs, open.base) < this.#stallMs) continue;
      if (other === 'audio') this.#flushAudioBlock(open);
      open.closed.add(other);
      open.part.closeTrack(other);
    }
  }

  #mux(open: OpenPart, kind: RecordedKind, track: TrackState, frame: Frame): void {
    const seconds = (ms: number): number => (ms - open.base) / 1000;
    if (kind === 'audio') {
      const audio = this.#formats!.audio;
      const bytesPerMs = (audio.sampleRateHz * audio.channels * 2) / 1000;
      const durationMs = frame.data.length / bytesPerMs;
      const block = open.audioBlock;
      if (block !== undefined && Math.abs(frame.timestamp - block.end) < 0.5 && block.end - block.start < AUDIO_BLOCK_MS) {
        block.chunks.push(frame.data);
        block.end += durationMs;
      } else {
        this.#flushAudioBlock(open);
        open.audioBlock = { start: frame.timestamp, end: frame.timestamp + durationMs, chunks: [frame.data] };
      }
      if (this.#options.fillAudioGaps && track.lastTs !== -Infinity && frame.timestamp - track.endTs >= durationMs) {
        for (let at = track.endTs; at < frame.timestamp; at += MAX_SILENCE_PACKET_MS) {
          const ms = Math.min(MAX_SILENCE_PACKET_MS, frame.timestamp - at);
          const bytes = Math.floor((ms * bytesPerMs) / (2 * audio.channels)) * 2 * audio.channels;
          open.part.add('audio', { data: new Uint8Array(bytes), timestampS: seconds(at), durationS: ms / 1000, key: true });
        }
      }
      track.lastTs = frame.timestamp;
      track.endTs = frame.timestamp + durationMs;
      return this.#written(kind);
    }
    const sample = toLengthPrefixed(frame.data);
    if (sample === undefined) return this.#drop(kind, 'awaiting_keyframe');
    const key = isIdrAccessUnit(frame.data);
    let config: RecordingPacket['config'];
    if (track.sps === undefined) {
      const size = sample.sps === undefined ? undefined : avcPictureSize(sample.sps);
      if (sample.sps === undefined || sample.pps === undefined || size === undefined || !key) return this.#drop(kind, 'awaiting_keyframe');
      track.sps = sample.sps;
      track.pps = sample.pps;
      config = {
        codec: avcCodecString(sample.sps),
        codedWidth: size.width,
        codedHeight: size.height,
        description: avcDecoderConfigurationRecord(sample.sps, sample.pps),
      };
    } else if ((sample.sps !== undefined && !sameBytes(sample.sps, track.sps)) || (sample.pps !== undefined && !sameBytes(sample.pps, track.pps))) {
      // New parameter sets need a new track header: a new part, from this IDR.
      this.cut('format_change');
      return this.#discover(kind, frame);
    }
    if (track.lastTs !== -Infinity) track.interval = frame.timestamp - track.lastTs;
    open.part.add(kind, { data: sample.data, timestampS: seconds(frame.timestamp), durationS: track.interval / 1000, key, config });
    track.lastTs = frame.timestamp;
    this.#written(kind);
  }

  /** Hands the gathered audio packets to the muxer as one block, at the first one's timestamp. */
  #flushAudioBlock(open: OpenPart): void {
    const block = open.audioBlock;
    if (block === undefined) return;
    open.audioBlock = undefined;
    const data = block.chunks.length === 1 ? block.chunks[0]! : Buffer.concat(block.chunks);
    open.part.add('audio', { data, timestampS: (block.start - open.base) / 1000, durationS: (block.end - block.start) / 1000, key: true });
  }

  #counts(kind: RecordedKind): { written: number; dropped: Partial<Record<RecordingDropReason, number>> } {
    return (this.#frames[kind] ??= { written: 0, dropped: {} });
  }

  #written(kind: RecordedKind): void {
    this.#counts(kind).written += 1;
  }

  #drop(kind: RecordedKind, reason: RecordingDropReason): void {
    const dropped = this.#counts(kind).dropped;
    dropped[reason] = (dropped[reason] ?? 0) + 1;
  }

  #failed(file: string, reason: RecordingFailureReason, error: Error): void {
    if (this.#stopped) return;
    this.#failures[reason] = (this.#failures[reason] ?? 0) + 1;
    this.#options.onEvent('recording.failed', { file, reason });
    // A deleted file is not a fault of the recording: the next frame begins a new part.
    if (reason !== 'file_lost') {
      this.#stopped = true;
      this.#discovery = [];
      this.#captions?.stopped();
      this.#options.logger?.warn({ file, reason, err: error.message }, 'recording stopped; the other files go on');
    }
    if (this.#open?.file === file) this.cut('failure');
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array | undefined): boolean {
  return b !== undefined && a.length === b.length && a.every((byte, i) => byte === b[i]);
}
