import { hash } from 'node:crypto';

/**
 * Where each speaker's audio is on the stream's timeline, from RTMS timestamps (server ms).
 * Audio timestamps advance by each packet's duration per speaker, so a packet that starts
 * later than the speaker's audio so far ended leaves a gap (muted, silent in multi-stream
 * mode, or lost). A speaker's first packet is measured from the stream's first audio packet,
 * so per-speaker files can be aligned.
 *
 * Zoom's clock is not ours, and its timestamps can step (a server clock change, a failover
 * to a server with another clock, one misdated packet). So (README "Reliability"):
 * - Duplicates are only what a rejoin redelivers: after `rejoined()`, a packet whose
 *   timestamp AND content equal a packet this speaker already had. Nothing else is dropped.
 * - A packet that goes back in time and is not such a duplicate is a backward jump; a packet
 *   dated later than the freshest audio so far by more than the wall-clock time that passed
 *   (judged by local arrival times only) is a forward jump. Either way the timeline is
 *   re-based so it stays continuous (no silence written for the step; what the elapsed time
 *   explains, beyond the tolerance, stays a gap), and the placement reports the jump. Gaps,
 *   and so gap fill, are bounded by local elapsed time.
 */
export interface AudioPlacement {
  readonly duplicate: boolean;
  /** Milliseconds of missing audio before this packet (0 when contiguous). */
  readonly gapMs: number;
  /** Where the gap starts, server ms (on the server clock as it is now). */
  readonly gapFrom: number;
  /** Set when this packet's timestamp stepped away from the timeline (the step is not counted as a gap). */
  readonly jump: TimestampJump | undefined;
}

export interface TimestampJump {
  /** Where this speaker's audio was expected to continue, server ms (clock before the step). */
  readonly expectedTimestamp: number;
  /** The timestamp the packet carried, server ms. */
  readonly timestamp: number;
  /** How far the server clock stepped: positive forward, negative backward, ms. */
  readonly jumpMs: number;
}

/** Gaps shorter than this are timestamp jitter, not missing audio. */
const JITTER_MS = 5;
/**
 * How much later (relative to local arrival) than the freshest audio so far a packet may be
 * dated before it counts as a forward jump: latency varies, Zoom's clock drifts a little.
 */
export const FUTURE_TOLERANCE_MS = 1000;
/** How long after a rejoin redelivered audio is looked for (Zoom buffers about 60 s), ms. */
export const REDELIVERY_WINDOW_MS = 60_000;
/**
 * How many of each speaker's latest packets are remembered to recognise redelivery (10 s of
 * 20 ms packets: Zoom redelivers what was in flight when the connection broke, then what it
 * buffered meanwhile, which we never had). About 20 KB per speaker.
 */
const HISTORY_PACKETS = 500;
/**
 * Speakers a timeline remembers (each up to about 20 KB with its history, so about 10 MB per
 * stream at most): past this, the speaker heard longest ago is forgotten, so a server that
 * rotates user ids cannot grow it without limit. A forgotten speaker who speaks again is
 * placed like a new one, from the stream's first audio (docs/security.md "Bad RTMS server").
 */
export const MAX_SPEAKERS = 500;

interface Speaker {
  /** Where this speaker's audio so far ends, on the corrected timeline, ms. */
  end: number;
  /** Recent packets: raw server timestamp -> 32 bits of their content's SHA-256, in arrival order. */
  readonly history: Map<number, number>;
  /** Set at a rejoin until this speaker moves forward again: redelivery may come first. */
  awaitingRedelivery: boolean;
}

export class AudioTimeline {
  /** Least recently heard first (Map keeps insertion order). */
  readonly #speakers = new Map<string, Speaker>();
  readonly #maxSpeakers: number;
  /** The speaker heard last: hearing it again needs no reordering. */
  #latest: Speaker | undefined;
  /** Added to server timestamps so the timeline stays continuous across clock steps, ms. */
  #correction = 0;
  /** The stream's first audio, on the corrected timeline. */
  #origin: number | undefined;
  /** Highest (corrected end − local arrival) seen: where Zoom's live edge is relative to our clock. */
  #lead = Number.NEGATIVE_INFINITY;
  /** Local time of the last rejoin, ms; redelivery is recognised for a while after it. */
  #rejoinedAt: number | undefined;

  constructor(maxSpeakers = MAX_SPEAKERS) {
    if (!Number.isSafeInteger(maxSpeakers) || maxSpeakers < 1) throw new RangeError(`max speakers must be a positive integer, got ${maxSpeakers}`);
    this.#maxSpeakers = maxSpeakers;
  }

