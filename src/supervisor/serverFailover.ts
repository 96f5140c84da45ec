import type { Logger } from '../logger.ts';
import type { StreamStart } from '../rtms/products.ts';
import type { StreamRecord } from './streamRecord.ts';

/**
 * Whether a new `rtms_started` for an active stream is Zoom's server failover (the same
 * stream announced again, usually with new `server_urls`) that the stream must follow. Not
 * when it is stale (webhooks arrive out of order: Zoom retries 5 to 60 min later) or a retry
 * for a healthy stream with the same URLs; those are logged and ignored.
 */
export function isServerFailover(existing: StreamRecord, start: StreamStart, logger: Logger): boolean {
  // An announcement older than the one we act on must not move the stream back to a previous server.
  if (start.eventTs < existing.start.eventTs) {
    logger.info(
      { rtmsStreamId: start.rtmsStreamId, eventTs: start.eventTs, currentEventTs: existing.start.eventTs },
      'stale rtms_started (older event_ts); ignored',
    );
    return false;
  }
  const urlsChanged = existing.start.serverUrls !== start.serverUrls;
  if (!urlsChanged && existing.stats.state !== 'waitingReconnect') {
    logger.info({ rtmsStreamId: start.rtmsStreamId, state: existing.stats.state }, 'rtms_started for a healthy stream with the same server_urls; ignored');
    return false;
  }
  return true;
}
