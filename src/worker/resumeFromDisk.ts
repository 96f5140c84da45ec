import type { MediaKind } from '../vocabulary/mediaKind.ts';
import type { StreamStart } from '../rtms/products.ts';
import type { PreviousStream } from '../sinks/streamCheckpoint.ts';
import { emptyCounters, initialStreamStats, type MediaCounters, type StreamStats } from '../vocabulary/streamStats.ts';

/**
 * The statistics an earlier run of this stream left in its `stream.json`, for a session that
 * continues it after a restart: admission time, first live time, reconnects and the per-kind
 * counters (`media`) carry over. Values that do not parse are left out, never guessed.
 */
export function statsFromDisk(previous: PreviousStream, start: StreamStart): StreamStats {
  const document = previous.document;
  const createdAt = timeField(document['createdAt']) ?? Date.now();
  const media: Partial<Record<MediaKind, MediaCounters>> = {};
  const stored = document['media'];
  if (stored !== null && typeof stored === 'object') {
    for (const [kind, value] of Object.entries(stored as Record<string, unknown>)) {
      const counters = mediaCounters(value);
      if (counters !== undefined) media[kind as MediaKind] = counters;
    }
  }
  const reconnects = document['reconnects'];
  return {
    ...initialStreamStats(start, 'idle', createdAt),
    liveAt: timeField(document['liveAt']),
    reconnects: typeof reconnects === 'number' && Number.isInteger(reconnects) && reconnects >= 0 ? reconnects : 0,
    media,
  };
}

function timeField(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined;
  const ms = Date.parse(value);
  return Number.isFinite(ms) ? ms : undefined;
}

function mediaCounters(value: unknown): MediaCounters | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  const record = value as Record<string, unknown>;
  const counters = emptyCounters();
  for (const key of ['framesReceived', 'bytesReceived', 'framesWritten', 'bytesWritten'] as const) {
    const count = record[key];
    if (typeof count !== 'number' || !Number.isSafeInteger(count) || count < 0) return undefined;
    counters[key] = count;
  }
  const dropped = record['framesDropped'];
  if (dropped !== null && typeof dropped === 'object') {
    for (const [reason, count] of Object.entries(dropped as Record<string, unknown>)) {
      if (typeof count === 'number' && Number.isSafeInteger(count) && count > 0) counters.framesDropped[reason] = count;
    }
  }
  return counters;
}
