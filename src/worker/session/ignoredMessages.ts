import type { Clock } from '../../clock.ts';
import type { Logger } from '../../logger.ts';

/**
 * RTMS messages a stream cannot use: an unknown `msg_type`, a frame that is not a JSON object
 * with an integer `msg_type`, an unreadable media message, a message over the size limit, a
 * frame that breaks the WebSocket protocol (the last two also close the socket).
 * Each one is counted (metric `rtms_messages_ignored_total{channel,reason}`); `events.jsonl`
 * gets the first `FIRST_PER_REASON` of each channel and reason, then one summary line per
 * `SUMMARY_INTERVAL_MS` while more come. A server sending a million of them costs a few
 * lines, not one line each (README, "Bad RTMS server").
 */

export const IGNORED_MESSAGE_REASONS = [
  'unknown_msg_type',
  'binary_frame',
  'invalid_json',
  'no_msg_type',
  'malformed_media',
  'too_big',
  'protocol_error',
] as const;
export type IgnoredMessageReason = (typeof IGNORED_MESSAGE_REASONS)[number];

/** Channel label: the socket's role; the media key (`audio`, `all`, …) only goes to events. */
export type IgnoredChannel = 'signaling' | 'media';

/** Written to `events.jsonl` individually, per channel and reason. */
export const FIRST_PER_REASON = 5;
/** How often further ones are summarised, ms. */
export const SUMMARY_INTERVAL_MS = 10_000;

export interface IgnoredMessagesOptions {
  readonly clock: Clock;
  readonly logger: Logger;
  /** Writes a lifecycle event (events.jsonl and taps). */
  readonly event: (eventType: string, data: Record<string, unknown>) => void;
  /** Counts one in the metric. */
  readonly count: (channel: IgnoredChannel, reason: IgnoredMessageReason) => void;
}

export class IgnoredMessages {
  readonly #options: IgnoredMessagesOptions;
  /** Per `<channel>/<reason>` (channel as in events: `signaling`, `media:audio`): all seen. */
  readonly #totals = new Map<string, number>();
  /** Not yet reported individually or in a summary. */
  readonly #unreported = new Map<string, number>();
  #summaryTimer: NodeJS.Timeout | undefined;
  #summarySince = 0;

  constructor(options: IgnoredMessagesOptions) {
    this.#options = options;
  }

  /**
   * One ignored message. `channel` is `signaling` or `media:<key>`; `detail` (kept small: a
   * msg_type, a decode reason) goes into the event for the first few only.
   */
  record(channel: string, reason: IgnoredMessageReason, detail: Record<string, unknown> = {}): void {
    this.#options.count(channel === 'signaling' ? 'signaling' : 'media', reason);
    const key = `${channel}/${reason}`;
    const total = (this.#totals.get(key) ?? 0) + 1;
    this.#totals.set(key, total);
    if (total <= FIRST_PER_REASON) {
      const eventType = reason === 'unknown_msg_type' ? 'rtms.unknown_message' : 'rtms.ignored_message';
      this.#options.event(eventType, { channel, reason, ...detail, ...(total === FIRST_PER_REASON ? { moreSummarisedEveryMs: SUMMARY_INTERVAL_MS } : {}) });
      this.#options.logger.debug({ channel, reason, ...detail }, 'rtms message ignored');
      return;
    }
    this.#unreported.set(key, (this.#unreported.get(key) ?? 0) + 1);
    if (this.#summaryTimer === undefined) {
      this.#summarySince = this.#options.clock.now();
      this.#summaryTimer = this.#options.clock.setTimeout(() => {
        this.#summaryTimer = undefined;
        this.#summarise();
      }, SUMMARY_INTERVAL_MS);
    }
  }

  /** Reports what is still unreported (the stream is ending) and stops the timer. */
  close(): void {
    if (this.#summaryTimer !== undefined) this.#options.clock.clearTimeout(this.#summaryTimer);
    this.#summaryTimer = undefined;
    this.#summarise();
  }

  #summarise(): void {
    if (this.#unreported.size === 0) return;
    const counts = Object.fromEntries(this.#unreported);
    const totals = Object.fromEntries([...this.#unreported.keys()].map((key) => [key, this.#totals.get(key) ?? 0]));
    const data = { sinceMs: this.#options.clock.now() - this.#summarySince, counts, totals };
    this.#unreported.clear();
    this.#options.event('rtms.ignored_messages', data);
    this.#options.logger.warn(data, 'rtms messages ignored (unknown, malformed or too big)');
  }
}
