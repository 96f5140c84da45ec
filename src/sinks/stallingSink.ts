import { EventEmitter } from 'node:events';
import { systemClock, type Clock } from '../clock.ts';
import type { MediaKind } from '../vocabulary/mediaKind.ts';
import type { Frame, LifecycleEvent, MediaFormats } from '../vocabulary/frame.ts';
import type { SinkHealth } from '../vocabulary/streamStats.ts';
import type { SinkCounters, StreamSink } from './streamSink.ts';

/**
 * A real sink that stops accepting frames for a while: a disk that stalls, for testing
 * backpressure end to end (`DEBUG_SINK_STALL=<afterMs>:<forMs>`). From `afterMs` after
 * creation and for `forMs`, `write()` holds the frame and answers false; afterwards the
 * held frames go to the inner sink and `'drain'` follows as usual.
 */
export class StallingSink extends EventEmitter implements StreamSink {
  readonly #inner: StreamSink;
  readonly #clock: Clock;
  readonly #held: Frame[] = [];
  #heldBytes = 0;
  #stalled = false;
  readonly #timers: NodeJS.Timeout[] = [];

  constructor(options: { inner: StreamSink; afterMs: number; forMs: number; clock?: Clock }) {
    super();
    this.#inner = options.inner;
    this.#clock = options.clock ?? systemClock;
    this.#inner.on('drain', () => {
      if (!this.#stalled) this.emit('drain');
    });
    this.#inner.on('error', (error: unknown) => this.emit('error', error));
    this.#inner.on('fault', (fault: unknown) => this.emit('fault', fault));
    this.#timers.push(
      this.#clock.setTimeout(() => (this.#stalled = true), options.afterMs),
      this.#clock.setTimeout(() => this.#release(), options.afterMs + options.forMs),
    );
  }

  health(): SinkHealth | undefined {
    return this.#inner.health?.();
  }

  write(frame: Frame): boolean {
    if (!this.#stalled) return this.#inner.write(frame);
    this.#held.push(frame);
    this.#heldBytes += frame.data.length;
    return false;
  }

  get pendingBytes(): number {
    return this.#inner.pendingBytes + this.#heldBytes;
  }

  setFormats(formats: MediaFormats): void {
    this.#inner.setFormats(formats);
  }

  writeEvent(event: LifecycleEvent): void {
    this.#inner.writeEvent(event);
  }

  setMetadata(metadata: Readonly<Record<string, unknown>>, options?: { readonly countersOnly?: boolean }): void {
    this.#inner.setMetadata(metadata, options);
  }

  counters(): Readonly<Partial<Record<MediaKind, SinkCounters>>> {
    return this.#inner.counters();
  }

  files(): readonly string[] {
    return this.#inner.files();
  }

  flush(): Promise<void> {
    return this.#inner.flush();
  }

  async close(): Promise<void> {
    this.#release();
    await this.#inner.close();
  }

  async destroy(): Promise<void> {
    this.#release();
    await this.#inner.destroy();
  }

  #release(): void {
    for (const timer of this.#timers) this.#clock.clearTimeout(timer);
    if (!this.#stalled && this.#held.length === 0) return;
    this.#stalled = false;
    let accepting = true;
    for (const frame of this.#held.splice(0)) accepting = this.#inner.write(frame) && accepting;
    this.#heldBytes = 0;
    if (accepting) this.emit('drain');
  }
}
