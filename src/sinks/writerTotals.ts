import type { MediaKind } from '../vocabulary/mediaKind.ts';
import type { WriteStats } from '../media/writeQueue.ts';
import type { SinkCounters } from './streamSink.ts';

/** The counters of a writer that a stream's totals are made of. */
type Counts = Pick<WriteStats, 'recordsWritten' | 'bytesWritten' | 'recordsFailed' | 'recordsAbandoned'>;

/**
 * The counters of a stream's finished writers, per kind (undefined: `events.jsonl`). A part
 * that is finalized is dropped once its counts are added here: a stream whose server rotates
 * 20,000 speaker ids keeps a few numbers per kind, not 20,000 writers with their buffers.
 */
export class WriterTotals {
  readonly #kinds = new Map<MediaKind | undefined, { -readonly [K in keyof Counts]: number }>();

  add(kind: MediaKind | undefined, stats: Counts): void {
    let totals = this.#kinds.get(kind);
    if (totals === undefined) {
      totals = { recordsWritten: 0, bytesWritten: 0, recordsFailed: 0, recordsAbandoned: 0 };
      this.#kinds.set(kind, totals);
    }
    totals.recordsWritten += stats.recordsWritten;
    totals.bytesWritten += stats.bytesWritten;
    totals.recordsFailed += stats.recordsFailed;
    totals.recordsAbandoned += stats.recordsAbandoned;
  }

  /** Lines the finished `events.jsonl` writers wrote. */
  eventsWritten(): number {
    return this.#kinds.get(undefined)?.recordsWritten ?? 0;
  }

  /** Adds the finished writers' counts to `result`, per media kind. */
  addCounters(result: Partial<Record<MediaKind, SinkCounters>>): void {
    for (const [kind, totals] of this.#kinds) addWriterCounts(result, kind, totals);
  }
}

/** Adds one writer's (or a total's) counts to `result` under its media kind; events are not media. */
export function addWriterCounts(result: Partial<Record<MediaKind, SinkCounters>>, kind: MediaKind | undefined, stats: Counts): void {
  if (kind === undefined) return;
  const counters = (result[kind] ??= { framesWritten: 0, bytesWritten: 0, framesDropped: {} });
  counters.framesWritten += stats.recordsWritten;
  counters.bytesWritten += stats.bytesWritten;
  addCount(counters.framesDropped, 'sink_error', stats.recordsFailed);
  addCount(counters.framesDropped, 'sink_destroyed', stats.recordsAbandoned);
}

function addCount(counts: Record<string, number>, reason: string, count: number): void {
  if (count > 0) counts[reason] = (counts[reason] ?? 0) + count;
}
