import type { MediaKind } from '../vocabulary/mediaKind.ts';
import type { Frame, LifecycleEvent } from '../vocabulary/frame.ts';
import type { FrameTap } from './frameTap.ts';
import type { RedisStreamPublisher, StreamEntry } from './redisStreamPublisher.ts';

/**
 * One stream's output to Redis: frames and lifecycle events appended to capped streams
 * `rtms:<rtms_stream_id>:<media>` and `rtms:<rtms_stream_id>:events`, for consumers that read
 * at their own pace (XREAD, or XREADGROUP with their own consumer group).
 *
 * Entry fields (README "Redis stream output"):
 * - audio, video, deskshare: `userId`, `userName` (when known), `timestamp` (server ms),
 *   `data` (the bytes exactly as Zoom sent them);
 * - transcript: `userId`, `userName`, `timestamp`, `startTime`, `endTime`, `language`, `text`;
 * - chat: `userId`, `userName`, `timestamp`, `text`;
 * - events: `eventType`, `sentTime`, `data` (the event's data as JSON).
 */
export class RedisStreamSink implements FrameTap {
  readonly #publisher: RedisStreamPublisher;
  readonly #prefix: string;
  readonly #kinds: ReadonlySet<MediaKind>;
  readonly #retentionSeconds: number;

  constructor(options: {
    publisher: RedisStreamPublisher;
    rtmsStreamId: string;
    kinds: readonly MediaKind[];
    /** `REDIS_OUTPUT_RETENTION_SECONDS`: the keys expire this long after the stream ends here; 0 = never. */
    retentionSeconds: number;
    /** The stream resumes here (worker restart, another replica): clear a TTL its previous host set. */
    resumed: boolean;
  }) {
    this.#publisher = options.publisher;
    this.#prefix = `rtms:${options.rtmsStreamId}:`;
    this.#kinds = new Set(options.kinds);
    this.#retentionSeconds = options.retentionSeconds;
    if (options.resumed && this.#retentionSeconds > 0) this.#publisher.persist(this.keys());
  }

  frame(frame: Frame): void {
    if (!this.#kinds.has(frame.kind)) return;
    const entry: StreamEntry = { userId: frame.userId, timestamp: String(frame.timestamp) };
    if (frame.userName !== undefined) entry['userName'] = frame.userName;
    if (frame.kind === 'transcript' || frame.kind === 'chat') {
      entry['text'] = frame.data.toString('utf8');
      if (frame.startTime !== undefined) entry['startTime'] = String(frame.startTime);
      if (frame.endTime !== undefined) entry['endTime'] = String(frame.endTime);
      if (frame.language !== undefined) entry['language'] = String(frame.language);
    } else {
      entry['data'] = frame.data;
    }
    this.#publisher.append(this.#prefix + frame.kind, frame.kind, entry);
  }

  event(event: LifecycleEvent): void {
    this.#publisher.append(`${this.#prefix}events`, 'events', { eventType: event.eventType, sentTime: event.sentTime, data: JSON.stringify(event.data) });
  }

  /** Called once, when the stream ends here: appends were issued immediately; the keys get their TTL. */
  flush(): void {
    if (this.#retentionSeconds > 0) this.#publisher.expire(this.keys(), this.#retentionSeconds);
  }

  /** The stream keys this sink writes to. */
  keys(): string[] {
    return [...[...this.#kinds].map((kind) => this.#prefix + kind), `${this.#prefix}events`];
  }
}
