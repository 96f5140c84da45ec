import { EventEmitter } from 'node:events';
import { existsSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import { makeDirectory } from '../media/makeDirectory.ts';
import { join } from 'node:path';
import { systemClock, type Clock } from '../clock.ts';
import type { MediaKind } from '../config.ts';
import { ConnectorError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { AnnexBWriter } from '../media/annexBWriter.ts';
import type { Frame, LifecycleEvent, MediaFormats } from '../media/frame.ts';
import { ImageFrameWriter } from '../media/imageFrameWriter.ts';
import { JsonLinesWriter } from '../media/jsonLinesWriter.ts';
import type { MediaWriter } from '../media/mediaWriter.ts';
import { AudioTimeline } from '../media/audioTimeline.ts';
import { WAV_MAX_DATA_BYTES, WavWriter } from '../media/wavWriter.ts';
import { fileSafeId } from './fileSafeId.ts';
import { SpeakerFiles } from './speakerFiles.ts';
import type { SinkCounters, StreamSink } from './streamSink.ts';

export interface FileSinkOptions {
  /** The stream's directory, e.g. `OUTPUT_DIR/<rtms_stream_id>`; created on first write. */
  readonly directory: string;
  /**
   * How often pending data is written and WAV headers and `stream.json` are refreshed, ms.
   * A killed process loses at most this much. Default 1000; 1 to 2000.
   */
  readonly flushIntervalMs?: number | undefined;
  /**
   * How often `stream.json` is rewritten when only its counters changed, ms. Metadata, the
   * file list and the sink's state reach it at the next flush; an explicit `flush()` always
   * refreshes it. Default 5000. Rewriting it is several syscalls (temp file, rename), the
   * largest per-stream file cost when it followed every flush.
   */
  readonly streamJsonIntervalMs?: number | undefined;
  /** `write()` returns false while more than this many bytes are pending. Default 4 MiB. */
  readonly highWaterBytes?: number | undefined;
  /** `'drain'` is emitted once pending bytes are at or below this. Default highWaterBytes / 4. */
  readonly lowWaterBytes?: number | undefined;
  /**
   * Data bytes per WAV file before the next part (`audio.part2.wav`, …) starts. Default and
   * maximum: the 4 GiB RIFF limit ({@link WAV_MAX_DATA_BYTES}).
   */
  readonly maxWavDataBytes?: number | undefined;
  /**
   * Pad audio where Zoom sent nothing (timestamps jump) with silence, so every WAV keeps the
   * stream's timeline from its first audio packet. Default false: WAV bytes equal the PCM received.
   */
  readonly fillAudioGaps?: boolean | undefined;
  /**
   * Per-speaker WAVs open at once (see speakerFiles.ts); opening one more closes the one
   * written longest ago, and that speaker continues in a new part. Default unbounded.
   */
  readonly maxOpenSpeakerFiles?: number | undefined;
  /** Called each time a speaker's WAV is closed early to respect `maxOpenSpeakerFiles`. */
  readonly onSpeakerFileClosedEarly?: (() => void) | undefined;
  /** Default `systemClock`. */
  readonly clock?: Clock | undefined;
  readonly logger?: Logger | undefined;
}

/** Why the file sink counted a frame as dropped. */
export type FileSinkDropReason =
  /** No `setFormats()` before an audio, video or deskshare frame. */
  | 'format_unknown'
  /** The sink failed (or the frame's file did); see the `'error'` event. */
  | 'sink_error'
  /** Written after `close()` began. */
  | 'sink_closed'
  /** Pending at, or written after, `destroy()`. */
  | 'sink_destroyed';

type SinkState = 'open' | 'closing' | 'closed' | 'destroyed';

interface Output {
  /** undefined for `events.jsonl`, which is not media. */
  readonly kind: MediaKind | undefined;
  readonly writer: MediaWriter;
}

interface AudioSlot {
  /** `rate/channels`; a change starts a new part. */
  readonly format: string;
  readonly writer: WavWriter;
}

const DEFAULT_FLUSH_INTERVAL_MS = 1000;
const DEFAULT_STREAM_JSON_INTERVAL_MS = 5000;
const MAX_FLUSH_INTERVAL_MS = 2000;
const DEFAULT_HIGH_WATER_BYTES = 4 * 1024 * 1024;
const STREAM_JSON = 'stream.json';
const STREAM_JSON_TEMP = '.stream.json.tmp';

/**
 * Writes one stream to files under its directory (design.md §4):
 *
 * | file | content |
 * |---|---|
 * | `stream.json` | metadata from `setMetadata()` + `files`, `counters`, `events`, `sink`; replaced atomically (counters every `streamJsonIntervalMs`, anything else at the next flush) and on close |
 * | `events.jsonl` | `writeEvent()` envelopes |
 * | `audio.wav` / `audio-<userId>.wav` | mixed / per-speaker 16-bit PCM (`.part2.wav`, … after 4 GiB, a format change, or when a previous run's file exists) |
 * | `video.h264`, `deskshare.h264` | Annex B |
 * | `video/<timestamp>.jpg`, `deskshare/…` | one image per frame (listed in `files()` as `video/`) |
 * | `transcript.jsonl`, `chat.jsonl` | one message per line |
 *
 * Files are created when their first frame is flushed. `write()` only queues (no syscall,
 * no await per frame); a timer writes every `flushIntervalMs`, and earlier when pending
 * bytes pass the high-water mark. Every frame given to `write()` ends up in exactly one of
 * `framesWritten` (on disk), `framesDropped[reason]`, or pending.
 *
 * The first write error fails the whole sink: `'error'` is emitted once with a
 * `ConnectorError('SINK_WRITE_FAILED')`, and every later frame is counted as `sink_error`.
 * Data already accepted for other files is still written. Listen for `'error'`, as with any
 * Node stream: an unhandled `'error'` is thrown.
 *
 * Frames are kept by reference until written: do not modify `frame.data` after `write()`.
 */
export class FileSink extends EventEmitter implements StreamSink {
  readonly #directory: string;
  readonly #flushIntervalMs: number;
  readonly #streamJsonIntervalMs: number;
  readonly #highWaterBytes: number;
  readonly #lowWaterBytes: number;
  readonly #maxWavDataBytes: number;
  /** Set when gaps are padded with silence (`fillAudioGaps`). */
  readonly #audioTimeline: AudioTimeline | undefined;
  readonly #clock: Clock;
  readonly #logger: Logger | undefined;

  #state: SinkState = 'open';
  #error: ConnectorError | undefined;
  #formats: MediaFormats | undefined;
  #metadata: Readonly<Record<string, unknown>> = {};

  /** Every writer ever created, in creation order, for flushing and counting. */
  readonly #outputs: Output[] = [];
  /** Output names relative to the directory, in creation order. */
  readonly #files = new Set<string>();
  /** Current WAV per speaker; key null = mixed. */
  readonly #audio = new Map<string | null, AudioSlot>();
  readonly #annexB = new Map<string, AnnexBWriter>();
  readonly #images = new Map<string, ImageFrameWriter>();
  readonly #lines = new Map<string, JsonLinesWriter>();
  /** Drops counted by the sink itself, per kind seen; writers count their own failures. */
  readonly #dropped = new Map<MediaKind, Record<string, number>>();
  #eventsDropped = 0;
  /** Bounds the per-speaker WAVs holding a descriptor; undefined: unbounded. */
  readonly #speakerFiles: SpeakerFiles | undefined;
  readonly #onSpeakerFileClosedEarly: (() => void) | undefined;
  /** WAV parts being finalized after a roll-over. */
  readonly #retiring = new Set<Promise<void>>();

  /** Sum of the writers' pending bytes; raised by each write, recomputed after each flush. */
  #pendingBytes = 0;
  #needDrain = false;
  /** Something other than the counters changed since `stream.json` was last written. */
  #structureChanged = true;
  /** Counters changed since `stream.json` was last written. */
  #countersChanged = false;
  /** An explicit `flush()` asked for a fresh `stream.json`. */
  #checkpointRequested = false;
  #streamJsonWrittenAt: number | undefined;
  /** The stream directory exists (created once, not per `stream.json` rewrite). */
  #directoryCreated = false;

  #interval: NodeJS.Timeout | undefined;
  #soon: NodeJS.Timeout | undefined;
  #flushTail: Promise<void> = Promise.resolve();
  #queuedFlush: Promise<void> | undefined;
  #closing: Promise<void> | undefined;
  #destroying: Promise<void> | undefined;

  constructor(options: FileSinkOptions) {
    super();
    const flushIntervalMs = options.flushIntervalMs ?? DEFAULT_FLUSH_INTERVAL_MS;
    if (!Number.isInteger(flushIntervalMs) || flushIntervalMs < 1 || flushIntervalMs > MAX_FLUSH_INTERVAL_MS) {
      throw new RangeError(`flushIntervalMs must be an integer from 1 to ${MAX_FLUSH_INTERVAL_MS}, got ${flushIntervalMs}`);
    }
    const highWaterBytes = options.highWaterBytes ?? DEFAULT_HIGH_WATER_BYTES;
    if (!Number.isSafeInteger(highWaterBytes) || highWaterBytes < 1) {
      throw new RangeError(`highWaterBytes must be a positive integer, got ${highWaterBytes}`);
    }
    const lowWaterBytes = options.lowWaterBytes ?? Math.floor(highWaterBytes / 4);
    if (!Number.isSafeInteger(lowWaterBytes) || lowWaterBytes < 0 || lowWaterBytes >= highWaterBytes) {
      throw new RangeError(`lowWaterBytes must be an integer from 0 to below highWaterBytes (${highWaterBytes}), got ${lowWaterBytes}`);
    }
    const maxWavDataBytes = options.maxWavDataBytes ?? WAV_MAX_DATA_BYTES;
    if (!Number.isSafeInteger(maxWavDataBytes) || maxWavDataBytes < 1 || maxWavDataBytes > WAV_MAX_DATA_BYTES) {
      throw new RangeError(`maxWavDataBytes must be an integer from 1 to ${WAV_MAX_DATA_BYTES}, got ${maxWavDataBytes}`);
    }
    const streamJsonIntervalMs = options.streamJsonIntervalMs ?? DEFAULT_STREAM_JSON_INTERVAL_MS;
    if (!Number.isInteger(streamJsonIntervalMs) || streamJsonIntervalMs < 1) {
      throw new RangeError(`streamJsonIntervalMs must be a positive integer, got ${streamJsonIntervalMs}`);
    }
    this.#directory = options.directory;
    this.#flushIntervalMs = flushIntervalMs;
    this.#streamJsonIntervalMs = streamJsonIntervalMs;
    this.#highWaterBytes = highWaterBytes;
    this.#lowWaterBytes = lowWaterBytes;
    this.#maxWavDataBytes = maxWavDataBytes;
    this.#audioTimeline = options.fillAudioGaps ? new AudioTimeline() : undefined;
    this.#clock = options.clock ?? systemClock;
    this.#logger = options.logger;
    this.#speakerFiles = options.maxOpenSpeakerFiles === undefined ? undefined : new SpeakerFiles(options.maxOpenSpeakerFiles);
    this.#onSpeakerFileClosedEarly = options.onSpeakerFileClosedEarly;
    // Returns the flush (timers ignore it) so a test clock can await the periodic flush.
    this.#interval = this.#clock.setInterval(() => this.#requestFlush(), this.#flushIntervalMs);
    // A sink must not keep the process alive on its own; its owner closes it.
    this.#interval.unref?.();
  }

  get directory(): string {
    return this.#directory;
  }

  /** Bytes accepted but not yet on disk. */
  get pendingBytes(): number {
    return this.#pendingBytes;
  }

  /** The first write error, if the sink failed. */
  get error(): ConnectorError | undefined {
    return this.#error;
  }

  setFormats(formats: MediaFormats): void {
    this.#formats = formats;
  }

  setMetadata(metadata: Readonly<Record<string, unknown>>, options?: { readonly countersOnly?: boolean }): void {
    this.#metadata = { ...metadata };
    if (options?.countersOnly === true) this.#countersChanged = true;
    else this.#structureChanged = true;
  }

  write(frame: Frame): boolean {
    const dropped = this.#droppedFor(frame.kind);
    this.#countersChanged = true;
    const refusal = this.#refusal();
    if (refusal !== undefined) {
      dropped[refusal] = (dropped[refusal] ?? 0) + 1;
    } else {
      if (!this.#append(frame)) dropped.format_unknown = (dropped.format_unknown ?? 0) + 1;
    }
    if (this.#pendingBytes <= this.#highWaterBytes) return true;
    this.#needDrain = true;
    this.#flushSoon();
    return false;
  }

  writeEvent(event: LifecycleEvent): void {
    this.#countersChanged = true;
    if (this.#refusal() !== undefined) {
      this.#eventsDropped += 1;
      return;
    }
    const writer = this.#lineWriter('events.jsonl', undefined);
    const before = writer.pendingBytes;
    writer.append(event);
    this.#grew(writer, before);
  }

  counters(): Readonly<Partial<Record<MediaKind, SinkCounters>>> {
    const result: Partial<Record<MediaKind, SinkCounters>> = {};
    for (const [kind, dropped] of this.#dropped) {
      result[kind] = { framesWritten: 0, bytesWritten: 0, framesDropped: { ...dropped } };
    }
    for (const { kind, writer } of this.#outputs) {
      if (kind === undefined) continue;
      const counters = (result[kind] ??= { framesWritten: 0, bytesWritten: 0, framesDropped: {} });
      const stats = writer.stats();
      counters.framesWritten += stats.recordsWritten;
      counters.bytesWritten += stats.bytesWritten;
      addCount(counters.framesDropped, 'sink_error', stats.recordsFailed);
      addCount(counters.framesDropped, 'sink_destroyed', stats.recordsAbandoned);
    }
    return result;
  }

  files(): readonly string[] {
    return this.#streamJsonWrittenAt !== undefined ? [STREAM_JSON, ...this.#files] : [...this.#files];
  }

  /**
   * Writes everything accepted so far, refreshes WAV headers and `stream.json`. Runs on a
   * timer anyway; exposed for tests and for callers that want a checkpoint. Never rejects.
   */
  flush(): Promise<void> {
    if (this.#state !== 'open') return this.#flushTail;
    this.#checkpointRequested = true;
    return this.#requestFlush();
  }

  close(): Promise<void> {
    if (this.#destroying !== undefined) return this.#destroying;
    this.#closing ??= this.#closeOnce();
    return this.#closing;
  }

  destroy(): Promise<void> {
    this.#destroying ??= this.#destroyOnce();
    return this.#destroying;
  }

  // ── frames ───────────────────────────────────────────────────────────────────────────

  #refusal(): FileSinkDropReason | undefined {
    switch (this.#state) {
      case 'open':
        return this.#error === undefined ? undefined : 'sink_error';
      case 'closing':
      case 'closed':
        return 'sink_closed';
      case 'destroyed':
        return 'sink_destroyed';
    }
  }

  #droppedFor(kind: MediaKind): Record<string, number> {
    let dropped = this.#dropped.get(kind);
    if (dropped === undefined) {
      dropped = {};
      this.#dropped.set(kind, dropped);
    }
    return dropped;
  }

  /** Queues the frame on its writer; false if its format is not known yet. */
  #append(frame: Frame): boolean {
    switch (frame.kind) {
      case 'audio': {
        const writer = this.#wavWriter(frame.userId, frame.data.length);
        if (writer === undefined) return false;
        const before = writer.pendingBytes;
        const gapMs = this.#audioGapMs(frame);
        if (gapMs > 0 && writer.remainingBytes >= frame.data.length + writer.byteRate * (gapMs / 1000)) writer.appendSilence(gapMs);
        writer.append(frame.data);
        this.#grew(writer, before);
        return true;
      }
      case 'video':
      case 'deskshare': {
        const kind = frame.kind;
        const codec = this.#formats?.[kind].codec;
        if (codec === undefined) return false;
        if (codec === 'h264') {
          const name = `${kind}.h264`;
          const writer = this.#obtain(this.#annexB, name, kind, name, (path, onError) => new AnnexBWriter({ path, onError }));
          const before = writer.pendingBytes;
          writer.append(frame.data);
          this.#grew(writer, before);
          return true;
        }
        const writer = this.#obtain(this.#images, `${kind}.${codec}`, kind, `${kind}/`, (directory, onError) => {
          return new ImageFrameWriter({ directory, extension: codec, onError });
        });
        const before = writer.pendingBytes;
        writer.append(frame.timestamp, frame.data);
        this.#grew(writer, before);
        return true;
      }
      case 'transcript':
      case 'chat': {
        const writer = this.#lineWriter(`${frame.kind}.jsonl`, frame.kind);
        const before = writer.pendingBytes;
        writer.append(frame.kind === 'transcript' ? transcriptLine(frame) : chatLine(frame));
        this.#grew(writer, before);
        return true;
      }
      default: {
        const unknown: never = frame.kind;
        throw new TypeError(`unknown media kind ${String(unknown)}`);
      }
    }
  }

  /** Keeps `pendingBytes` current without summing over every writer on each frame. */
  #grew(writer: MediaWriter, pendingBefore: number): void {
    this.#pendingBytes += writer.pendingBytes - pendingBefore;
  }

  /** The WAV for this frame's speaker, starting a new part when the format changed or the file is full. */
  /** Milliseconds of silence to pad before this audio frame, when gaps are filled. */
  #audioGapMs(frame: Frame): number {
    const audio = this.#formats?.audio;
    if (this.#audioTimeline === undefined || audio === undefined) return 0;
    const durationMs = (frame.data.length / (audio.sampleRateHz * audio.channels * 2)) * 1000;
    // Arrival times bound the gap: a step of Zoom's clock never becomes hours of silence.
    const placement = this.#audioTimeline.place(frame.userId, frame.timestamp, durationMs, frame.receivedAt);
    return placement.duplicate ? 0 : placement.gapMs;
  }

  #wavWriter(userId: string, bytes: number): WavWriter | undefined {
    const audio = this.#formats?.audio;
    if (audio === undefined) return undefined;
    // Zoom's mixed stream is user 0; any identified speaker or Contact Center channel gets its
    // own file whatever mode was asked for, so two parties can never interleave in one WAV.
    const key = userId === '0' ? null : userId;
    const format = `${audio.sampleRateHz}/${audio.channels}`;
    const slot = this.#audio.get(key);
    if (slot !== undefined && slot.format === format && slot.writer.remainingBytes >= bytes) {
      if (key !== null) this.#speakerFiles?.written(key);
      return slot.writer;
    }
    if (slot !== undefined) this.#retire(slot.writer);
    if (key !== null) this.#closeIdleSpeakerFiles(key);
    const base = key === null ? 'audio' : `audio-${fileSafeId(key)}`;
    const name = this.#freeWavName(base);
    const writer = new WavWriter({
      path: join(this.#directory, name),
      sampleRateHz: audio.sampleRateHz,
      channels: audio.channels,
      // A frame larger than a whole part is still written rather than lost.
      maxDataBytes: Math.min(WAV_MAX_DATA_BYTES, Math.max(this.#maxWavDataBytes, bytes)),
      onError: (error) => this.#writerFailed(name, error),
    });
    this.#audio.set(key, { format, writer });
    this.#register('audio', name, writer);
    return writer;
  }

  /** Makes room for `speaker`'s new WAV: closes those written longest ago past the bound. */
  #closeIdleSpeakerFiles(speaker: string): void {
    for (const idle of this.#speakerFiles?.opening(speaker) ?? []) {
      const slot = this.#audio.get(idle);
      if (slot === undefined) continue;
      this.#audio.delete(idle);
      const closing = this.#speakerFiles?.retire(slot.writer).finally(() => this.#retiring.delete(closing!));
      if (closing !== undefined) this.#retiring.add(closing);
      this.#onSpeakerFileClosedEarly?.();
    }
  }

  /**
   * `<base>.wav`, or `<base>.partN.wav` when that name is taken by this sink or already on
   * disk: a WAV from an earlier run (e.g. before a worker restart) cannot be continued
   * blindly and must not be overwritten. One synchronous existence check per new file.
   */
  #freeWavName(base: string): string {
    for (let part = 1; ; part++) {
      const name = part === 1 ? `${base}.wav` : `${base}.part${part}.wav`;
      if (!this.#files.has(name) && !existsSync(join(this.#directory, name))) return name;
    }
  }

  /** Finalizes a WAV part in the background; `close()` waits for it. */
  #retire(writer: WavWriter): void {
    const closing = writer.close().finally(() => this.#retiring.delete(closing));
    this.#retiring.add(closing);
  }

  #lineWriter(name: string, kind: MediaKind | undefined): JsonLinesWriter {
    return this.#obtain(this.#lines, name, kind, name, (path, onError) => new JsonLinesWriter({ path, onError }));
  }

  #obtain<W extends MediaWriter>(
    writers: Map<string, W>,
    key: string,
    kind: MediaKind | undefined,
    name: string,
    create: (path: string, onError: (error: Error) => void) => W,
  ): W {
    let writer = writers.get(key);
    if (writer === undefined) {
      writer = create(join(this.#directory, name), (error) => this.#writerFailed(name, error));
      writers.set(key, writer);
      this.#register(kind, name, writer);
    }
    return writer;
  }

  #register(kind: MediaKind | undefined, name: string, writer: MediaWriter): void {
    this.#outputs.push({ kind, writer });
    this.#files.add(name);
    this.#structureChanged = true;
  }

  // ── flushing ─────────────────────────────────────────────────────────────────────────

  /** Flushes run one at a time; requests made while one is waiting share it. */
  #requestFlush(): Promise<void> {
    this.#queuedFlush ??= this.#flushTail.then(() => {
      this.#queuedFlush = undefined;
      return this.#flushOnce();
    });
    this.#flushTail = this.#queuedFlush;
    return this.#queuedFlush;
  }

  /** An early flush, for when pending bytes passed the high-water mark. */
  #flushSoon(): void {
    if (this.#soon !== undefined || this.#state !== 'open') return;
    this.#soon = this.#clock.setTimeout(() => {
      this.#soon = undefined;
      void this.#requestFlush();
    }, 0);
  }

  async #flushOnce(): Promise<void> {
    if (this.#state === 'destroyed') return;
    await Promise.all(this.#outputs.map(({ writer }) => (this.#speakerFiles?.mayFlush(writer) === false ? undefined : writer.flush())));
    this.#settlePending();
    // While closing, the final stream.json follows; after a failure, only close retries it.
    if (this.#state === 'open' && this.#error === undefined && this.#streamJsonDue()) await this.#writeStreamJson();
  }

  #streamJsonDue(): boolean {
    const checkpoint = this.#checkpointRequested;
    this.#checkpointRequested = false;
    if (this.#structureChanged) return true;
    if (!this.#countersChanged) return false;
    const writtenAt = this.#streamJsonWrittenAt;
    return checkpoint || writtenAt === undefined || this.#clock.now() - writtenAt >= this.#streamJsonIntervalMs;
  }

  #settlePending(): void {
    let pending = 0;
    for (const { writer } of this.#outputs) pending += writer.pendingBytes;
    this.#pendingBytes = pending;
    if (!this.#needDrain) return;
    if (pending <= this.#lowWaterBytes) {
      this.#needDrain = false;
      // Asynchronously, like Node streams: a throwing listener must not break the flush chain.
      process.nextTick(() => this.emit('drain'));
    } else {
      this.#flushSoon();
    }
  }

  /** Replaces `stream.json` atomically (temp file + rename), so readers never see half of it. */
  async #writeStreamJson(): Promise<void> {
    this.#structureChanged = false;
    this.#countersChanged = false;
    const document = {
      ...this.#metadata,
      files: [STREAM_JSON, ...this.#files],
      counters: this.counters(),
      events: { written: this.#lines.get('events.jsonl')?.stats().recordsWritten ?? 0, dropped: this.#eventsDropped },
      sink: {
        state: this.#state,
        error: this.#error === undefined ? undefined : { code: this.#error.code, message: this.#error.message },
        updatedAt: new Date(this.#clock.now()).toISOString(),
      },
    };
    const temp = join(this.#directory, STREAM_JSON_TEMP);
    try {
      if (!this.#directoryCreated) await makeDirectory(this.#directory);
      this.#directoryCreated = true;
      await writeFile(temp, `${JSON.stringify(document, null, 2)}\n`);
      await rename(temp, join(this.#directory, STREAM_JSON));
      this.#streamJsonWrittenAt = this.#clock.now();
    } catch (error) {
      this.#writerFailed(STREAM_JSON, error instanceof Error ? error : new Error(String(error)));
    }
  }

  #writerFailed(name: string, cause: Error): void {
    const code = errorCode(cause);
    if (this.#error !== undefined) {
      this.#logger?.warn({ file: name, code }, 'another file of the failed sink could not be written');
      return;
    }
    // The message names the file and the error code only: never frame contents.
    const error = new ConnectorError('SINK_WRITE_FAILED', `cannot write ${name} in the stream directory: ${code}`, { cause });
    this.#error = error;
    this.#structureChanged = true;
    this.#logger?.error({ file: name, code }, 'file sink failed; further frames are counted as dropped');
    process.nextTick(() => this.emit('error', error));
  }

  // ── ending ───────────────────────────────────────────────────────────────────────────

  #stopTimers(): void {
    if (this.#interval !== undefined) this.#clock.clearInterval(this.#interval);
    if (this.#soon !== undefined) this.#clock.clearTimeout(this.#soon);
    this.#interval = undefined;
    this.#soon = undefined;
  }

  async #closeOnce(): Promise<void> {
    this.#state = 'closing';
    this.#stopTimers();
    await this.#requestFlush();
    await Promise.all(this.#outputs.map(({ writer }) => (this.#speakerFiles?.isRetiring(writer) ? undefined : writer.close())));
    await Promise.all(this.#retiring);
    if (this.#state !== 'closing') return; // destroyed meanwhile
    this.#state = 'closed';
    this.#settlePending();
    await this.#writeStreamJson();
  }

  async #destroyOnce(): Promise<void> {
    this.#state = 'destroyed';
    this.#stopTimers();
    await Promise.all(this.#outputs.map(({ writer }) => writer.destroy()));
    this.#settlePending();
  }
}

function transcriptLine(frame: Frame): Record<string, unknown> {
  return {
    userId: frame.userId,
    userName: frame.userName ?? null,
    timestamp: frame.timestamp,
    startTime: frame.startTime ?? null,
    endTime: frame.endTime ?? null,
    language: frame.language ?? null,
    ...(frame.attribute === undefined ? {} : { attribute: frame.attribute }),
    text: frame.data.toString('utf8'),
  };
}

/** Newer Zoom chat payloads carry a JSON object as text: kept raw in `text`, parsed in `message`. */
function chatLine(frame: Frame): Record<string, unknown> {
  const text = frame.data.toString('utf8');
  const line: Record<string, unknown> = { userId: frame.userId, userName: frame.userName ?? null, timestamp: frame.timestamp, text };
  if (text.trimStart().startsWith('{')) {
    try {
      const message: unknown = JSON.parse(text);
      if (message !== null && typeof message === 'object' && !Array.isArray(message)) line.message = message;
    } catch {
      // Plain text that happens to start with a brace.
    }
  }
  return line;
}

function addCount(counts: Record<string, number>, reason: string, count: number): void {
  if (count > 0) counts[reason] = (counts[reason] ?? 0) + count;
}

function errorCode(error: Error): string {
  const code = (error as NodeJS.ErrnoException).code;
  return typeof code === 'string' ? code : error.name;
}
