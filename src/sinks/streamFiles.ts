import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Clock } from '../clock.ts';
import type { MediaKind } from '../vocabulary/mediaKind.ts';
import { ConnectorError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { AnnexBWriter } from '../media/annexBWriter.ts';
import { CAPTION_FORMATS, frameCue } from '../media/captionCues.ts';
import { CaptionWriter } from '../media/captionWriter.ts';
import type { Frame, LifecycleEvent, MediaFormats } from '../vocabulary/frame.ts';
import { isIdrAccessUnit } from '../media/h264.ts';
import { ImageFrameWriter } from '../media/imageFrameWriter.ts';
import { JsonLinesWriter } from '../media/jsonLinesWriter.ts';
import type { MediaWriter } from '../media/mediaWriter.ts';
import { WavWriter } from '../media/wavWriter.ts';
import { AudioParts, RETIRING_PART_BYTES } from './audioParts.ts';
import { FileHealth } from './fileHealth.ts';
import { freePartName } from './streamDirectory.ts';
import type { FileSinkDropReason } from '../vocabulary/reasons.ts';
import { errnoCode, STREAM_JSON } from './streamCheckpoint.ts';
import type { SinkCounters } from './streamSink.ts';
import type { Output, StreamFilesOptions, WriterCallbacks } from './streamFileTypes.ts';
import { chatLine, transcriptLine } from './textLines.ts';
import { addWriterCounts, WriterTotals } from './writerTotals.ts';

export type { FileFault, StreamFilesOptions } from './streamFileTypes.ts';

/**
 * The files of one stream directory (see FileSink): which writer each frame goes to, under
 * which name and part, and what happens when a file fails.
 *
 * - A failed batch was cut back by its writer and waits; the file is retried after a backoff
 *   ({@link FileHealth}) while the others go on. Its data counts as pending.
 * - A failing file holding more than half the high-water mark sheds what waits (`sink_error`,
 *   with a `media.gap` event), so one file cannot hold the whole buffer.
 * - A file that cannot be continued (deleted, tail not restorable) is lost: the next frame
 *   opens a new part (`audio.part2.wav`, `video.part2.h264` starting at an IDR, ...).
 */
export class StreamFiles {
  readonly #directory: string;
  readonly #options: StreamFilesOptions;
  readonly #clock: Clock;
  readonly #logger: Logger | undefined;
  readonly health = new FileHealth();
  #formats: MediaFormats | undefined;

  /**
   * The live writers, in creation order, for flushing and counting. A finalized part leaves
   * once its counts are in `#totals`, so memory follows the files open, not the files ever made.
   */
  readonly #outputs = new Map<MediaWriter, Output>();
  /** Counts of the writers that left `#outputs`. */
  readonly #totals = new WriterTotals();
  /** Finalized parts kept because their file is still retrying (or holds data): looked at again after each flush. */
  readonly #closedKept = new Set<Output>();
  /** Names relative to the directory that are on disk (or will be), in creation order. */
  readonly #files = new Set<string>();
  readonly #audio: AudioParts;
  readonly #annexB = new Map<string, AnnexBWriter>();
  readonly #images = new Map<string, ImageFrameWriter>();
  readonly #lines = new Map<string, JsonLinesWriter>();
  readonly #captions = new Map<string, CaptionWriter>();
  /** Zoom time of the stream's first frame in this run: 00:00:00.000 of the captions. */
  #originMs: number | undefined;
  /**
   * Writer keys that had a writer before: their next one is a new part. From the start for
   * captions, and for H.264 with an index: a file of that name on disk (even one no
   * `stream.json` listed) is never continued, so each index describes its file from byte 0.
   */
  readonly #started: Set<string>;
  /** H.264 kinds whose next part must start at an IDR, with the frames dropped meanwhile. */
  readonly #awaitingIdr = new Map<MediaKind, number>();
  /** Sum of the writers' pending bytes; raised by each append, recomputed after each flush. */
  #pendingBytes = 0;
  #changes = 0;
  /** Failed records per writer already marked by a `media.gap` event. */
  readonly #markedLost = new WeakMap<MediaWriter, number>();
  /** Events raised while a flush runs, written after it. */
  #deferred: Array<[string, Record<string, unknown>]> | undefined;

  constructor(options: StreamFilesOptions) {
    this.#options = options;
    this.#started = new Set<string>([...CAPTION_FORMATS, ...(options.frameIndex === true ? ['video.h264', 'deskshare.h264'] : [])]);
    this.#directory = options.directory;
    this.#audio = new AudioParts({
      directory: this.#directory,
      maxWavDataBytes: options.maxWavDataBytes,
      fillAudioGaps: options.fillAudioGaps,
      index: options.frameIndex,
      maxOpenSpeakerFiles: options.maxOpenSpeakerFiles,
      onSpeakerFileClosedEarly: options.onSpeakerFileClosedEarly,
      taken: this.#files,
      callbacks: (name) => this.#callbacks(name),
      register: (name, writer, detach) => this.#register('audio', name, writer, detach),
      finished: (writer) => this.#finished(writer),
    });
    this.#clock = options.clock;
    this.#logger = options.logger;
    for (const name of options.previousFiles) {
      if (name === STREAM_JSON || name.includes('..') || !existsSync(join(this.#directory, name))) continue;
      this.#files.add(name);
      // An earlier run's H.264 may end in a torn access unit (killed mid-write): this run
      // writes a new part, from an IDR, instead of appending to it.
      const kind = /^(video|deskshare)\.h264$/.exec(name)?.[1] as MediaKind | undefined;
      if (kind !== undefined) {
        this.#started.add(name);
        this.#awaitingIdr.set(kind, 0);
      }
    }
  }

  /** Data not yet on disk, plus what parts being finalized hold ({@link RETIRING_PART_BYTES} each). */
  get pendingBytes(): number {
    return this.#pendingBytes + this.#audio.retiring * RETIRING_PART_BYTES;
  }

  /** Writers held now (open, being finalized, or failing): bounded, unlike the files ever made. */
  get writers(): number {
    return this.#outputs.size;
  }

  /** Grows whenever the file list or a file's state changed (for `stream.json`). */
  get changes(): number {
    return this.#changes;
  }

  /** When the earliest failing file that still holds data is due again, ms epoch (a file that shed everything waits for new data). */
  nextRetryAt(): number | undefined {
    let next: number | undefined;
    for (const { name, writer } of this.#outputs.values()) {
      const at = this.health.retryAt(name);
      if (at !== undefined && writer.pendingBytes > 0 && (next === undefined || at < next)) next = at;
    }
    return next;
  }

  /** Output names, in creation order. */
  names(): readonly string[] {
    return [...this.#files];
  }

  setFormats(formats: MediaFormats): void {
    this.#formats = formats;
  }

  appendEvent(event: LifecycleEvent): void {
    const writer = this.#lineWriter('events.jsonl', undefined);
    const before = writer.pendingBytes;
    writer.append(event);
    this.#grew(writer, before);
  }

  eventsWritten(): number {
    let written = this.#totals.eventsWritten();
    for (const { kind, writer } of this.#outputs.values())
      if (kind === undefined && writer instanceof JsonLinesWriter) written += writer.stats().recordsWritten;
    return written;
  }

  /** Adds the writers' counts to `result`, per kind. */
  addCounters(result: Partial<Record<MediaKind, SinkCounters>>): void {
    for (const { kind, writer } of this.#outputs.values()) if (kind !== undefined) addWriterCounts(result, kind, writer.stats());
    this.#totals.addCounters(result);
  }

  /** Queues the frame on its writer; otherwise says why it is dropped. */
  append(frame: Frame): FileSinkDropReason | undefined {
    const kind = frame.kind;
    this.#originMs ??= frame.timestamp;
    if (kind === 'audio') {
      return this.#audio.append(frame, this.#formats?.audio, (writer, before) => this.#grew(writer, before)) ? undefined : 'format_unknown';
    }
    if (kind === 'transcript' || kind === 'chat') {
      const writer = this.#lineWriter(`${kind}.jsonl`, kind);
      const before = writer.pendingBytes;
      writer.append(kind === 'transcript' ? transcriptLine(frame) : chatLine(frame));
      this.#grew(writer, before);
      if (kind === 'transcript' && this.#options.captions === true) this.#appendCaption(frame, this.#originMs);
      return undefined;
    }
    const codec = this.#formats?.[kind].codec;
    if (codec === undefined) return 'format_unknown';
    if (codec !== 'h264') {
      const writer = this.#obtain(this.#images, `${kind}.${codec}`, kind, `${kind}/`, (directory, callbacks) => {
        return new ImageFrameWriter({ directory, extension: codec, ...callbacks });
      });
      const before = writer.pendingBytes;
      writer.append(frame.timestamp, frame.data);
      this.#grew(writer, before);
      return undefined;
    }
    const waited = this.#awaitingIdr.get(kind);
    if (waited !== undefined) {
      // A part that follows lost access units must start where a decoder can.
      if (!isIdrAccessUnit(frame.data)) {
        this.#awaitingIdr.set(kind, waited + 1);
        return 'sink_error';
      }
      this.#awaitingIdr.delete(kind);
      if (waited > 0) this.#sinkEvent('media.gap', { kind, reason: 'sink_error', frames: waited, awaitingKeyframe: true });
    }
    const name = `${kind}.h264`;
    const writer = this.#obtain(
      this.#annexB,
      name,
      kind,
      name,
      (path, callbacks) => new AnnexBWriter({ path, index: this.#options.frameIndex === true, ...callbacks }),
    );
    const before = writer.pendingBytes;
    writer.append(frame.data, frame);
    this.#grew(writer, before);
    return undefined;
  }

  /** Keeps `pendingBytes` current without summing over every writer on each frame. */
  #grew(writer: MediaWriter, pendingBefore: number): void {
    this.#pendingBytes += writer.pendingBytes - pendingBefore;
  }

  /** The line as a cue in `transcript.vtt` and `transcript.srt` (captionCues.ts); not a frame of its own. */
  #appendCaption(frame: Frame, originMs: number): void {
    const cue = frameCue(frame, originMs);
    if (cue === undefined) return;
    for (const format of CAPTION_FORMATS) {
      const create = (path: string, callbacks: WriterCallbacks): CaptionWriter => new CaptionWriter({ path, format, originMs, ...callbacks });
      const writer = this.#obtain(this.#captions, format, undefined, `transcript.${format}`, create);
      const before = writer.pendingBytes;
      writer.append(cue);
      this.#grew(writer, before);
    }
  }

  #lineWriter(name: string, kind: MediaKind | undefined): JsonLinesWriter {
    return this.#obtain(this.#lines, name, kind, name, (path, callbacks) => new JsonLinesWriter({ path, ...callbacks }));
  }

  /**
   * The writer for `key`; a new one continues `name` (formats that concatenate), except after
   * a lost part: then it takes the next free part name.
   */
  #obtain<W extends MediaWriter>(
    writers: Map<string, W>,
    key: string,
    kind: MediaKind | undefined,
    fileName: string,
    create: (path: string, callbacks: WriterCallbacks) => W,
  ): W {
    let writer = writers.get(key);
    if (writer === undefined) {
      const name = this.#started.has(key) ? freePartName(this.#directory, this.#files, fileName) : fileName;
      this.#started.add(key);
      const created = create(join(this.#directory, name), this.#callbacks(name));
      writers.set(key, created);
      this.#register(kind, name, created, () => {
        if (writers.get(key) === created) writers.delete(key);
      });
      writer = created;
    }
    return writer;
  }

  #callbacks(name: string): WriterCallbacks {
    return { onError: (error) => this.#fileLost(name, error), onRetry: (error) => this.#fileRetrying(name, error) };
  }

  #register(kind: MediaKind | undefined, name: string, writer: MediaWriter, detach: () => void): void {
    // A name reused after its file was deleted: the new file starts healthy (its last error stays).
    this.health.reopened(name);
    this.#outputs.set(writer, { kind, name, writer, detach });
    this.#files.add(name);
    if ((writer instanceof WavWriter || writer instanceof AnnexBWriter) && writer.index !== undefined) this.#files.add(`${name}.index.jsonl`);
    this.#changes += 1;
  }

  // ── file failures ────────────────────────────────────────────────────────────────────

  #fileRetrying(name: string, cause: Error): void {
    const code = errnoCode(cause);
    if (!this.health.retry(name, code, this.#clock.now())) return;
    this.#fault(name, code, cause, false);
    this.#logger?.warn({ file: name, code }, 'cannot write file; its data waits and is retried');
  }

  /** The file cannot be continued: what waited for it is lost, and its stream goes on in a new part. */
  #fileLost(name: string, cause: Error): void {
    const output = [...this.#outputs.values()].find((candidate) => candidate.name === name && candidate.writer.stats().error === cause);
    if (output === undefined) return;
    const code = errnoCode(cause);
    output.detach();
    this.health.lost(name, code, this.#clock.now());
    // Deleted with its directory: no longer listed (its state stays in `sink.files`).
    for (const file of [name, `${name}.index.jsonl`]) if (!existsSync(join(this.#directory, file))) this.#files.delete(file);
    this.#fault(name, code, cause, true);
    this.#logger?.warn({ file: name, code }, 'file lost; its stream continues in a new part');
    this.#lostRecords(output);
  }

  /** Marks what a file could not write since the last mark; an H.264 stream must then restart at an IDR. */
  #lostRecords(output: Output): void {
    if (output.kind === undefined) return;
    if (output.writer instanceof AnnexBWriter) this.#awaitingIdr.set(output.kind, this.#awaitingIdr.get(output.kind) ?? 0);
    const failed = output.writer.stats().recordsFailed;
    const frames = failed - (this.#markedLost.get(output.writer) ?? 0);
    this.#markedLost.set(output.writer, failed);
    if (frames > 0) this.#sinkEvent('media.gap', { kind: output.kind, reason: 'sink_error', file: output.name, frames });
  }

  #fault(name: string, code: string, cause: Error, lost: boolean): void {
    // The message names the file and the error code only: never frame contents.
    this.#changes += 1;
    const error = new ConnectorError('SINK_WRITE_FAILED', `cannot write ${name} in the stream directory: ${code}`, { cause, retryable: !lost });
    this.#sinkEvent(lost ? 'sink.file_lost' : 'sink.file_failing', { file: name, code });
    this.#options.onFault({ file: name, code, lost, error });
  }

  #sinkEvent(eventType: string, data: Record<string, unknown>): void {
    // During a flush, `events.jsonl` itself may be failing: its events follow the flush.
    if (this.#deferred !== undefined) this.#deferred.push([eventType, data]);
    else this.#options.onEvent(eventType, data);
  }

  /** A failing file holding more than half the high-water mark sheds what waits for it. */
  #shed(): void {
    if (this.health.retrying === 0) return;
    for (const output of this.#outputs.values()) {
      if (!this.health.isRetrying(output.name) || output.writer.pendingBytes <= this.#options.highWaterBytes / 2) continue;
      const frames = output.writer.discard?.() ?? 0;
      this.#logger?.warn({ file: output.name, frames }, 'failing file shed the data waiting for it');
      this.#lostRecords(output);
    }
  }

  /**
   * Writes every file not in a retry backoff (all of them with `force`), notes the ones that
   * recovered, and lets failing files shed what they hold beyond their share. Never rejects.
   */
  async flush(force = false): Promise<void> {
    const now = this.#clock.now();
    const outputs = [...this.#outputs.values()];
    const due = force ? outputs : outputs.filter(({ name }) => this.health.isDue(name, now));
    this.#deferred = [];
    // A speaker file closed to bound descriptors is written out by its close queue instead.
    await Promise.all(due.flatMap(({ writer }) => (this.#audio.mayFlush(writer) ? [writer.flush()] : [])));
    const deferred = this.#deferred;
    this.#deferred = undefined;
    for (const [eventType, data] of deferred) this.#options.onEvent(eventType, data);
    for (const { name, writer } of due) {
      if (!this.health.isRetrying(name)) continue;
      const stats = writer.stats();
      if (stats.retryError !== undefined || stats.error !== undefined) continue;
      const failedMs = this.health.recovered(name, this.#clock.now());
      this.#changes += 1;
      this.#logger?.info({ file: name, failedMs }, 'file written again');
      this.#sinkEvent('sink.file_recovered', { file: name, failedMs });
    }
    this.#shed();
    for (const output of this.#closedKept) this.#drop(output);
    let pending = 0;
    for (const { writer } of this.#outputs.values()) pending += writer.pendingBytes;
    this.#pendingBytes = pending;
  }

  /** A part finalized before the stream ends (roll-over, or closed to bound descriptors). */
  #finished(writer: MediaWriter): void {
    const output = this.#outputs.get(writer);
    if (output !== undefined) this.#drop(output);
  }

  /** Folds a finalized part's counts into the totals and forgets it, unless its file still fails or holds data. */
  #drop(output: Output): void {
    const { writer } = output;
    const stats = writer.stats();
    if (writer.pendingBytes > 0 || stats.retryError !== undefined || this.health.isRetrying(output.name)) {
      this.#closedKept.add(output);
      return;
    }
    this.#closedKept.delete(output);
    this.#outputs.delete(writer);
    this.#totals.add(output.kind, stats);
  }

  /** Closes every file (what a failing file still holds is counted `sink_error`). */
  async close(): Promise<void> {
    await Promise.all([...this.#outputs.values()].flatMap(({ writer }) => (this.#audio.isRetiring(writer) ? [] : [writer.close()])));
    await this.#audio.settle();
    this.#pendingBytes = 0;
  }

  async destroy(): Promise<void> {
    await Promise.all([...this.#outputs.values()].map(({ writer }) => writer.destroy()));
    let pending = 0;
    for (const { writer } of this.#outputs.values()) pending += writer.pendingBytes;
    this.#pendingBytes = pending;
  }
}
