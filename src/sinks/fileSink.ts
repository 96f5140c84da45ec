import { EventEmitter } from 'node:events';
import { systemClock, type Clock } from '../clock.ts';
import type { MediaKind } from '../vocabulary/mediaKind.ts';
import { ConnectorError } from '../errors.ts';
import { lifecycleEvent, type Frame, type LifecycleEvent, type MediaFormats } from '../vocabulary/frame.ts';
import type { SinkHealth } from '../vocabulary/streamStats.ts';
import { resolveFileSinkOptions, type FileSinkOptions } from './fileSinkOptions.ts';
import { type FileSinkDropReason } from '../vocabulary/reasons.ts';
import { STREAM_JSON, StreamCheckpoint } from './streamCheckpoint.ts';
import { StreamFiles, type FileFault } from './streamFiles.ts';
import type { SinkCounters, StreamSink } from './streamSink.ts';

export type { FileSinkDropReason } from '../vocabulary/reasons.ts';
export type { FileSinkOptions } from './fileSinkOptions.ts';
export type { FileFault } from './streamFiles.ts';

type SinkState = 'open' | 'closing' | 'closed' | 'destroyed';

/**
 * Writes one stream to files under its directory (README "Output"):
 *
 * | file | content |
 * |---|---|
 * | `stream.json` | metadata from `setMetadata()` + `files`, `counters`, `events`, `sink` (state, each failing file's state and last error); replaced atomically (counters every `streamJsonIntervalMs`, anything else at the next flush) and on close |
 * | `events.jsonl` | `writeEvent()` envelopes, and the sink's own `sink.file_*` / `media.gap` events |
 * | `audio.wav` / `audio-<userId>.wav` | mixed / per-speaker 16-bit PCM (`.part2.wav`, … after 4 GiB, a format change, a lost file, or when a previous run's file exists) |
 * | `video.h264`, `deskshare.h264` | Annex B (`.part2.h264`, … after a lost file, starting at an IDR) |
 * | `video/<timestamp>.jpg`, `deskshare/…` | one image per frame (listed in `files()` as `video/`) |
 * | `transcript.jsonl`, `chat.jsonl` | one message per line |
 * | `<WAV or H.264 file>.index.jsonl` | with `frameIndex`: each frame's Zoom timestamp, user and bytes (frameIndex.ts) |
 * | `transcript.vtt`, `transcript.srt` | with `captions`: a cue per transcript line (captionWriter.ts) |
 *
 * Files are created when their first frame is flushed. `write()` only queues (no syscall,
 * no await per frame); a timer writes every `flushIntervalMs`, and earlier when pending
 * bytes pass the high-water mark. Every frame given to `write()` ends up in exactly one of
 * `framesWritten` (on disk), `framesDropped[reason]`, or pending.
 *
 * Write errors stay with their file (README "Reliability"). A failed batch is cut back to the
 * file's last complete record and waits in memory; the file is retried with backoff while the
 * others go on. The waiting data counts against the high-water mark (backpressure first, then
 * the stream's drop policy), and a failing file holding more than half of it sheds what waits
 * (`sink_error`, with a `media.gap` event). A file that cannot be continued (deleted, or its
 * tail could not be restored) is given up: its stream goes on in a new part. `stream.json` is
 * its own file: its failures never stop the media files, and it is written again at the next
 * refresh. Each incident is emitted as a `'fault'` ({@link FileFault}); the sink never fails
 * as a whole.
 *
 * Frames are kept by reference until written: do not modify `frame.data` after `write()`.
 */
export class FileSink extends EventEmitter implements StreamSink {
  readonly #directory: string;
  readonly #options: ReturnType<typeof resolveFileSinkOptions>;
  readonly #clock: Clock;
  readonly #checkpoint: StreamCheckpoint;
  readonly #files: StreamFiles;

  #state: SinkState = 'open';
  #error: ConnectorError | undefined;
  /** The last failed `stream.json` write. */
  #checkpointFault: SinkHealth['lastError'];
  #checkpointFailingSince = 0;
  #metadata: Readonly<Record<string, unknown>> = {};
  /** Drops counted by the sink itself, per kind seen; writers count their own failures. */
  readonly #dropped = new Map<MediaKind, Record<string, number>>();
  #eventsDropped = 0;

  #needDrain = false;
  /** `#files.changes` when `stream.json` was last written; anything else than counters changed since. */
  #writtenChanges = -1;
  #metadataChanged = true;
  /** Counters changed since `stream.json` was last written. */
  #countersChanged = false;
  /** An explicit `flush()` asked for a fresh `stream.json`. */
  #checkpointRequested = false;
  #forceRequested = false;

  #interval: NodeJS.Timeout | undefined;
  #soon: NodeJS.Timeout | undefined;
  #retryTimer: NodeJS.Timeout | undefined;
  #flushTail: Promise<void> = Promise.resolve();
  #queuedFlush: Promise<void> | undefined;
  #closing: Promise<void> | undefined;
  #destroying: Promise<void> | undefined;

