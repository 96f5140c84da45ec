import type { Logger } from '../logger.ts';
import type { StreamLifecycle, StreamLifecycleEntry } from '../supervisor/streamLifecycle.ts';
import { RedisStreamPublisher, type StreamEntry } from './redisStreamPublisher.ts';

/**
 * `rtms:streams`: one Redis stream announcing every stream's lifecycle (`started`,
 * `resumed`, `moved`, `ended`, `failed`, `rejected`; supervisor/streamLifecycle.ts), so a
 * Redis consumer finds new streams with a blocking `XREAD` instead of scanning keys. Fields:
 * `event`, `rtmsStreamId`, `product`, `entityId`, `reason` (when known), `at` (ms epoch).
 * Every replica appends its own streams' entries; capped like the other output streams.
 */
export const LIFECYCLE_STREAM_KEY = 'rtms:streams';

export class RedisLifecycleLog {
  readonly #publisher: RedisStreamPublisher;

  constructor(options: { url: string; maxLen: number; lifecycle: Pick<StreamLifecycle, 'on'>; logger: Logger }) {
    const logger = options.logger.child({ component: 'redis-lifecycle' });
    this.#publisher = new RedisStreamPublisher({
      url: options.url,
      maxLen: options.maxLen,
      logger,
      // Entries are rare and each matters to a consumer waiting for its stream: say when one is lost.
      onOutcome: (_output, dropReason) => {
        if (dropReason !== undefined) logger.warn({ dropReason }, `a ${LIFECYCLE_STREAM_KEY} entry was not appended`);
      },
    });
    options.lifecycle.on('entry', (entry) => this.#publisher.append(LIFECYCLE_STREAM_KEY, 'events', fieldsOf(entry)));
  }

  close(): Promise<void> {
    return this.#publisher.close();
  }
}

function fieldsOf(entry: StreamLifecycleEntry): StreamEntry {
  const fields: StreamEntry = { event: entry.event, rtmsStreamId: entry.rtmsStreamId, product: entry.product, at: String(entry.at) };
  if (entry.entityId !== undefined) fields['entityId'] = entry.entityId;
  if (entry.reason !== undefined) fields['reason'] = entry.reason;
  return fields;
}
