import { EventEmitter } from 'node:events';
import { systemClock, type Clock } from '../../clock.ts';
import type { MediaKind } from '../../vocabulary/mediaKind.ts';
import type { Logger } from '../../logger.ts';
import { lifecycleEvent, type Frame, type LifecycleEvent, type MediaFormats } from '../../vocabulary/frame.ts';
import type { SinkHealth } from '../../vocabulary/streamStats.ts';
import type { SinkCounters, StreamSink } from '../streamSink.ts';
import { Recorder } from './recorder.ts';

export interface RecordingSinkOptions {
  /** The stream's accounted sink (the file sink): it gets every frame and event first. */
  readonly inner: StreamSink;
  readonly directory: string;
  /** Files an earlier run left in the directory: recording parts never reuse their names. */
  readonly previousFiles: readonly string[];
  readonly fillAudioGaps: boolean;
  /** `RECORDING_CAPTION_DELAY_MS` when the transcript is requested, else 0 (no subtitle track). */
  readonly captionDelayMs?: number | undefined;
  /** How often the muxed data is appended to the file, ms (the file sink's flush interval). */
  readonly flushIntervalMs: number;
  readonly clock?: Clock | undefined;
  readonly logger?: Logger | undefined;
}

/**
 * Adds the synced recording (docs/output.md "Recording") beside the stream's files. Every
 * frame goes to the inner sink, which alone carries the stream's accounting; the recording
 * is an extra output that counts its own frames and failures (`stream.json` → `recording`)
 * and can never fail, slow or hold back the inner sink. A rejoin (`stream.rejoin`) ends the
 * part being written.
 */
export class RecordingSink extends EventEmitter implements StreamSink {
  readonly #inner: StreamSink;
  readonly #recorder: Recorder;
  readonly #clock: Clock;
  #interval: NodeJS.Timeout | undefined;
  #metadata: Readonly<Record<string, unknown>> = {};
  #flushing: Promise<void> = Promise.resolve();
  #closed = false;

  constructor(options: RecordingSinkOptions) {
    super();
    this.#inner = options.inner;
    this.#clock = options.clock ?? systemClock;
    this.#recorder = new Recorder({
      directory: options.directory,
      taken: new Set(options.previousFiles),
      fillAudioGaps: options.fillAudioGaps,
      captionDelayMs: options.captionDelayMs,
      logger: options.logger,
      onEvent: (eventType, data) => {
        const rtmsStreamId = this.#metadata['rtmsStreamId'];
        this.#inner.writeEvent(lifecycleEvent(eventType, { ...(typeof rtmsStreamId === 'string' ? { rtmsStreamId } : {}), ...data }, this.#clock.now()));
      },
    });
    for (const name of ['drain', 'error', 'fault'] as const) this.#inner.on(name, (value: unknown) => this.emit(name, value));
    this.#interval = this.#clock.setInterval(() => void this.#flushRecording(), options.flushIntervalMs);
    this.#interval.unref?.();
  }

  get pendingBytes(): number {
    return this.#inner.pendingBytes;
  }

  health(): SinkHealth | undefined {
    return this.#inner.health?.();
  }

  setFormats(formats: MediaFormats): void {
    this.#inner.setFormats(formats);
    this.#recorder.setFormats(formats);
  }

  write(frame: Frame): boolean {
    const more = this.#inner.write(frame);
    if (!this.#closed) this.#recorder.add(frame);
    return more;
  }

  writeEvent(event: LifecycleEvent): void {
    // The recording's last events come before the stream's terminal one, which stays last.
    if (event.eventType === 'stream.ended' || event.eventType === 'stream.failed') this.#recorder.end();
    this.#inner.writeEvent(event);
    // Media after a rejoin may restart anywhere in time: each connection gets its own part.
    if (event.eventType === 'stream.rejoin' || event.eventType === 'stream.resumed') this.#recorder.cut('rejoin');
  }

  setMetadata(metadata: Readonly<Record<string, unknown>>, options?: { readonly countersOnly?: boolean }): void {
    this.#metadata = metadata;
    this.#inner.setMetadata({ ...metadata, recording: this.#recorder.stats() }, options);
  }

  counters(): Readonly<Partial<Record<MediaKind, SinkCounters>>> {
    return this.#inner.counters();
  }

  files(): readonly string[] {
    return [...this.#inner.files(), ...this.#recorder.files()];
  }

  async flush(): Promise<void> {
    await Promise.all([this.#inner.flush(), this.#flushRecording()]);
  }

  async close(): Promise<void> {
    this.#stop();
    await this.#flushing;
    await this.#recorder.close();
    this.#inner.setMetadata({ ...this.#metadata, recording: this.#recorder.stats() });
    await this.#inner.close();
  }

  async destroy(): Promise<void> {
    this.#stop();
    // What was muxed goes to disk (the file stays valid); what waits for discovery is left.
    await this.#flushing;
    await this.#recorder.destroy();
    await this.#inner.destroy();
  }

  #stop(): void {
    this.#closed = true;
    if (this.#interval !== undefined) this.#clock.clearInterval(this.#interval);
    this.#interval = undefined;
  }

  #flushRecording(): Promise<void> {
    this.#flushing = this.#flushing.then(() => this.#recorder.flush());
    return this.#flushing;
  }
}
