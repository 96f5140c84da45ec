import type { MediaKind } from '../vocabulary/mediaKind.ts';
import { widenDroppedRange, type DroppedRange } from './droppedRange.ts';
import type { Frame } from '../vocabulary/frame.ts';

/**
 * H.264 pictures are coded against the pictures before them: once a frame of a kind is lost
 * (evicted, malformed, excluded), the frames after it cannot be decoded until the next
 * keyframe (IDR). Written anyway, they make a file that decoders reject or smear. The gate
 * remembers which kinds lost a frame and holds back their frames until a keyframe starts the
 * chain again. Frames that never depend on others (audio, JPEG, PNG) are keyframes by
 * definition, so a cut costs them nothing.
 */
export class KeyframeGate {
  readonly #waiting = new Map<MediaKind, DroppedRange | undefined>();

  /** A frame of `kind` was lost: what follows needs a keyframe. */
  cut(kind: MediaKind): void {
    if (!this.#waiting.has(kind)) this.#waiting.set(kind, undefined);
  }

  /** True when frames of `kind` must wait for a keyframe. O(1) and allocation-free: on every frame's path. */
  isWaiting(kind: MediaKind): boolean {
    return this.#waiting.size !== 0 && this.#waiting.has(kind);
  }

  /** Records a frame held back (the caller counts it dropped); only while `isWaiting(frame.kind)`. */
  hold(frame: Frame): void {
    this.#waiting.set(frame.kind, widenDroppedRange(this.#waiting.get(frame.kind), frame.timestamp));
  }

  /** The stream ended while kinds still waited: what each held back, and nothing waits any more. */
  giveUp(): Array<{ kind: MediaKind; held: DroppedRange }> {
    const unfinished = [...this.#waiting].flatMap(([kind, held]) => (held === undefined ? [] : [{ kind, held }]));
    this.#waiting.clear();
    return unfinished;
  }

  /** A keyframe of `kind` arrived: the chain starts again. Returns what was held back meanwhile, if anything. */
  restart(kind: MediaKind): DroppedRange | undefined {
    const wait = this.#waiting.get(kind);
    this.#waiting.delete(kind);
    return wait;
  }
}
