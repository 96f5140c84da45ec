import type { Clock } from '../../clock.ts';
import type { Config } from '../../config.ts';
import type { MediaKind } from '../../vocabulary/mediaKind.ts';
import type { Logger } from '../../logger.ts';
import { widenDroppedRange, type DroppedRange } from '../../media/droppedRange.ts';
import type { Frame } from '../../vocabulary/frame.ts';
import { FrameBuffer } from '../../media/frameBuffer.ts';

/**
 * Backpressure between the media sockets and the sink. While the sink says "not now"
 * (`write()` returned false, until `'drain'`), frames wait in a bounded backlog; past the high
 * mark the media sockets are paused. Should the sink stay stuck past the stall deadline, the
 * sockets read on (or Zoom drops us for unanswered keep-alives) and the backlog is trimmed by
 * policy: video first down to the high mark, audio and text only past twice the high mark.
 * Each eviction is counted, and one gap marker per kind reports the overflow when it ends.
 */

export interface FlowControlOptions {
  readonly buffer: Config['buffer'];
  readonly sink: { write(frame: Frame): boolean };
  /** The media sockets of the moment. */
  readonly media: { pause(): void; resume(): void };
  /** Whether a decoder can start at this frame (eviction keeps what a decoder needs). */
  readonly isDecodeStart: (frame: Frame) => boolean;
  /** A frame evicted from the backlog: count it dropped (`buffer_full`). */
  readonly evicted: (frame: Frame) => void;
  /** Eviction cut this video kind: it must wait for a keyframe. */
  readonly cut: (kind: MediaKind) => void;
  readonly event: (eventType: string, data: Record<string, unknown>) => void;
  readonly clock: Clock;
  readonly logger: Logger;
}

export class FlowControl {
  readonly #options: FlowControlOptions;
  /** Frames the sink could not take yet; bounded, and every eviction is counted. */
  readonly #backlog = new FrameBuffer();
  /** The sink said "not now" (write() returned false) and has not drained since. */
  #sinkBlocked = false;
  #paused = false;
  /** Sockets stayed paused past the deadline: read on, evict by policy. */
  #overflowing = false;
  #stallTimer: NodeJS.Timeout | undefined;
  /** Evictions of the current overflow, reported as one gap marker when it ends. */
  readonly #overflowDrops = new Map<MediaKind, DroppedRange>();

  constructor(options: FlowControlOptions) {
    this.#options = options;
  }

  /** The media sockets are paused: a socket opened now must start paused. */
  get paused(): boolean {
    return this.#paused;
  }

  /** Bytes waiting in front of the sink. */
  get backlogBytes(): number {
    return this.#backlog.bytes;
  }

  /** Hands the frame to the sink, or keeps it in the backlog while the sink pushes back. */
  write(frame: Frame): void {
    if (!this.#sinkBlocked && this.#backlog.length === 0) {
      if (!this.#options.sink.write(frame)) this.#sinkBlocked = true;
      return;
    }
    this.#backlog.push(frame);
    const { highWaterBytes } = this.#options.buffer;
    if (this.#overflowing) this.#evict();
    else if (this.#backlog.bytes > highWaterBytes && !this.#paused) this.#pause();
  }

  /** The sink's `'drain'`: hand it the backlog until it pushes back; below the low mark, read on. */
  drained(): void {
    this.#sinkBlocked = false;
    for (let frame = this.#backlog.shift(); frame !== undefined; frame = this.#backlog.shift()) {
      if (!this.#options.sink.write(frame)) {
        this.#sinkBlocked = true;
        break;
      }
    }
    if (this.#backlog.bytes <= this.#options.buffer.lowWaterBytes) this.#resume();
  }

  // The stream ends: the steps `StreamSession` takes in this order.

  /** No more stall deadline (a backlog that builds up while the stream ends sets a new one). */
  cancelDeadline(): void {
    if (this.#stallTimer !== undefined) this.#options.clock.clearTimeout(this.#stallTimer);
  }

  /** Reads on: a paused socket would not read the peer's close frame either. */
  unpause(): void {
    if (this.#paused) this.#resume();
  }

  /** Reports an overflow still under way. */
  endOverflow(): void {
    if (this.#overflowing) this.#endOverflow();
  }

  /** Hands the whole backlog to the sink, which queues it for the final flush. */
  flushBacklog(): void {
    for (const frame of this.#backlog.drain()) this.#options.sink.write(frame);
  }

  #pause(): void {
    const { clock, logger, buffer, media } = this.#options;
    this.#paused = true;
    media.pause();
    logger.debug({ backlogBytes: this.#backlog.bytes }, 'buffer above high water; media paused');
    this.#stallTimer = clock.setTimeout(() => {
      this.#stallTimer = undefined;
      if (!this.#paused) return;
      // Reading must go on or Zoom drops us for unanswered keep-alives: apply the drop policy.
      logger.warn(
        { backlogBytes: this.#backlog.bytes, deadlineMs: buffer.stallDeadlineMs },
        'sink stalled past the deadline; evicting buffered media by policy',
      );
      this.#overflowing = true;
      this.#paused = false;
      media.resume();
      this.#evict();
    }, buffer.stallDeadlineMs);
  }

  #resume(): void {
    if (this.#stallTimer !== undefined) this.#options.clock.clearTimeout(this.#stallTimer);
    this.#stallTimer = undefined;
    if (this.#overflowing) this.#endOverflow();
    if (!this.#paused) return;
    this.#paused = false;
    this.#options.media.resume();
  }

  /** Video first down to the high mark; audio and text only past twice the high mark. */
  #evict(): void {
    const { highWaterBytes } = this.#options.buffer;
    const { evicted, cutKinds } = this.#backlog.evict(highWaterBytes, 2 * highWaterBytes, this.#options.isDecodeStart);
    for (const kind of cutKinds) this.#options.cut(kind);
    for (const frame of evicted) {
      this.#options.evicted(frame);
      this.#overflowDrops.set(frame.kind, widenDroppedRange(this.#overflowDrops.get(frame.kind), frame.timestamp));
    }
  }

  /** Leaves a gap marker per media kind for what the overflow evicted. */
  #endOverflow(): void {
    this.#overflowing = false;
    for (const [kind, range] of this.#overflowDrops) this.#options.event('media.gap', { kind, reason: 'buffer_full', ...range });
    this.#overflowDrops.clear();
  }
}
