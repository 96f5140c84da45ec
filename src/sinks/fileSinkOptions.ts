import type { Clock } from '../clock.ts';
import type { Logger } from '../logger.ts';
import { WAV_MAX_DATA_BYTES } from '../media/wavWriter.ts';

export interface FileSinkOptions {
  /** The stream's directory, e.g. `OUTPUT_DIR/<rtms_stream_id>`; created on first write. */
  readonly directory: string;
  /**
   * How often pending data is written and WAV headers and `stream.json` are refreshed, ms.
   * A killed process loses at most this much. Default 1000; 1 to 2000.
   */
  readonly flushIntervalMs?: number | undefined;
  /**
   * How often `stream.json` is rewritten when only its counters changed, ms. Metadata, the
   * file list and the sink's state reach it at the next flush; an explicit `flush()` always
   * refreshes it. Default 5000. Rewriting it is several syscalls (temp file, rename), the
   * largest per-stream file cost when it followed every flush.
   */
  readonly streamJsonIntervalMs?: number | undefined;
  /** `write()` returns false while more than this many bytes are pending. Default 4 MiB. */
  readonly highWaterBytes?: number | undefined;
  /** `'drain'` is emitted once pending bytes are at or below this. Default highWaterBytes / 4. */
  readonly lowWaterBytes?: number | undefined;
  /**
   * Data bytes per WAV file before the next part (`audio.part2.wav`, …) starts. Default and
   * maximum: the 4 GiB RIFF limit ({@link WAV_MAX_DATA_BYTES}).
   */
  readonly maxWavDataBytes?: number | undefined;
  /**
   * Pad audio where Zoom sent nothing (timestamps jump) with silence, so every WAV keeps the
   * stream's timeline from its first audio packet. Default false: WAV bytes equal the PCM received.
   */
  readonly fillAudioGaps?: boolean | undefined;
  /**
   * How long `close()` keeps retrying files that fail, and then the final `stream.json`,
   * ms. Default 10000; the worker passes the shutdown grace.
   */
  readonly finalWriteTimeoutMs?: number | undefined;
  /**
   * `files` of the `stream.json` an earlier run left in the directory (a restart or takeover
   * continues the stream): those still on disk stay listed, and new parts never reuse their names.
   */
  readonly previousFiles?: readonly string[] | undefined;
  /**
   * Per-speaker WAVs open at once (see speakerFiles.ts); opening one more closes the one
   * written longest ago, and that speaker continues in a new part. Default unbounded.
   */
  readonly maxOpenSpeakerFiles?: number | undefined;
  /**
   * Writes `<file>.index.jsonl` beside each WAV and H.264 file: every frame's Zoom timestamp,
   * user and byte range (docs/output.md "Time index"). Default false; the connector turns it on.
   */
  readonly frameIndex?: boolean | undefined;
  /** Writes `transcript.vtt` and `transcript.srt` (docs/output.md "Captions"). Default false; the connector turns it on. */
  readonly captions?: boolean | undefined;
  /** Called each time a speaker's WAV is closed early to respect `maxOpenSpeakerFiles`. */
  readonly onSpeakerFileClosedEarly?: (() => void) | undefined;
  /** Default `systemClock`. */
  readonly clock?: Clock | undefined;
  readonly logger?: Logger | undefined;
}

const DEFAULT_FLUSH_INTERVAL_MS = 1000;
const DEFAULT_STREAM_JSON_INTERVAL_MS = 5000;
const DEFAULT_FINAL_WRITE_TIMEOUT_MS = 10_000;
const MAX_FLUSH_INTERVAL_MS = 2000;
const DEFAULT_HIGH_WATER_BYTES = 4 * 1024 * 1024;

/** The options with defaults applied; throws `RangeError` for values out of range. */
export function resolveFileSinkOptions(options: FileSinkOptions) {
  const flushIntervalMs = options.flushIntervalMs ?? DEFAULT_FLUSH_INTERVAL_MS;
  if (!Number.isInteger(flushIntervalMs) || flushIntervalMs < 1 || flushIntervalMs > MAX_FLUSH_INTERVAL_MS) {
    throw new RangeError(`flushIntervalMs must be an integer from 1 to ${MAX_FLUSH_INTERVAL_MS}, got ${flushIntervalMs}`);
  }
  const highWaterBytes = options.highWaterBytes ?? DEFAULT_HIGH_WATER_BYTES;
  if (!Number.isSafeInteger(highWaterBytes) || highWaterBytes < 1) {
    throw new RangeError(`highWaterBytes must be a positive integer, got ${highWaterBytes}`);
  }
  const lowWaterBytes = options.lowWaterBytes ?? Math.floor(highWaterBytes / 4);
  if (!Number.isSafeInteger(lowWaterBytes) || lowWaterBytes < 0 || lowWaterBytes >= highWaterBytes) {
    throw new RangeError(`lowWaterBytes must be an integer from 0 to below highWaterBytes (${highWaterBytes}), got ${lowWaterBytes}`);
  }
  const maxWavDataBytes = options.maxWavDataBytes ?? WAV_MAX_DATA_BYTES;
  if (!Number.isSafeInteger(maxWavDataBytes) || maxWavDataBytes < 1 || maxWavDataBytes > WAV_MAX_DATA_BYTES) {
    throw new RangeError(`maxWavDataBytes must be an integer from 1 to ${WAV_MAX_DATA_BYTES}, got ${maxWavDataBytes}`);
  }
  const streamJsonIntervalMs = options.streamJsonIntervalMs ?? DEFAULT_STREAM_JSON_INTERVAL_MS;
  if (!Number.isInteger(streamJsonIntervalMs) || streamJsonIntervalMs < 1) {
    throw new RangeError(`streamJsonIntervalMs must be a positive integer, got ${streamJsonIntervalMs}`);
  }
  const finalWriteTimeoutMs = options.finalWriteTimeoutMs ?? DEFAULT_FINAL_WRITE_TIMEOUT_MS;
  if (!Number.isInteger(finalWriteTimeoutMs) || finalWriteTimeoutMs < 0) {
    throw new RangeError(`finalWriteTimeoutMs must be a non-negative integer, got ${finalWriteTimeoutMs}`);
  }
  return { flushIntervalMs, highWaterBytes, lowWaterBytes, maxWavDataBytes, streamJsonIntervalMs, finalWriteTimeoutMs };
}
