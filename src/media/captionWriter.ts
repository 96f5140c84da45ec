import { AppendOnlyFile } from './appendOnlyFile.ts';
import { srtCue, vttCue, vttHeader, type CaptionFormat, type Cue } from './captionCues.ts';
import type { MediaWriter } from './mediaWriter.ts';
import type { WriteStats } from './writeQueue.ts';

export interface CaptionWriterOptions {
  /** Absolute path, e.g. `<stream dir>/transcript.vtt`; must not exist yet (a WebVTT file starts with its header). */
  readonly path: string;
  readonly format: CaptionFormat;
  /** Zoom time of 00:00:00.000, ms epoch; named in the WebVTT header. */
  readonly originMs: number;
  /** Called once with the first error. Must not throw. */
  readonly onError?: ((error: Error) => void) | undefined;
  /** Called with each error after which the file was cut back and the batch waits for a retry. */
  readonly onRetry?: ((error: Error) => void) | undefined;
}

/**
 * `transcript.vtt` or `transcript.srt`, valid at every moment: each cue is one append, a batch
 * of whole cues is written at once and cut back whole when it fails, and a WebVTT file's
 * header is written before its first cue. Cues keep the order of their start times (both
 * formats expect it): a line that starts before the previous cue is shown from that cue's
 * start. Records are cues; the transcript's frames are counted by `transcript.jsonl`.
 */
export class CaptionWriter implements MediaWriter {
  readonly #file: AppendOnlyFile;
  readonly #format: CaptionFormat;
  #sequence = 0;
  #lastStartMs = 0;

  constructor(options: CaptionWriterOptions) {
    this.#format = options.format;
    const header = options.format === 'vtt' ? Buffer.from(vttHeader(options.originMs), 'utf8') : undefined;
    this.#file = new AppendOnlyFile({
      path: options.path,
      header: header === undefined ? undefined : { bytes: header.length, render: () => header },
      onError: options.onError,
      onRetry: options.onRetry,
    });
  }

  get path(): string {
    return this.#file.path;
  }
  get pendingBytes(): number {
    return this.#file.pendingBytes;
  }
  stats(): WriteStats {
    return this.#file.stats();
  }

  /** Queues one cue. */
  append(cue: Cue): void {
    const startMs = Math.max(cue.startMs, this.#lastStartMs);
    this.#lastStartMs = startMs;
    const ordered = { ...cue, startMs, endMs: Math.max(cue.endMs, startMs + 1) };
    this.#sequence += 1;
    const text = this.#format === 'vtt' ? vttCue(ordered) : srtCue(ordered, this.#sequence);
    this.#file.append(Buffer.from(text, 'utf8'), 1);
  }

  discard(): number {
    return this.#file.discard();
  }
  flush(): Promise<void> {
    return this.#file.flush();
  }
  close(): Promise<void> {
    return this.#file.close();
  }
  destroy(): Promise<void> {
    return this.#file.destroy();
  }
}
