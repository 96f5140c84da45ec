import { AppendOnlyFile } from './appendOnlyFile.ts';
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

  constructor(options: AnnexBWriterOptions) {
    this.#file = new AppendOnlyFile({ path: options.path, onError: options.onError, onRetry: options.onRetry });
  }

  get path(): string {
    return this.#file.path;
  }
  /** Accounted bytes not yet on disk. */
  get pendingBytes(): number {
    return this.#file.pendingBytes;
  }

  /** Counters; records are access units. */
  stats(): WriteStats {
    return this.#file.stats();
  }

  /** Queues one access unit (not copied: do not modify it afterwards). */
  append(accessUnit: Buffer): void {
    if (accessUnit.length === 0 || startsWithLongStartCode(accessUnit)) {
      this.#file.append(accessUnit, 1);
      return;
    }
    // Checked before the 3-byte start code: a NAL length of 256–511 reads as `00 00 01`.
    const nalUnits = accessUnit[0] === 0 ? splitLengthPrefixed(accessUnit) : undefined;
    if (nalUnits !== undefined) {
      // Chunks are queued back to back, so no flush can separate them.
      for (const nal of nalUnits) {
        this.#file.append(START_CODE, 0);
        this.#file.append(nal, 0);
      }
      this.#file.append(EMPTY, 1);
      return;
    }
    if (!startsWithStartCode(accessUnit)) this.#file.append(START_CODE, 0);
    this.#file.append(accessUnit, 1);
  }

  /** Counts what waits to be written as failed and forgets it; returns the number of records. */
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
