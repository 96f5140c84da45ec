import { rm, writeFile } from 'node:fs/promises';
import { makeDirectory } from './makeDirectory.ts';
import { join } from 'node:path';
import type { MediaWriter } from './mediaWriter.ts';
import { WriteQueue, type WriteStats } from './writeQueue.ts';

export interface ImageFrameWriterOptions {
  /** Absolute directory the images go to, e.g. `<stream dir>/video`; created on first write. */
  readonly directory: string;
  /** File extension, without the dot. */
  readonly extension: 'jpg' | 'png';
  /** Called once with the first error. Must not throw. */
  readonly onError?: ((error: Error) => void) | undefined;
  /** Called with each failed image write; that image and the rest wait for the next flush. */
  readonly onRetry?: ((error: Error) => void) | undefined;
}

interface ImageFrame {
  readonly stem: string;
  /** 0 = no suffix; n = `-n`. */
  readonly suffix: number;
  readonly data: Buffer;
}

/**
 * Writes each JPEG/PNG frame to its own file named after its timestamp (ms epoch):
 * `<timestamp>.jpg`. Never overwrites: frames sharing a timestamp get `-1`, `-2`, … in
 * arrival order, and a name already on disk (e.g. from an earlier run) moves on to the next
 * free suffix. Frames are queued without copying and written at `flush()`, one file each.
 */
export class ImageFrameWriter implements MediaWriter {
  readonly #directory: string;
  readonly #extension: string;
  readonly #queue: WriteQueue<ImageFrame>;
  // Only the latest timestamp is remembered: duplicates arrive back to back, and any
  // other clash is caught by the exclusive create.
  #lastStem = '';
  #lastSuffix = 0;
  #closing: Promise<void> | undefined;

  constructor(options: ImageFrameWriterOptions) {
    this.#directory = options.directory;
    this.#extension = options.extension;
    // Each image is its own file, removed again when its write fails: a retry is always safe.
    this.#queue = new WriteQueue<ImageFrame>({
      write: (frames, written) => this.#writeBatch(frames, written),
      onError: options.onError,
      retryable: () => true,
      onRetry: options.onRetry,
    });
  }

  get directory(): string {
    return this.#directory;
  }
  /** Accounted bytes not yet on disk. */
  get pendingBytes(): number {
    return this.#queue.pendingBytes;
  }

  /** Counters; records are images. */
  stats(): WriteStats {
    return this.#queue.snapshot();
  }

  /** Queues one image taken at `timestamp` (ms epoch; non-integers are truncated). */
  append(timestamp: number, image: Buffer): void {
    const stem = String(Number.isFinite(timestamp) ? Math.max(0, Math.trunc(timestamp)) : 0);
    const suffix = stem === this.#lastStem ? this.#lastSuffix + 1 : 0;
    this.#lastStem = stem;
    this.#lastSuffix = suffix;
    this.#queue.push({ stem, suffix, data: image }, image.length, 1);
  }

  /** Counts what waits to be written as failed and forgets it; returns the number of images. */
  discard(): number {
    return this.#queue.discard();
  }

  flush(): Promise<void> {
    return this.#queue.flush();
  }

  close(): Promise<void> {
    this.#closing ??= this.#queue.flush().then(() => {
      // Still failing at the end: what waits is lost, and counted so.
      if (this.#queue.retryError !== undefined) this.#queue.discard();
    });
    return this.#closing;
  }

  destroy(): Promise<void> {
    return this.#queue.destroy();
  }

  async #writeBatch(frames: readonly ImageFrame[], written: (count: number) => void): Promise<void> {
    // Every batch: also brings back a directory deleted meanwhile (cheap when it exists).
    await makeDirectory(this.#directory);
    for (const [index, frame] of frames.entries()) {
      await this.#writeExclusive(frame);
      written(index + 1);
    }
  }

  async #writeExclusive(frame: ImageFrame): Promise<void> {
    for (let suffix = frame.suffix; ; suffix++) {
      const name = `${frame.stem}${suffix === 0 ? '' : `-${suffix}`}.${this.#extension}`;
      const path = join(this.#directory, name);
      try {
        await writeFile(path, frame.data, { flag: 'wx' });
        return;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
          // No half-written image stays on disk (a full disk fails after the create).
          await rm(path, { force: true }).catch(() => undefined);
          throw error;
        }
      }
    }
  }
}