  /** Speakers remembered now (at most the bound). */
  get speakers(): number {
    return this.#speakers.size;
  }

  /** A media connection was rejoined at local time `at`: Zoom may now redeliver buffered audio. */
  rejoined(at: number): void {
    this.#rejoinedAt = at;
    for (const speaker of this.#speakers.values()) speaker.awaitingRedelivery = true;
  }

  /**
   * Places a packet of `durationMs` at server `timestamp` for `userId`, received at local time
   * `arrivedAt`, and records it unless duplicate. `data` (the payload) lets redelivery be
   * recognised; without it nothing is ever a duplicate.
   */
  place(userId: string, timestamp: number, durationMs: number, arrivedAt: number, data?: Buffer): AudioPlacement {
    const digest = data === undefined ? undefined : hash('sha256', data, 'buffer').readUInt32LE(0);
    let speaker = this.#speakers.get(userId);
    if (speaker !== undefined && this.#isRedelivery(speaker, timestamp, digest, arrivedAt)) {
      return { duplicate: true, gapMs: 0, gapFrom: speaker.end - this.#correction, jump: undefined };
    }
    let corrected = timestamp + this.#correction;
    this.#origin ??= corrected;
    const end = speaker?.end ?? this.#origin;
    let jump: TimestampJump | undefined;
    const step = this.#stepOf(speaker, corrected, durationMs, arrivedAt);
    if (step !== 0) {
      jump = { expectedTimestamp: end - this.#correction, timestamp, jumpMs: step };
      this.#correction -= step;
      corrected -= step;
    }
    const gapMs = corrected - end >= JITTER_MS ? corrected - end : 0;
    const gapFrom = end - this.#correction;
    if (speaker === undefined) {
      speaker = { end, history: new Map(), awaitingRedelivery: false };
      for (const oldest of this.#speakers.keys()) {
        if (this.#speakers.size < this.#maxSpeakers) break;
        this.#speakers.delete(oldest);
      }
      this.#speakers.set(userId, speaker);
    } else if (speaker !== this.#latest) {
      this.#speakers.delete(userId);
      this.#speakers.set(userId, speaker);
    }
    this.#latest = speaker;
    if (corrected + durationMs > speaker.end) speaker.awaitingRedelivery = false;
    speaker.end = Math.max(speaker.end, corrected + durationMs);
    this.#lead = Math.max(this.#lead, corrected + durationMs - arrivedAt);
    if (digest !== undefined) this.#remember(speaker, timestamp, digest);
    return { duplicate: false, gapMs, gapFrom, jump };
  }

  /**
   * How far the server clock stepped at this packet (0: it did not). Backward: it starts
   * before this speaker's audio ended. Forward: it is dated later, relative to its arrival,
   * than the freshest audio so far, by more than the tolerance (a gap cannot be longer than
   * the time that passed); the remainder within the tolerance stays a gap.
   */
  #stepOf(speaker: Speaker | undefined, corrected: number, durationMs: number, arrivedAt: number): number {
    // Overlapping only partly is jitter; a packet that does not move the speaker forward is a step.
    if (speaker !== undefined && corrected + durationMs <= speaker.end) return corrected - speaker.end;
    const gap = corrected - (speaker?.end ?? this.#origin ?? corrected);
    const ahead = corrected + durationMs - arrivedAt - this.#lead;
    if (gap < JITTER_MS || ahead <= FUTURE_TOLERANCE_MS) return 0;
    // What the elapsed time can explain stays a gap, unless it is within latency noise.
    return gap - ahead < FUTURE_TOLERANCE_MS ? gap : ahead;
  }

  #isRedelivery(speaker: Speaker, timestamp: number, digest: number | undefined, arrivedAt: number): boolean {
    if (digest === undefined || !speaker.awaitingRedelivery || this.#rejoinedAt === undefined) return false;
    if (arrivedAt - this.#rejoinedAt > REDELIVERY_WINDOW_MS) return false;
    return speaker.history.get(timestamp) === digest;
  }

  #remember(speaker: Speaker, timestamp: number, digest: number): void {
    speaker.history.delete(timestamp);
    speaker.history.set(timestamp, digest);
    // Oldest first (insertion order); by count, as timestamps may have stepped back.
    for (const oldest of speaker.history.keys()) {
      if (speaker.history.size <= HISTORY_PACKETS) break;
      speaker.history.delete(oldest);
    }
  }
}
