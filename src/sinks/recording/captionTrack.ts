import { frameCue, type Cue } from '../../media/captionCues.ts';
import type { Frame } from '../../vocabulary/frame.ts';

/** Why a transcript line is not a cue in the recording (`transcript.jsonl` and the caption files still have it). */
export type CaptionDropReason =
  /** Empty text or a DELETE: no cue in `transcript.vtt` either. */
  | 'empty'
  /**
   * Its start lies before what the part has already written: it arrived more than
   * `RECORDING_CAPTION_DELAY_MS` after it began, or began before the part did.
   */
  | 'late'
  /** The recording stopped after a failure. */
  | 'recording_failed';

export interface CaptionStats {
  readonly muxed: number;
  readonly dropped: Partial<Record<CaptionDropReason, number>>;
}

/** What the caption track needs of the part being written (RecordingPart). */
export interface CaptionPart {
  /** A cue, times in ms from the part's time 0 (never before the last cue or advance). */
  addCue(cue: Cue): void;
  /** No cue will start before `ms` (from the part's time 0): the muxer may write the media before it. */
  advanceCaptions(ms: number): void;
}

/** Cues held for the delay: beyond this the earliest is counted `late` (a few lines a second at most in practice). */
const MAX_WAITING_CUES = 100;

/**
 * The transcript as the recording's subtitle track (docs/output.md "Recording"). Zoom sends a
 * line when it ends, its start seconds in the past, and overlapping speakers' lines arrive in
 * the order they end; the muxer interleaves every track and takes cues only in order of their
 * starts. So the part's media waits `delayMs` (Zoom time) in the muxer, and the cues wait here:
 * at each flush the caption clock advances to the newest media less `delayMs`, the cues that
 * start before it go in, in order, and then an empty cue at the clock lets the muxer write
 * the media before it. A line that starts before the clock when it arrives is counted late.
 */
export class CaptionTrack {
  readonly #delayMs: number;
  #part: { readonly part: CaptionPart; readonly base: number } | undefined;
  /** Zoom time before which no cue can go into the open part any more. */
  #floor = -Infinity;
  /** Zoom time of the newest media frame. */
  #newest = -Infinity;
  /** Cues not yet muxed, in order of their starts (Zoom times). */
  #waiting: Cue[] = [];
  #muxed = 0;
  readonly #dropped: Partial<Record<CaptionDropReason, number>> = {};

  constructor(delayMs: number) {
    this.#delayMs = delayMs;
  }

  stats(): CaptionStats {
    return { muxed: this.#muxed, dropped: { ...this.#dropped } };
  }

  /** A media frame at Zoom time `timestamp` was taken. */
  media(timestamp: number): void {
    if (timestamp > this.#newest) this.#newest = timestamp;
  }

  /** A transcript line: held until the caption clock passes its start, or counted. */
  line(frame: Frame, stopped: boolean): void {
    // Origin 0: the cue's times are Zoom times, turned into part times when muxed.
    const cue = frameCue(frame, 0);
    if (cue === undefined) return this.#drop('empty');
    if (stopped) return this.#drop('recording_failed');
    if (cue.startMs < this.#floor) return this.#drop('late');
    const at = this.#waiting.findIndex((held) => held.startMs > cue.startMs);
    this.#waiting.splice(at === -1 ? this.#waiting.length : at, 0, cue);
    if (this.#waiting.length > MAX_WAITING_CUES) {
      this.#waiting.shift();
      this.#drop('late');
    }
  }

  /** A part opened at Zoom time `base`: cues held from before it are late. */
  opened(part: CaptionPart, base: number): void {
    this.#part = { part, base };
    this.#floor = base;
    while (this.#waiting[0] !== undefined && this.#waiting[0].startMs < base) {
      this.#waiting.shift();
      this.#drop('late');
    }
  }

  /** The part ends: the cues held go in (nothing follows to come before them). */
  closed(): void {
    const open = this.#part;
    if (open === undefined) return;
    for (const cue of this.#waiting) this.#mux(open, cue);
    this.#waiting = [];
    this.#part = undefined;
    this.#floor = -Infinity;
  }

  /** The recording stopped: the held cues are counted. */
  stopped(): void {
    for (let i = 0; i < this.#waiting.length; i += 1) this.#drop('recording_failed');
    this.#waiting = [];
    this.#part = undefined;
  }

  /** Advances the caption clock to the newest media less the delay (at each flush). */
  advance(): void {
    const open = this.#part;
    const clock = this.#newest - this.#delayMs;
    if (open === undefined || clock <= this.#floor) return;
    while (this.#waiting[0] !== undefined && this.#waiting[0].startMs <= clock) this.#mux(open, this.#waiting.shift()!);
    this.#floor = clock;
    open.part.advanceCaptions(Math.round(clock - open.base));
  }

  #mux(open: { readonly part: CaptionPart; readonly base: number }, cue: Cue): void {
    open.part.addCue({ ...cue, startMs: cue.startMs - open.base, endMs: cue.endMs - open.base });
    this.#muxed += 1;
  }

  #drop(reason: CaptionDropReason): void {
    this.#dropped[reason] = (this.#dropped[reason] ?? 0) + 1;
  }
}
