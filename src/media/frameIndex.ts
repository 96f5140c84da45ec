import { closeSync, ftruncateSync, openSync } from 'node:fs';
import { writeFullySync } from './writeFully.ts';

/** Who sent a frame and when (Zoom's `timestamp`, ms epoch): what the index keeps of it. */
export interface FrameStamp {
  readonly timestamp: number;
  readonly userId: string;
  readonly userName: string | undefined;
}

/** One line of `<file>.index.jsonl` (docs/output.md "Time index"). */
export interface IndexRecord {
  /** Zoom timestamp of the first frame, ms epoch. */
  readonly ts: number;
  /** Byte offset of the first frame in the media file (a WAV's header included). */
  readonly offset: number;
  readonly bytes: number;
  readonly frames: number;
  readonly userId: string;
  readonly userName?: string | undefined;
}

/**
 * Memory a pending record is counted as in the writer's pending bytes, so the sink's
 * high-water mark bounds the index too (one record per frame at worst).
 */
export const INDEX_RECORD_BYTES = 128;

interface Pending {
  readonly ts: number;
  /** Content offset (after the media file's header). */
  readonly offset: number;
  /** Grown in place while the record is open (see `note`). */
  bytes: number;
  frames: number;
  /** Bytes of each frame (all equal within an audio record). */
  readonly frameBytes: number;
  readonly userId: string;
  readonly userName: string | undefined;
}

export interface FrameIndexOptions {
  /** Absolute path of the index, `<media file>.index.jsonl`. */
  readonly path: string;
  /** Bytes before the content in the media file (44 for a WAV, 0 for Annex B). */
  readonly baseOffset: number;
  /**
   * Audio: bytes per second. Frames of one size from one user whose timestamps follow each
   * other exactly share a record. Undefined (video): one record per frame.
   */
  readonly byteRate?: number | undefined;
}

/**
 * The time index of one media file: which bytes hold which frame, with its Zoom timestamp and
 * user (docs/output.md "Time index"). Frames are noted as they are appended; the media file
 * calls `commit()` after each batch reached the disk and before its header claims it, so the
 * index never describes a byte that is not on disk and a WAV header never claims a byte the
 * index does not describe (docs/reliability.md "Time index"). Each commit is one positional
 * write of whole lines; a failed one is cut back, so the index ends with a complete line.
 *
 * The file is opened per commit (one per flush), so an index holds no descriptor between
 * flushes and the descriptor bounds of the media files (speakerFiles.ts) are unchanged.
 */
export class FrameIndex {
  readonly #path: string;
  readonly #base: number;
  readonly #byteRate: number | undefined;
  #records: Pending[] = [];
  /** The last pending record may still grow. */
  #open = false;
  /** Content offset of the next byte appended to the media file. */
  #next = 0;
  /** Bytes of complete lines on disk. */
  #fileBytes = 0;
  #created = false;
  #recordsWritten = 0;
  /** What the last commit took, to put back when its batch is cut back after all. */
  #undo: { readonly records: Pending[]; readonly open: boolean; readonly fileBytes: number; readonly written: number } | undefined;

  constructor(options: FrameIndexOptions) {
    this.#path = options.path;
    this.#base = options.baseOffset;
    this.#byteRate = options.byteRate;
  }

  get path(): string {
    return this.#path;
  }

  /** Memory held by records not yet written (see {@link INDEX_RECORD_BYTES}). */
  get pendingBytes(): number {
    return this.#records.length * INDEX_RECORD_BYTES;
  }

  get recordsWritten(): number {
    return this.#recordsWritten;
  }

  /** A frame of `bytes` bytes was appended to the media file. */
  note(bytes: number, stamp: FrameStamp): void {
    const offset = this.#next;
    this.#next += bytes;
    const last = this.#records.at(-1);
    if (this.#open && last !== undefined && this.#continues(last, offset, bytes, stamp)) {
      // In place, no copy per frame: a commit serializes what it takes before it returns, and
      // its undo runs before any later frame is noted (AppendOnlyFile's batch write).
      last.bytes += bytes;
      last.frames += 1;
      return;
    }
    this.#records.push({ ts: stamp.timestamp, offset, bytes, frames: 1, frameBytes: bytes, userId: stamp.userId, userName: stamp.userName });
    this.#open = true;
  }

