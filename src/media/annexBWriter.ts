import { AppendOnlyFile } from './appendOnlyFile.ts';
import { FrameIndex, type FrameStamp } from './frameIndex.ts';
import { splitLengthPrefixed, startsWithLongStartCode, startsWithStartCode } from './h264.ts';
import type { MediaWriter } from './mediaWriter.ts';
import type { WriteStats } from './writeQueue.ts';

export interface AnnexBWriterOptions {
  /** Absolute path, e.g. `<stream dir>/video.h264`; an existing file is continued. */
  readonly path: string;
  /** Called once with the first error. Must not throw. */
  readonly onError?: ((error: Error) => void) | undefined;
  /** Called with each error after which the file was cut back and the batch waits for a retry. */
  readonly onRetry?: ((error: Error) => void) | undefined;
  /** Writes `<path>.index.jsonl`, one record per access unit appended with a stamp (frameIndex.ts). */
  readonly index?: boolean | undefined;
}

const START_CODE = Buffer.from([0, 0, 0, 1]);
const EMPTY = Buffer.alloc(0);

/**
 * Appends H.264 access units, as received, to a raw Annex B elementary stream that any
 * decoder (ffmpeg, VLC, GStreamer) plays. Zoom sends Annex B; should an access unit arrive
 * without a leading start code, it is repaired so the file stays decodable:
 * - length-prefixed (AVCC: 4-byte big-endian lengths that exactly cover the unit, each
 *   followed by a valid NAL header): each length is replaced by `00 00 00 01`;
 * - otherwise, a bare NAL unit (it never starts with a zero byte): `00 00 00 01` is
 *   prepended.
 * A unit starting `00 00 00 01` is always taken as Annex B. One starting `00 00 01` is taken
 * as AVCC only if it parses completely as such (a first NAL of 256–511 bytes looks like a
 * 3-byte start code); a genuine Annex B unit passing that check by chance is theoretically
 * possible but needs every length field to line up exactly. Repair bytes count in
 * `bytesWritten`. An existing file is continued: Annex B streams concatenate.
 */
export class AnnexBWriter implements MediaWriter {
  readonly #file: AppendOnlyFile;
  readonly #index: FrameIndex | undefined;

  constructor(options: AnnexBWriterOptions) {
    const index = options.index === true ? new FrameIndex({ path: `${options.path}.index.jsonl`, baseOffset: 0 }) : undefined;
    this.#index = index;
    const onError = (error: Error): void => {
      index?.discard(0);
      options.onError?.(error);
    };
    this.#file = new AppendOnlyFile({ path: options.path, onError, onRetry: options.onRetry, companion: index });
  }

  get path(): string {
    return this.#file.path;
  }
  /** Accounted bytes not yet on disk, and the index records waiting with them. */
  get pendingBytes(): number {
    return this.#file.pendingBytes + (this.#index?.pendingBytes ?? 0);
  }

  /** The time index beside the file, if any. */
  get index(): FrameIndex | undefined {
    return this.#index;
  }

  /** Counters; records are access units. */
  stats(): WriteStats {
    return this.#file.stats();
  }

  /** Queues one access unit (not copied: do not modify it afterwards). */
  append(accessUnit: Buffer, stamp?: FrameStamp): void {
    if (accessUnit.length === 0 || startsWithLongStartCode(accessUnit)) {
      this.#noted(accessUnit.length, stamp);
      this.#file.append(accessUnit, 1);
      return;
    }
    // Checked before the 3-byte start code: a NAL length of 256–511 reads as `00 00 01`.
    const nalUnits = accessUnit[0] === 0 ? splitLengthPrefixed(accessUnit) : undefined;
    if (nalUnits !== undefined) {
      // Each 4-byte length becomes a 4-byte start code: the same size.
      this.#noted(accessUnit.length, stamp);
      // Chunks are queued back to back, so no flush can separate them.
      for (const nal of nalUnits) {
        this.#file.append(START_CODE, 0);
        this.#file.append(nal, 0);
      }
      this.#file.append(EMPTY, 1);
      return;
    }
    const repaired = !startsWithStartCode(accessUnit);
    this.#noted(accessUnit.length + (repaired ? START_CODE.length : 0), stamp);
    if (repaired) this.#file.append(START_CODE, 0);
    this.#file.append(accessUnit, 1);
  }

  #noted(bytes: number, stamp: FrameStamp | undefined): void {
    if (stamp !== undefined) this.#index?.note(bytes, stamp);
    else this.#index?.skip(bytes);
  }

  /** Counts what waits to be written as failed and forgets it; returns the number of records. */
  discard(): number {
    const records = this.#file.discard();
    this.#index?.discard(this.#file.contentBytes);
    return records;
  }

  flush(): Promise<void> {
    return this.#file.flush();
  }
  close(): Promise<void> {
    return this.#file.close().then(() => this.#index?.discard(0));
  }
  destroy(): Promise<void> {
    return this.#file.destroy().then(() => this.#index?.discard(0));
  }
}
