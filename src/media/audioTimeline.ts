/**
 * Where each speaker's audio is on the stream's timeline, from RTMS timestamps (server ms).
 * Audio timestamps advance by each packet's duration per speaker (rtms-protocol.md §2.7), so:
 * a packet that does not move a speaker forward is a duplicate (Zoom redelivering buffered
 * audio after a rejoin); a packet that starts later than the previous one ended leaves a gap
 * (Zoom sent nothing: muted, silent in multi-stream mode, or lost). A speaker's first packet
 * is measured from the stream's first audio packet, so per-speaker files can be aligned.
 */
export interface AudioPlacement {
  readonly duplicate: boolean;
  /** Milliseconds of missing audio before this packet (0 when contiguous). */
  readonly gapMs: number;
  /** Where the gap starts, server ms. */
  readonly gapFrom: number;
}

/** Gaps shorter than this are timestamp jitter, not missing audio. */
const JITTER_MS = 5;

export class AudioTimeline {
  /** Per speaker: server time where their audio so far ends, ms. */
  readonly #endOf = new Map<string, number>();
  #origin: number | undefined;

  /** Places a packet of `durationMs` at `timestamp` for `userId`, and records it unless duplicate. */
  place(userId: string, timestamp: number, durationMs: number): AudioPlacement {
    this.#origin ??= timestamp;
    const end = this.#endOf.get(userId) ?? this.#origin;
    const seen = this.#endOf.has(userId);
    if (seen && timestamp + durationMs <= end) return { duplicate: true, gapMs: 0, gapFrom: end };
    const gapMs = timestamp - end >= JITTER_MS ? timestamp - end : 0;
    this.#endOf.set(userId, Math.max(end, timestamp + durationMs));
    return { duplicate: false, gapMs, gapFrom: end };
  }
}