  /** Bytes that are no frame (silence filling a gap, a repair): the next frame starts a record. */
  skip(bytes: number): void {
    this.#next += bytes;
    this.#open = false;
  }

  /**
   * The media file's queued data was discarded and will never be written: its records go too,
   * and the next byte appended lands at `contentOnDisk`.
   */
  discard(contentOnDisk: number): void {
    this.#records = [];
    this.#open = false;
    this.#next = contentOnDisk;
  }

  /**
   * The media file's content bytes `[0, contentBytes)` are on disk: writes the records that lie
   * within them (an audio record reaching past is split at a frame boundary). Throws after
   * cutting the index back when the write fails; the caller retries the whole batch.
   */
  commit(contentBytes: number): void {
    const taken: Pending[] = [];
    let rest = 0;
    for (const record of this.#records) {
      if (record.offset + record.bytes <= contentBytes) {
        taken.push(record);
        rest += 1;
        continue;
      }
      break;
    }
    const remaining = this.#records.slice(rest);
    const straddling = remaining[0];
    if (straddling !== undefined && straddling.offset < contentBytes && straddling.frameBytes > 0 && this.#byteRate !== undefined) {
      const frames = Math.floor((contentBytes - straddling.offset) / straddling.frameBytes);
      if (frames > 0) {
        const bytes = frames * straddling.frameBytes;
        taken.push({ ...straddling, bytes, frames });
        const ts = straddling.ts + (bytes * 1000) / this.#byteRate;
        remaining[0] = { ...straddling, ts, offset: straddling.offset + bytes, bytes: straddling.bytes - bytes, frames: straddling.frames - frames };
      }
    }
    if (taken.length === 0) {
      this.#undo = undefined;
      return;
    }
    const text = taken.map((record) => `${JSON.stringify(this.#line(record))}\n`).join('');
    this.#write(Buffer.from(text, 'utf8'));
    this.#undo = { records: this.#records, open: this.#open, fileBytes: this.#fileBytes - Buffer.byteLength(text), written: this.#recordsWritten };
    this.#recordsWritten += taken.length;
    // A record written whole is closed: the next frame starts a new one.
    if (remaining.length === 0) this.#open = false;
    this.#records = remaining;
  }

  /** The batch the last commit described was cut back after all: so is the index. */
  rollback(): void {
    const undo = this.#undo;
    if (undo === undefined) return;
    this.#undo = undefined;
    this.#records = undo.records;
    this.#open = undo.open;
    this.#recordsWritten = undo.written;
    this.#truncate(undo.fileBytes);
  }

  #continues(last: Pending, offset: number, bytes: number, stamp: FrameStamp): boolean {
    const rate = this.#byteRate;
    if (rate === undefined || bytes !== last.frameBytes || last.offset + last.bytes !== offset) return false;
    if (stamp.userId !== last.userId || stamp.userName !== last.userName) return false;
    return Math.abs(last.ts + (last.bytes * 1000) / rate - stamp.timestamp) < 1e-6;
  }

  #line(record: Pending): IndexRecord {
    const { ts, offset, bytes, frames, userId, userName } = record;
    return { ts, offset: this.#base + offset, bytes, frames, userId, ...(userName === undefined ? {} : { userName }) };
  }

  #write(bytes: Buffer): void {
    const fd = this.#openFile();
    try {
      writeFullySync(fd, bytes, this.#fileBytes, this.#path);
      this.#fileBytes += bytes.length;
    } catch (error) {
      // Never a torn line: the index ends where the previous commit ended.
      try {
        ftruncateSync(fd, this.#fileBytes);
      } catch {
        // The next commit writes at the same offset again.
      }
      throw error;
    } finally {
      closeSync(fd);
    }
  }

  #openFile(): number {
    if (!this.#created) {
      const fd = openSync(this.#path, 'w');
      this.#created = true;
      return fd;
    }
    try {
      return openSync(this.#path, 'r+');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      // Deleted behind our back: it starts again (its earlier lines are gone with it).
      this.#fileBytes = 0;
      return openSync(this.#path, 'w');
    }
  }

  #truncate(size: number): void {
    // Even when the truncation fails, the next commit writes the same records again from here.
    this.#fileBytes = size;
    try {
      const fd = openSync(this.#path, 'r+');
      try {
        ftruncateSync(fd, size);
      } finally {
        closeSync(fd);
      }
    } catch {
      // Gone: the next commit recreates it.
    }
  }
}
