import type { Logger } from '../../logger.ts';
import { AudioTimeline } from '../../media/audioTimeline.ts';
import type { Frame, MediaFormats } from '../../vocabulary/frame.ts';

/**
 * The session's view of its audio timeline: decides whether an audio frame is a redelivered
 * duplicate, and leaves an event for every gap (`media.gap`) and every step of Zoom's media
 * clock (`media.timestamp_jump`). Only local arrival times and Zoom's timestamps against each
 * other are compared, never Zoom's clock with ours (see AudioTimeline).
 */
export class SessionAudio {
  readonly #timeline = new AudioTimeline();
  readonly #event: (eventType: string, data: Record<string, unknown>) => void;
  readonly #logger: Logger;
  readonly #gapFill: boolean;

  constructor(options: { event: (eventType: string, data: Record<string, unknown>) => void; logger: Logger; gapFill: boolean }) {
    this.#event = options.event;
    this.#logger = options.logger;
    this.#gapFill = options.gapFill;
  }

  /** A media connection was (re)joined at local time `at`: what Zoom redelivers now is recognised. */
  rejoined(at: number): void {
    this.#timeline.rejoined(at);
  }

  /** Places an audio frame; false when it is a duplicate (Zoom redelivered it after a rejoin). */
  admit(frame: Frame, formats: MediaFormats): boolean {
    const { sampleRateHz, channels } = formats.audio;
    const durationMs = (frame.data.length / (sampleRateHz * channels * 2)) * 1000;
    const placement = this.#timeline.place(frame.userId, frame.timestamp, durationMs, frame.receivedAt, frame.data);
    if (placement.duplicate) return false;
    if (placement.jump !== undefined) {
      const { expectedTimestamp, timestamp, jumpMs } = placement.jump;
      this.#logger.warn({ userId: frame.userId, expectedTimestamp, timestamp, jumpMs }, 'audio timestamps jumped; timeline re-based, nothing dropped');
      this.#event('media.timestamp_jump', {
        kind: 'audio',
        userId: frame.userId,
        expectedTimestamp,
        timestamp,
        jumpMs,
        direction: jumpMs > 0 ? 'forward' : 'backward',
      });
    }
    if (placement.gapMs > 0) {
      this.#event('media.gap', {
        kind: 'audio',
        userId: frame.userId,
        reason: 'no_data',
        fromTimestamp: placement.gapFrom,
        toTimestamp: frame.timestamp,
        gapMs: placement.gapMs,
        filledWithSilence: this.#gapFill,
      });
    }
    return true;
  }
}
