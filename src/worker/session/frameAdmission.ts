import type { MediaKind } from '../../vocabulary/mediaKind.ts';
import type { DroppedRange } from '../../media/droppedRange.ts';
import type { Frame, MediaFormats } from '../../vocabulary/frame.ts';
import { isIdrAccessUnit } from '../../media/h264.ts';
import { KeyframeGate } from '../../media/keyframeGate.ts';
import type { FrameRefusal } from '../../vocabulary/reasons.ts';

/**
 * Whether a decoded media frame goes on to the sink, or why not: a kind we did not ask for
 * (`not_requested`), audio Zoom delivered again after a rejoin (`duplicate`), a participant
 * who opted out (`excluded`), or a video picture that refers to pictures we lost
 * (`awaiting_keyframe`: after a drop, a kind waits for the next frame a decoder can start at).
 */

export type Admission =
  | { readonly admitted: true; /** The kind waited for a keyframe until this frame: what it dropped meanwhile. */ readonly keyframeGap?: DroppedRange }
  | { readonly admitted: false; readonly reason: FrameRefusal };

// Shared answers: admission runs for every frame and allocates nothing but a gap report.
const ADMITTED: Admission = { admitted: true };
const REFUSED: { readonly [reason in FrameRefusal]: Admission } = {
  not_requested: { admitted: false, reason: 'not_requested' },
  duplicate: { admitted: false, reason: 'duplicate' },
  excluded: { admitted: false, reason: 'excluded' },
  awaiting_keyframe: { admitted: false, reason: 'awaiting_keyframe' },
};

/** The session's audio timeline: false for a frame Zoom redelivered (see SessionAudio). */
export interface AudioAdmission {
  admit(frame: Frame, formats: MediaFormats): boolean;
}

/** Whether a decoder can start at this frame: anything but an H.264 picture that refers to earlier ones. */
export function isDecodeStart(frame: Frame, formats: MediaFormats | undefined): boolean {
  if (frame.kind !== 'video' && frame.kind !== 'deskshare') return true;
  return formats?.[frame.kind].codec !== 'h264' || isIdrAccessUnit(frame.data);
}

export class FrameAdmission {
  readonly #requested: readonly MediaKind[];
  readonly #audio: AudioAdmission;
  /** Video kinds that lost a frame and must wait for a keyframe before anything more is written. */
  readonly #keyframes = new KeyframeGate();
  /** Participants who opted out of capture; their per-speaker frames are dropped as `excluded`. */
  readonly #excluded = new Set<string>();

  constructor(options: { requested: readonly MediaKind[]; audio: AudioAdmission }) {
    this.#requested = options.requested;
    this.#audio = options.audio;
  }

  /** From now on this participant's frames are `excluded`. */
  exclude(userId: string): void {
    this.#excluded.add(userId);
  }

  /** A frame of this kind was lost (unreadable, evicted): the kind waits for a keyframe. */
  cut(kind: MediaKind): void {
    this.#keyframes.cut(kind);
  }

  /** `formats` as negotiated so far (undefined before the first media handshake). */
  admit(frame: Frame, formats: MediaFormats | undefined): Admission {
    const { kind } = frame;
    if (!this.#requested.includes(kind)) return REFUSED.not_requested;
    if (kind === 'audio' && formats !== undefined && !this.#audio.admit(frame, formats)) return REFUSED.duplicate;
    if (this.#excluded.has(frame.userId)) {
      this.#keyframes.cut(kind);
      return REFUSED.excluded;
    }
    if (!this.#keyframes.isWaiting(kind)) return ADMITTED;
    if (!isDecodeStart(frame, formats)) {
      this.#keyframes.hold(frame);
      return REFUSED.awaiting_keyframe;
    }
    const keyframeGap = this.#keyframes.restart(kind);
    return keyframeGap === undefined ? ADMITTED : { admitted: true, keyframeGap };
  }

  /** The stream ends: what each kind still waiting for a keyframe dropped. */
  giveUp(): Array<{ kind: MediaKind; held: DroppedRange }> {
    return this.#keyframes.giveUp();
  }
}
