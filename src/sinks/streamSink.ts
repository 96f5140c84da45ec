import type { EventEmitter } from 'node:events';
import type { MediaKind } from '../vocabulary/mediaKind.ts';
import type { Frame, LifecycleEvent, MediaFormats } from '../vocabulary/frame.ts';
import type { SinkHealth } from '../vocabulary/streamStats.ts';

/** What a sink did with the frames it was given, per media kind. */
export interface SinkCounters {
  framesWritten: number;
  bytesWritten: number;
  /** Frames accepted but not written, by reason (`sink_error`, `excluded`, ...). */
  framesDropped: Record<string, number>;
}

/**
 * Where one stream's frames and events go. Like a Node writable: `write()` returns false
 * when the sink wants the producer to slow down and emits `'drain'` when it can take more;
 * nothing awaits per frame. A file that cannot be written is reported as a `'fault'`
 * (`{ file, code, lost }`, see FileSink); a sink that fails as a whole emits `'error'` once and
 * drops (and counts) what it is given afterwards.
 */
export interface StreamSink extends EventEmitter {
  /** Sets the formats negotiated with Zoom; called before the first frame of each kind. */
  setFormats(formats: MediaFormats): void;
  /** Accepts a frame; false = above high water, wait for `'drain'`. */
  write(frame: Frame): boolean;
  writeEvent(event: LifecycleEvent): void;
  /**
   * Replaces the metadata kept in `stream.json`; written at the next flush and on close, or,
   * with `countersOnly` (only running counts changed), at the sink's slower periodic refresh.
   */
  setMetadata(metadata: Readonly<Record<string, unknown>>, options?: { readonly countersOnly?: boolean }): void;
  /** Written and dropped counts so far; frames still pending are in neither. */
  counters(): Readonly<Partial<Record<MediaKind, SinkCounters>>>;
  /** Whether its files are being written, and the last write error (for `GET /streams/{id}`). */
  health?(): SinkHealth | undefined;
  /** Bytes accepted but not yet on disk. */
  readonly pendingBytes: number;
  /** Output files so far, relative to the stream directory. */
  files(): readonly string[];
  /** Writes everything pending now (WAV headers and `stream.json` included). */
  flush(): Promise<void>;
  /** Finalizes every file (WAV headers, `stream.json`); idempotent. */
  close(): Promise<void>;
  /** Stops at once, leaving files valid but possibly short; idempotent. */
  destroy(): Promise<void>;
}
