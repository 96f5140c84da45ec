import type { MediaKind } from '../../vocabulary/mediaKind.ts';
import type { SinkCounters } from '../../sinks/streamSink.ts';
import type { SessionDropReason } from '../../vocabulary/reasons.ts';
import { emptyCounters, type MediaCounters, type StreamStats } from '../../vocabulary/streamStats.ts';

/**
 * What the session itself received and dropped, per media kind, merged with what the sink
 * wrote and dropped and with what earlier incarnations of the stream counted (a worker or
 * replica that died). Every frame received is written or counted here with a reason, so
 * `framesReceived = framesWritten + Σ framesDropped` holds for each kind.
 */

export class SessionAccounting {
  readonly #received = new Map<MediaKind, MediaCounters>();
  /** Counts of earlier incarnations of this stream (on workers that died), added to ours. */
  readonly #carried: StreamStats['media'];

  constructor(carried: StreamStats['media'] = {}) {
    this.#carried = carried;
  }

  /** One frame of `kind` arrived, `bytes` long. */
  received(kind: MediaKind, bytes: number): void {
    const counters = this.#counters(kind);
    counters.framesReceived += 1;
    counters.bytesReceived += bytes;
  }

  /** A frame already counted as received was not handed on. */
  dropped(kind: MediaKind, reason: SessionDropReason): void {
    const counters = this.#counters(kind);
    counters.framesDropped[reason] = (counters.framesDropped[reason] ?? 0) + 1;
  }

  /** A media message that could not be read: received (its wire size) and dropped as `malformed`. */
  malformed(kind: MediaKind, wireBytes: number): void {
    this.received(kind, wireBytes);
    this.dropped(kind, 'malformed');
  }

  /** Per kind: carried + ours + the sink's, with drop reasons summed. */
  media(sinkCounters: Readonly<Partial<Record<MediaKind, SinkCounters>>>): Partial<Record<MediaKind, MediaCounters>> {
    const media: Partial<Record<MediaKind, MediaCounters>> = {};
    const kinds = new Set<MediaKind>([...this.#received.keys(), ...(Object.keys(this.#carried) as MediaKind[])]);
    for (const kind of kinds) {
      const received = this.#received.get(kind) ?? emptyCounters();
      const sunk = sinkCounters[kind];
      const carried = this.#carried[kind] ?? emptyCounters();
      const dropped = { ...carried.framesDropped };
      for (const source of [received.framesDropped, sunk?.framesDropped ?? {}]) {
        for (const [reason, count] of Object.entries(source)) dropped[reason] = (dropped[reason] ?? 0) + count;
      }
      media[kind] = {
        framesReceived: carried.framesReceived + received.framesReceived,
        bytesReceived: carried.bytesReceived + received.bytesReceived,
        framesWritten: carried.framesWritten + (sunk?.framesWritten ?? 0),
        bytesWritten: carried.bytesWritten + (sunk?.bytesWritten ?? 0),
        framesDropped: dropped,
      };
    }
    return media;
  }

  #counters(kind: MediaKind): MediaCounters {
    let counters = this.#received.get(kind);
    if (counters === undefined) {
      counters = emptyCounters();
      this.#received.set(kind, counters);
    }
    return counters;
  }
}
