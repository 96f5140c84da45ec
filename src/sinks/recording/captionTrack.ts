import { transcriptCue, type Cue } from '../../media/captionCues.ts';
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

/** Cues held while no part is open (a part learning its tracks): beyond this the oldest is counted `late`. */
const MAX_WAITING_CUES = 100;

/**
 * The transcript as the recording's subtitle track (docs/output.md "Recording"). Zoom sends a
 * line when it ends, its start seconds in the past, and the muxer interleaves every track, so
 * the part holds its media back by `delayMs` (Zoom time): a cue that arrives within that window
 * goes in at its true start; the caption clock advances at each flush to the newest media
 * minus `delayMs`, which lets the muxer write the media before it.
 */
export class CaptionTrack {
  readonly #delayMs: number;
  #part: { readonly part: CaptionPart; readonly base: number } | undefined;
  /** Zoom time before which no cue can go into the open part any more. */
  #floor = -Infinity;
  /** Zoom time of the newest media frame. */
  #newest = -Infinity;
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

  /** A transcript line: into the open part at its start, held until a part opens, or counted. */
  line(frame: Frame, stopped: boolean): void {
    // Origin 0: the cue's times are Zoom times, turned into part times when muxed.
    const cue = transcriptCue({ ...frame, text: frame.data.toString('utf8') }, 0);
    if (cue === undefined) return this.#drop('empty');
    if (stopped) return this.#drop('recording_failed');
    if (this.#part === undefined) {
      this.#waiting.push(cue);
      if (this.#waiting.length > MAX_WAITING_CUES) {
        this.#waiting.shift();
        this.#drop('late');
      }
      return;
    }
    this.#mux(cue);
  }

  /** A part opened at Zoom time `base`: the cues held for it go in, in order of their starts. */
  opened(part: CaptionPart, base: number): void {
    this.#part = { part, base };
    this.#floor = base;
    const waiting = this.#waiting.sort((a, b) => a.startMs - b.startMs);
    this.#waiting = [];
    for (const cue of waiting) this.#mux(cue);
  }

  /** The part ended: cues wait for the next one. */
  closed(): void {
    this.#part = undefined;
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
    const horizon = this.#newest - this.#delayMs;
    if (open === undefined || horizon <= this.#floor) return;
    this.#floor = horizon;
    open.part.advanceCaptions(Math.round(horizon - open.base));
  }

  #mux(cue: Cue): void {
    const open = this.#part!;
    if (cue.startMs < this.#floor) return this.#drop('late');
    this.#floor = cue.startMs;
    open.part.addCue({ ...cue, startMs: cue.startMs - open.base, endMs: cue.endMs - open.base });
    this.#muxed += 1;
  }

  #drop(reason: CaptionDropReason): void {
    this.#dropped[reason] = (this.#dropped[reason] ?? 0) + 1;
  }
}
