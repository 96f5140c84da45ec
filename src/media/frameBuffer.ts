import type { MediaKind } from '../vocabulary/mediaKind.ts';
import type { Frame } from '../vocabulary/frame.ts';

/**
 * The frames of one stream that its sink could not take yet, oldest first.
 *
 *   media sockets ──▶ [ frame ring ] ──▶ sink.write()
 *                       │  above high water: sockets paused (TCP pushes back on Zoom)
 *                       │  below low water:  sockets resumed
 *                       └─ full past the deadline: sockets resumed, eviction by policy
 *
 * Eviction keeps what users value most: video and screen share go first (oldest first);
 * audio, transcripts and chat only once the ring is past its hard cap. The ring only stores
 * and evicts; the session decides when (it owns the sockets, the sink and the counters).
 */

/** Media evicted first when the ring must shrink. */
const EXPENDABLE: ReadonlySet<MediaKind> = new Set(['video', 'deskshare']);

export class FrameBuffer {
  // A plain array with a moving head: shift() is O(1) amortised and order is preserved.
  #frames: Array<Frame | undefined> = [];
  #head = 0;
  #bytes = 0;
  /** Frames held: evictions leave holes in the array, so not its length. */
  #count = 0;
  #expendableFrames = 0;

  get bytes(): number {
    return this.#bytes;
  }

  get length(): number {
    return this.#count;
  }

  push(frame: Frame): void {
    this.#frames.push(frame);
    this.#bytes += frame.data.length;
    this.#count += 1;
    if (EXPENDABLE.has(frame.kind)) this.#expendableFrames += 1;
  }

  shift(): Frame | undefined {
    while (this.#head < this.#frames.length) {
      const frame = this.#frames[this.#head];
      this.#frames[this.#head] = undefined;
      this.#head += 1;
      if (frame !== undefined) {
        this.#account(frame);
        this.#compact();
        return frame;
      }
    }
    return undefined;
  }

  /**
   * Evicts frames until the ring holds at most `softLimitBytes` of anything and at most
   * `hardLimitBytes` in all: expendable kinds (video, deskshare) oldest first down to the
   * soft limit, then anything oldest first down to the hard limit. An evicted video frame
   * takes the rest of its group of pictures with it, up to the next frame a decoder can
   * start at (`isDecodeStart`): those could not be decoded anyway. Returns what it evicted
   * and the kinds whose group runs past the newest buffered frame, so their next frames
   * must wait for a keyframe too.
   */
  evict(softLimitBytes: number, hardLimitBytes: number, isDecodeStart: (frame: Frame) => boolean): { evicted: Frame[]; cutKinds: Set<MediaKind> } {
    const evicted: Frame[] = [];
    const cutKinds = new Set<MediaKind>();
    for (let i = this.#head; i < this.#frames.length; i++) {
      const overSoftLimit = this.#bytes > softLimitBytes;
      if (overSoftLimit ? this.#expendableFrames === 0 : cutKinds.size === 0) break;
      const frame = this.#frames[i];
      if (frame === undefined || !EXPENDABLE.has(frame.kind)) continue;
      if (!overSoftLimit) {
        // Under the limit again: only the rest of a cut group still goes.
        if (!cutKinds.has(frame.kind)) continue;
        if (isDecodeStart(frame)) {
          cutKinds.delete(frame.kind);
          continue;
        }
      }
      cutKinds.add(frame.kind);
      this.#frames[i] = undefined;
      this.#account(frame);
      evicted.push(frame);
    }
    // Still over the soft limit means no video is left: this takes audio and text only.
    while (this.#bytes > hardLimitBytes) {
      const frame = this.shift();
      if (frame === undefined) break;
      evicted.push(frame);
    }
    this.#compact();
    return { evicted, cutKinds };
  }

  /** Empties the ring, returning what it held (oldest first). */
  drain(): Frame[] {
    const frames = this.#frames.slice(this.#head).filter((frame): frame is Frame => frame !== undefined);
    this.#frames = [];
    this.#head = 0;
    this.#bytes = 0;
    this.#count = 0;
    this.#expendableFrames = 0;
    return frames;
  }

  #account(frame: Frame): void {
    this.#bytes -= frame.data.length;
    this.#count -= 1;
    if (EXPENDABLE.has(frame.kind)) this.#expendableFrames -= 1;
  }

  #compact(): void {
    if (this.#head > 1024 && this.#head * 2 > this.#frames.length) {
      this.#frames = this.#frames.slice(this.#head);
      this.#head = 0;
    }
  }
}