  constructor(options: FileSinkOptions) {
    super();
    this.#options = resolveFileSinkOptions(options);
    this.#directory = options.directory;
    this.#clock = options.clock ?? systemClock;
    this.#checkpoint = new StreamCheckpoint({ directory: this.#directory, clock: this.#clock, logger: options.logger });
    this.#files = new StreamFiles({
      directory: this.#directory,
      maxWavDataBytes: this.#options.maxWavDataBytes,
      highWaterBytes: this.#options.highWaterBytes,
      fillAudioGaps: options.fillAudioGaps === true,
      frameIndex: options.frameIndex === true,
      captions: options.captions === true,
      maxOpenSpeakerFiles: options.maxOpenSpeakerFiles,
      onSpeakerFileClosedEarly: options.onSpeakerFileClosedEarly,
      previousFiles: options.previousFiles ?? [],
      clock: this.#clock,
      logger: options.logger,
      onFault: (fault) => this.#onFault(fault),
      onEvent: (eventType, data) => this.#sinkEvent(eventType, data),
    });
    // Returns the flush (timers ignore it) so a test clock can await the periodic flush; a
    // flush records its failures in the files' health and never rejects.
    // eslint-disable-next-line @typescript-eslint/no-misused-promises -- the promise is returned on purpose, see above
    this.#interval = this.#clock.setInterval(() => this.#requestFlush(), this.#options.flushIntervalMs);
    // A sink must not keep the process alive on its own; its owner closes it.
    this.#interval.unref?.();
  }

  get directory(): string {
    return this.#directory;
  }

  /** Bytes accepted but not yet on disk. */
  get pendingBytes(): number {
    return this.#files.pendingBytes;
  }

  /** The most recent write error of any file (kept after the file recovered). */
  get error(): ConnectorError | undefined {
    return this.#error;
  }

  /** Whether a file (`stream.json` included) is failing now, and the last error. */
  health(): SinkHealth {
    const health = this.#files.health.health();
    const checkpoint = this.#checkpointFault;
    const lastError = checkpoint !== undefined && (health.lastError === undefined || checkpoint.at > health.lastError.at) ? checkpoint : health.lastError;
    return { state: this.#checkpoint.lastError === undefined ? health.state : 'failing', lastError };
  }

  setFormats(formats: MediaFormats): void {
    this.#files.setFormats(formats);
  }

  setMetadata(metadata: Readonly<Record<string, unknown>>, options?: { readonly countersOnly?: boolean }): void {
    this.#metadata = { ...metadata };
    if (options?.countersOnly === true) this.#countersChanged = true;
    else this.#metadataChanged = true;
  }

  write(frame: Frame): boolean {
    this.#countersChanged = true;
    const reason = this.#refusal() ?? this.#files.append(frame);
    if (reason !== undefined) {
      let dropped = this.#dropped.get(frame.kind);
      if (dropped === undefined) this.#dropped.set(frame.kind, (dropped = {}));
      dropped[reason] = (dropped[reason] ?? 0) + 1;
    }
    if (this.#files.pendingBytes <= this.#options.highWaterBytes) return true;
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
    this.#files.appendEvent(event);
  }

  counters(): Readonly<Partial<Record<MediaKind, SinkCounters>>> {
    const result: Partial<Record<MediaKind, SinkCounters>> = {};
    for (const [kind, dropped] of this.#dropped) {
      result[kind] = { framesWritten: 0, bytesWritten: 0, framesDropped: { ...dropped } };
    }
    this.#files.addCounters(result);
    return result;
  }

  files(): readonly string[] {
    return this.#checkpoint.writtenAt !== undefined ? [STREAM_JSON, ...this.#files.names()] : this.#files.names();
  }

  /**
   * Writes everything accepted so far, refreshes WAV headers and `stream.json`. Runs on a
   * timer anyway; exposed for tests and for callers that want a checkpoint. Never rejects.
   */
  flush(): Promise<void> {
    if (this.#state !== 'open') return this.#flushTail;
    this.#checkpointRequested = true;
    // Asked for: failing files are tried now too, whatever their backoff.
    this.#forceRequested = true;
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

  #refusal(): FileSinkDropReason | undefined {
    if (this.#state === 'open') return undefined;
    return this.#state === 'destroyed' ? 'sink_destroyed' : 'sink_closed';
  }

  #onFault(fault: FileFault): void {
    this.#error = fault.error;
    this.emit('fault', fault);
  }

  /** An event of the sink itself, in `events.jsonl` (written with the next flush). */
  #sinkEvent(eventType: string, data: Record<string, unknown>): void {
    const rtmsStreamId = this.#metadata['rtmsStreamId'];
    this.writeEvent(lifecycleEvent(eventType, { ...(typeof rtmsStreamId === 'string' ? { rtmsStreamId } : {}), ...data }, this.#clock.now()));
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

  /** A flush when the earliest failing file is due again. */
  #scheduleRetry(): void {
    const at = this.#files.nextRetryAt();
    if (at === undefined || this.#retryTimer !== undefined || this.#state !== 'open') return;
    this.#retryTimer = this.#clock.setTimeout(
      () => {
        this.#retryTimer = undefined;
        void this.#requestFlush();
      },
      Math.max(0, at - this.#clock.now()),
    );
    this.#retryTimer.unref?.();
  }

  async #flushOnce(): Promise<void> {
    if (this.#state === 'destroyed') return;
    const force = this.#forceRequested;
    this.#forceRequested = false;
    await this.#files.flush(force);
    this.#settleDrain();
    this.#scheduleRetry();
    // Refreshed whatever the media files do; while closing, the final stream.json follows.
    if (this.#state === 'open' && this.#streamJsonDue()) await this.#writeStreamJson();
  }

  #streamJsonDue(): boolean {
    const checkpoint = this.#checkpointRequested;
    this.#checkpointRequested = false;
    if (this.#metadataChanged || this.#writtenChanges !== this.#files.changes || this.#checkpoint.lastError !== undefined) return true;
    if (!this.#countersChanged) return false;
    const writtenAt = this.#checkpoint.writtenAt;
    return checkpoint || writtenAt === undefined || this.#clock.now() - writtenAt >= this.#options.streamJsonIntervalMs;
  }

  #settleDrain(): void {
    if (!this.#needDrain) return;
    if (this.#files.pendingBytes <= this.#options.lowWaterBytes) {
      this.#needDrain = false;
      // Asynchronously, like Node streams: a throwing listener must not break the flush chain.
      process.nextTick(() => this.emit('drain'));
    } else {
      this.#flushSoon();
    }
  }

  async #writeStreamJson(): Promise<boolean> {
    this.#metadataChanged = false;
    this.#writtenChanges = this.#files.changes;
    this.#countersChanged = false;
    const failingBefore = this.#checkpoint.lastError !== undefined;
    const written = await this.#checkpoint.write(this.#document());
    const code = this.#checkpoint.lastError;
    if (code !== undefined) {
      this.#checkpointFault = { file: STREAM_JSON, code, at: this.#clock.now() };
      // Once per incident, like the media files: `stream.json` failing never stops them.
      if (!failingBefore) {
        this.#checkpointFailingSince = this.#clock.now();
        const error = new ConnectorError('SINK_WRITE_FAILED', `cannot write ${STREAM_JSON} in the stream directory: ${code}`, { retryable: true });
        this.#sinkEvent('sink.file_failing', { file: STREAM_JSON, code });
        this.#onFault({ file: STREAM_JSON, code, lost: false, error });
      }
    } else if (failingBefore) {
      this.#sinkEvent('sink.file_recovered', { file: STREAM_JSON, failedMs: this.#clock.now() - this.#checkpointFailingSince });
    }
    return written;
  }

  #document(): Record<string, unknown> {
    const health = this.health();
    const files: Record<string, unknown> = this.#files.health.snapshot();
    const checkpointError = this.#checkpoint.lastError;
    if (checkpointError !== undefined) files[STREAM_JSON] = { state: 'retrying', lastError: checkpointError };
    return {
      ...this.#metadata,
      files: [STREAM_JSON, ...this.#files.names()],
      counters: this.counters(),
      events: { written: this.#files.eventsWritten(), dropped: this.#eventsDropped },
      sink: {
        state: this.#state,
        health: health.state,
        error:
          health.lastError === undefined
            ? undefined
            : { file: health.lastError.file, code: health.lastError.code, at: new Date(health.lastError.at).toISOString() },
        // Every file that ever failed: `ok` (recovered), `retrying` or `lost`, with its last error.
        files,
        updatedAt: new Date(this.#clock.now()).toISOString(),
      },
    };
  }

  // ── ending ───────────────────────────────────────────────────────────────────────────

  #stopTimers(): void {
    if (this.#interval !== undefined) this.#clock.clearInterval(this.#interval);
    if (this.#soon !== undefined) this.#clock.clearTimeout(this.#soon);
    if (this.#retryTimer !== undefined) this.#clock.clearTimeout(this.#retryTimer);
    this.#interval = undefined;
    this.#soon = undefined;
    this.#retryTimer = undefined;
  }

  async #closeOnce(): Promise<void> {
    this.#state = 'closing';
    this.#stopTimers();
    const deadline = this.#clock.now() + this.#options.finalWriteTimeoutMs;
    await this.#requestFlush();
    // Failing files get until the deadline; what still waits then is counted as lost.
    for (let at = this.#files.nextRetryAt(); at !== undefined && at < deadline; at = this.#files.nextRetryAt()) {
      await new Promise<void>((resolve) => this.#clock.setTimeout(resolve, Math.max(0, at - this.#clock.now())));
      if (this.#state !== 'closing') return;
      await this.#requestFlush();
    }
    await this.#files.close();
    if (this.#state !== 'closing') return; // destroyed meanwhile
    this.#state = 'closed';
    await this.#checkpoint.writeFinal(() => this.#document(), deadline);
  }

  async #destroyOnce(): Promise<void> {
    this.#state = 'destroyed';
    this.#stopTimers();
    await this.#files.destroy();
  }
}
