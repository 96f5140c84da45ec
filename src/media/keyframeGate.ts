import type { MediaKind } from '../config.ts';
import type { Frame } from './frame.ts';

/** Frames held back while a kind waited for a keyframe. */
export interface KeyframeWait {
  frames: number;
  fromTimestamp: number;
  toTimestamp: number;
}

/**
 * H.264 pictures are coded against the pictures before them: once a frame of a kind is lost
 * (evicted, malformed, excluded), the frames after it cannot be decoded until the next
 * keyframe (IDR). Written anyway, they make a file that decoders reject or smear. The gate
 * remembers which kinds lost a frame and holds back their frames until a keyframe starts the
 * chain again. Frames that never depend on others (audio, JPEG, PNG) are keyframes by
 * definition, so a cut costs them nothing.
 */
export class KeyframeGate {
  readonly #waiting = new Map<MediaKind, KeyframeWait | undefined>();

  /** A frame of `kind` was lost: what follows needs a keyframe. */
  cut(kind: MediaKind): void {
    if (!this.#waiting.has(kind)) this.#waiting.set(kind, undefined);
  }

  /** True when frames of `kind` must wait for a keyframe. O(1) and allocation-free: on every frame's path. */
  isWaiting(kind: MediaKind): boolean {
    return this.#waiting.size !== 0 && this.#waiting.has(kind);
  }

  /** Records a frame held back (the caller counts it dropped). */
  hold(frame: Frame): void {
    const wait = this.#waiting.get(frame.kind);
    if (wait === undefined) this.#waiting.set(frame.kind, { frames: 1, fromTimestamp: frame.timestamp, toTimestamp: frame.timestamp });
    else {
      wait.frames += 1;
      wait.toTimestamp = Math.max(wait.toTimestamp, frame.timestamp);
    }
  }

  /** The stream ended while kinds still waited: what each held back, and nothing waits any more. */
  giveUp(): Array<{ kind: MediaKind; held: KeyframeWait }> {
    const unfinished = [...this.#waiting].flatMap(([kind, held]) => (held === undefined ? [] : [{ kind, held }]));
    this.#waiting.clear();
    return unfinished;
  }

  /** A keyframe of `kind` arrived: the chain starts again. Returns what was held back meanwhile, if anything. */
  restart(kind: MediaKind): KeyframeWait | undefined {
    const wait = this.#waiting.get(kind);
    this.#waiting.delete(kind);
    return wait;
  }
}
