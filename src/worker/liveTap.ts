import type { MediaKind } from '../vocabulary/mediaKind.ts';
import type { Frame, LifecycleEvent } from '../vocabulary/frame.ts';
import type { LiveBatch, LiveItem } from '../vocabulary/liveBatch.ts';
import type { FrameTap } from '../sinks/frameTap.ts';

/**
 * Copies one stream's frames and events for live subscribers into batches (at most every
 * `flushMs`, or sooner past `maxBatchBytes`) that cross to the supervisor thread as one
 * transferred buffer. With no subscriber it costs one Set lookup per frame; it never waits.
 */
export class LiveTap implements FrameTap {
  readonly #rtmsStreamId: string;
  readonly #send: (batch: LiveBatch) => void;
  readonly #flushMs: number;
  readonly #maxBatchBytes: number;
  /** Subscription id → media kinds it wants (events always). */
  readonly #subscriptions = new Map<number, ReadonlySet<MediaKind>>();
  #wanted: ReadonlySet<MediaKind> = new Set();
  #items: LiveItem[] = [];
  #chunks: Buffer[] = [];
  #bytes = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(options: { rtmsStreamId: string; send: (batch: LiveBatch) => void; flushMs?: number; maxBatchBytes?: number }) {
    this.#rtmsStreamId = options.rtmsStreamId;
    this.#send = options.send;
    this.#flushMs = options.flushMs ?? 50;
    this.#maxBatchBytes = options.maxBatchBytes ?? 256 * 1024;
  }

  subscribe(subscriptionId: number, kinds: readonly MediaKind[]): void {
    this.#subscriptions.set(subscriptionId, new Set(kinds));
    this.#recomputeWanted();
  }

  unsubscribe(subscriptionId: number): void {
    this.#subscriptions.delete(subscriptionId);
    this.#recomputeWanted();
  }

  frame(frame: Frame): void {
    if (!this.#wanted.has(frame.kind)) return;
    this.#items.push({
      type: frame.kind,
      userId: frame.userId,
      userName: frame.userName,
      timestamp: frame.timestamp,
      offset: this.#bytes,
      length: frame.data.length,
      ...(frame.kind === 'transcript' ? { startTime: frame.startTime, endTime: frame.endTime, language: frame.language } : {}),
    });
    this.#chunks.push(frame.data);
    this.#bytes += frame.data.length;
    this.#scheduleFlush();
  }

  event(event: LifecycleEvent): void {
    if (this.#subscriptions.size === 0) return;
    this.#items.push({ type: 'event', event });
    this.#scheduleFlush();
  }

  /** Sends what is pending now (also used when the stream ends). */
  flush(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#items.length === 0) return;
    // One copy into a buffer we own, so it can be transferred (frames may be pool slices).
    const payload = new ArrayBuffer(this.#bytes);
    const view = new Uint8Array(payload);
    let offset = 0;
    for (const chunk of this.#chunks) {
      view.set(chunk, offset);
      offset += chunk.length;
    }
    const items = this.#items;
    this.#items = [];
    this.#chunks = [];
    this.#bytes = 0;
    this.#send({ rtmsStreamId: this.#rtmsStreamId, items, payload });
  }

  #scheduleFlush(): void {
    if (this.#bytes >= this.#maxBatchBytes) this.flush();
    else this.#timer ??= setTimeout(() => this.flush(), this.#flushMs);
  }

  #recomputeWanted(): void {
    const wanted = new Set<MediaKind>();
    for (const kinds of this.#subscriptions.values()) for (const kind of kinds) wanted.add(kind);
    this.#wanted = wanted;
  }
}
