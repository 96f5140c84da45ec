import type { Clock } from '../clock.ts';
import type { MediaKind } from '../vocabulary/mediaKind.ts';
import type { ConnectorError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { MediaWriter } from '../media/mediaWriter.ts';

/** The shapes {@link StreamFiles} (streamFiles.ts) is built from and reports with. */

/** A file that could not be written: reported at the start of each incident. */
export interface FileFault {
  readonly file: string;
  readonly code: string;
  /** The file was given up (its stream goes on in a new part); otherwise its data waits for a retry. */
  readonly lost: boolean;
  readonly error: ConnectorError;
}

export interface StreamFilesOptions {
  readonly directory: string;
  readonly maxWavDataBytes: number;
  /** A failing file holding more than half of this sheds what waits for it. */
  readonly highWaterBytes: number;
  readonly fillAudioGaps: boolean;
  /** `<file>.index.jsonl` beside each WAV and H.264 file (frameIndex.ts). */
  readonly frameIndex?: boolean | undefined;
  /** `transcript.vtt` and `transcript.srt` (captionWriter.ts). */
  readonly captions?: boolean | undefined;
  /** Per-speaker WAVs open at once (speakerFiles.ts); undefined: unbounded. */
  readonly maxOpenSpeakerFiles: number | undefined;
  readonly onSpeakerFileClosedEarly: (() => void) | undefined;
  /** Names an earlier run listed; those still on disk stay listed and are never reused. */
  readonly previousFiles: readonly string[];
  readonly clock: Clock;
  readonly logger: Logger | undefined;
  readonly onFault: (fault: FileFault) => void;
  /** An event of the files themselves (`sink.file_*`, `media.gap`). */
  readonly onEvent: (eventType: string, data: Record<string, unknown>) => void;
}

export interface WriterCallbacks {
  readonly onError: (error: Error) => void;
  readonly onRetry: (error: Error) => void;
}

export interface Output {
  /** undefined for `events.jsonl`, which is not media. */
  readonly kind: MediaKind | undefined;
  readonly name: string;
  readonly writer: MediaWriter;
  /** Forgets the writer where frames look for it, so the next frame opens a new part. */
  readonly detach: () => void;
}
