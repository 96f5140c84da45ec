import { constants, fstatSync, ftruncateSync, readSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { open, unlink } from 'node:fs/promises';
import { makeDirectory } from './makeDirectory.ts';
import { dirname } from 'node:path';
import { WriteQueue, type WriteStats } from './writeQueue.ts';
import { shortWriteError, writeFullySync } from './writeFully.ts';

/**
 * A fixed-size header at the start of a file, rendered from the number of content bytes
 * after it (e.g. a WAV header carrying the data size).
 */
export interface FileHeader {
  /** Header length in bytes; `render()` must always return exactly this many. */
  readonly bytes: number;
  /** The header for a file holding `contentBytes` bytes after it. */
  render(contentBytes: number): Buffer;
}

export interface AppendOnlyFileOptions {
  /** Absolute path; missing parent directories are created on first write. */
  readonly path: string;
  /**
   * With a header, the file must not exist yet (it is created with `wx`): the header is
   * written before any content and rewritten in place after every flush that appended
   * content, so it never claims more than is on disk. A file whose header cannot be written
   * is removed again: it exists only with a valid header. Without a header, an existing file
   * is continued at its end, which is right for formats that concatenate (JSON lines, Annex B).
   */
  readonly header?: FileHeader | undefined;
  /**
   * The byte that ends every record (`\n` for JSON lines). An existing file that does not end
   * with it (a process killed mid-write) is cut back to its last complete record before it is
   * continued.
   */
  readonly recordTerminator?: number | undefined;
  /**
   * Called once with the final error: the file's tail could not be restored (or it was
   * unlinked), so nothing more goes into it. Must not throw.
   */
  readonly onError?: ((error: Error) => void) | undefined;
  /**
   * Called with each error after which the file was cut back to its last complete batch: the
   * batch waits in memory and the next flush writes it again (ENOSPC, EMFILE, EIO, ...).
   * Must not throw.
   */
  readonly onRetry?: ((error: Error) => void) | undefined;
  /**
   * A file describing this one (a time index, frameIndex.ts): `commit(contentBytes)` runs after
   * each batch reached the disk and before the header is rewritten; a throw fails the batch
   * (cut back, retried); `rollback()` undoes the commit when the header write fails after it.
   */
  readonly companion?: { commit(contentBytes: number): void; rollback(): void } | undefined;
}

/** Appends below this size are copied into a staging buffer; larger ones are queued as they are. */
const COPY_BELOW_BYTES = 64 * 1024;
/** Bounds of a staging buffer, sized from what the previous flush interval appended. */
const STAGING_MIN_BYTES = 4 * 1024;
const STAGING_MAX_BYTES = 256 * 1024;

/**
 * A file that only grows. `append()` is synchronous and issues no syscall: chunks wait in
 * memory until `flush()`, which writes all of them with one `writev` (plus one positional
 * header write when there is a header). Accounting and error reporting come from
 * {@link WriteQueue}.
 *
 * A batch is whole records, written at a known offset; when it fails half way (a full disk
 * after a short write) the file is truncated back to where the batch began, so no torn record
 * stays on disk, and the batch is kept for the next flush. After each batch an `fstat` checks
 * that the file is still linked: data written into a deleted file is not counted as written,
 * and the file is given up (final error) so its owner can start another.
 *
 * Small chunks (audio frames, text lines) are copied at once into a staging buffer sized from
 * the previous interval's volume, so a whole interval usually leaves in one contiguous write
 * and the caller's frame objects die young instead of surviving in the queue until the flush
 * (which would promote them to V8's old generation at thousands of frames per second).
 * Chunks of {@link COPY_BELOW_BYTES} or more are queued by reference: the caller must not
 * modify a chunk after appending it.
 */
export class AppendOnlyFile {
  readonly #path: string;
  readonly #header: FileHeader | undefined;
  readonly #terminator: number | undefined;
  readonly #companion: AppendOnlyFileOptions['companion'];
  readonly #queue: WriteQueue<Buffer>;
  #handle: FileHandle | undefined;
  /** File offset of the next content byte: where the next batch goes, and where a failed one is cut back to. */
  #position = 0;
  /** Content bytes on disk after the header, including unaccounted padding. */
  #contentBytes = 0;
  #headerContentBytes = 0;
  #closing: Promise<void> | undefined;
  #destroying: Promise<void> | undefined;
  /** The last failed batch left the file as it was before it: writing it again is safe. */
  #tailIntact = true;
  /** Free space for the next small appends; what precedes it was handed to the queue or is staged. */
  #staging: Buffer | undefined;
  /** Bytes of `#staging` filled and not yet queued (all of them accounted content). */
  #stagedBytes = 0;
  #stagedRecords = 0;
  /** Bytes appended since the last flush, to size the next staging buffer. */
  #appendedSinceFlush = 0;
  #stagingBytes = STAGING_MIN_BYTES;

  constructor(options: AppendOnlyFileOptions) {
    this.#path = options.path;
    this.#header = options.header;
    this.#terminator = options.recordTerminator;
    this.#companion = options.companion;
    this.#queue = new WriteQueue<Buffer>({
      write: (chunks) => this.#writeBatch(chunks),
      onError: options.onError,
      // A header file's name taken by another file (EEXIST) will not free itself: that is final.
      retryable: (error) => this.#tailIntact && (error as NodeJS.ErrnoException).code !== 'EEXIST',
      onRetry: options.onRetry,
    });
  }

  get path(): string {
    return this.#path;
  }

  /** Accounted bytes not yet on disk. */
  get pendingBytes(): number {
    return this.#queue.pendingBytes + this.#stagedBytes;
  }

  /** A copy of the counters; `bytesWritten` counts appended bytes, not the header or padding. */
  stats(): WriteStats {
    const stats = this.#queue.snapshot();
    if (this.#stagedBytes === 0) return stats;
    return { ...stats, pendingBytes: stats.pendingBytes + this.#stagedBytes, pendingRecords: stats.pendingRecords + this.#stagedRecords };
  }

  /** Content bytes on disk after the header (including padding). */
  get contentBytes(): number {
    return this.#contentBytes;
  }

  /**
   * Counts what waits (not the batch in flight) as failed and forgets it; returns the
   * number of records. The file continues with what is appended next.
   */
  discard(): number {
    this.#seal();
    return this.#queue.discard();
  }

  /** Queues `chunk` as `records` records (default 1); nothing is written until `flush()`. */
  append(chunk: Buffer, records = 1): void {
    this.#appendedSinceFlush += chunk.length;
    // After a failure or destroy() the queue only counts; there is nothing to stage for.
    if (chunk.length >= COPY_BELOW_BYTES || this.#queue.error !== undefined || this.#queue.destroyed) {
      this.#seal();
      this.#queue.push(chunk, chunk.length, records);
      return;
    }
    let staging = this.#staging;
    if (staging === undefined || staging.length - this.#stagedBytes < chunk.length) {
      this.#seal();
      staging = Buffer.allocUnsafeSlow(Math.max(this.#stagingBytes, chunk.length));
      this.#staging = staging;
    }
    chunk.copy(staging, this.#stagedBytes);
    this.#stagedBytes += chunk.length;
    this.#stagedRecords += records;
  }

  /** Queues bytes that belong to the file format, not to the content (e.g. a RIFF pad byte). */
  appendPadding(chunk: Buffer): void {
    this.#seal();
    this.#queue.push(chunk, 0, 0);
  }

  /** Writes what is queued. Never rejects; errors go to `onError` once. */
  flush(): Promise<void> {
    this.#seal();
    // Room for the next interval's appends in one buffer, within bounds.
    const appended = this.#appendedSinceFlush;
    this.#appendedSinceFlush = 0;
    if (appended > 0) this.#stagingBytes = Math.min(STAGING_MAX_BYTES, Math.max(STAGING_MIN_BYTES, 2 ** Math.ceil(Math.log2(appended))));
    return this.#queue.flush();
  }

  /**
   * Hands the staged bytes to the queue as one chunk. The rest of the staging buffer stays
   * in use for later appends: the queued part is never written to again.
   */
  #seal(): void {
    const staging = this.#staging;
    if (staging === undefined || this.#stagedBytes === 0) return;
    this.#queue.push(staging.subarray(0, this.#stagedBytes), this.#stagedBytes, this.#stagedRecords);
    const rest = staging.length - this.#stagedBytes;
    this.#staging = rest >= STAGING_MIN_BYTES ? staging.subarray(this.#stagedBytes) : undefined;
    this.#stagedBytes = 0;
    this.#stagedRecords = 0;
  }

  /**
   * Flushes, makes sure the file exists (even if empty), rewrites the header and closes the
   * handle. What a last failed flush left waiting is counted as failed. Idempotent; never
   * rejects.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await this.flush();
      // Still failing at the end: what waits is lost, and counted so (and no empty file is forced).
      const failing = this.#queue.retryError !== undefined;
      if (failing) this.#queue.discard();
      await this.#queue.run(async () => {
        if (this.#handle === undefined && !failing && this.#queue.error === undefined && !this.#queue.destroyed) await this.#open();
        await this.#releaseHandle();
      });
    })();
    return this.#closing;
  }

  /**
   * Abandons what is queued, waits for the write in flight and closes the handle. The file
   * stays valid: the header was last rewritten to match the content on disk. Idempotent.
   */
  destroy(): Promise<void> {
    this.#destroying ??= (async () => {
      this.#seal();
      await this.#queue.destroy();
      await this.#queue.run(() => this.#releaseHandle());
    })();
    return this.#destroying;
  }

  async #open(): Promise<FileHandle> {
    if (this.#handle !== undefined) return this.#handle;
    // Also recreates a stream directory that was deleted meanwhile.
    await makeDirectory(dirname(this.#path));
    const header = this.#header;
    if (header === undefined) {
      // Not O_APPEND: positional writes, so a failed batch can be cut back at a known offset
      // (readable too: a torn last record of an earlier run is looked for).
      const handle = await open(this.#path, constants.O_RDWR | constants.O_CREAT);
      try {
        this.#position = this.#completeRecords(handle, (await handle.stat()).size);
      } catch (error) {
        await handle.close().catch(() => undefined);
        throw error;
      }
      this.#handle = handle;
      return handle;
    }
    const handle = await open(this.#path, 'wx');
    try {
      this.#writeHeader(handle, header, 0);
    } catch (error) {
      // A header-less file (0 bytes on a full disk) is invalid: it must not stay.
      await handle.close().catch(() => undefined);
      await unlink(this.#path).catch(() => undefined);
      throw error;
    }
    this.#handle = handle;
    this.#position = header.bytes;
    this.#contentBytes = 0;
    this.#headerContentBytes = 0;
    return handle;
  }

  async #writeBatch(chunks: readonly Buffer[]): Promise<void> {
    this.#tailIntact = true;
    // Nothing of the batch is on disk if the file cannot even be opened.
    const handle = await this.#open();
    const header = this.#header;
    const start = this.#position;
    let committed = false;
    try {
      const total = await this.#writeAll(handle, chunks, start);
      if (fstatSync(handle.fd).nlink === 0) throw unlinkedError(this.#path);
      const contentBytes = this.#contentBytes + total;
      // Between the data and the header: docs/reliability.md "Time index".
      this.#companion?.commit(contentBytes);
      committed = true;
      // The header follows the data, so at no moment does it claim bytes that are not on disk.
      if (header !== undefined && contentBytes !== this.#headerContentBytes) {
        this.#writeHeader(handle, header, contentBytes);
        this.#headerContentBytes = contentBytes;
      }
      this.#position = start + total;
      this.#contentBytes = contentBytes;
    } catch (error) {
      if (committed) this.#companion?.rollback();
      this.#tailIntact = this.#cutBack(handle, start);
      if (!this.#tailIntact) await this.#releaseHandle().catch(() => undefined);
      throw error;
    }
  }

  /** Size of the file's complete records; a torn last record is truncated away. */
  #completeRecords(handle: FileHandle, size: number): number {
    const terminator = this.#terminator;
    if (terminator === undefined || size === 0) return size;
    // Backwards, a chunk at a time, to the last terminator (usually in the last few bytes).
    const chunk = Buffer.alloc(Math.min(size, 64 * 1024));
    for (let end = size; end > 0;) {
      const start = Math.max(0, end - chunk.length);
      const read = readSync(handle.fd, chunk, 0, end - start, start);
      const last = chunk.subarray(0, read).lastIndexOf(terminator);
      if (last !== -1) {
        const complete = start + last + 1;
        if (complete !== size) ftruncateSync(handle.fd, complete);
        return complete;
      }
      end = start;
    }
    // Not one complete record: the whole file is a torn one.
    ftruncateSync(handle.fd, 0);
    return 0;
  }

  /**
   * Truncates the file to `size`, dropping whatever part of a failed batch reached it; the
   * header still describes the content before the batch. False when that is impossible or
   * the file was unlinked: then it cannot be continued.
   */
  #cutBack(handle: FileHandle, size: number): boolean {
    try {
      if (fstatSync(handle.fd).nlink === 0) return false;
      ftruncateSync(handle.fd, size);
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Writes the header in place, synchronously: a few dozen bytes into the file's first page,
   * which the page cache holds (it was written a flush ago), so the write returns in about a
   * microsecond. Through the thread pool the same write cost 12–39 µs of CPU (the hand-off to a
   * pool thread and back), and it was half of a WAV's file calls. The data itself stays
   * asynchronous: it dirties new pages, which a slow disk can throttle.
   */
  #writeHeader(handle: FileHandle, header: FileHeader, contentBytes: number): void {
    const bytes = header.render(contentBytes);
    if (bytes.length !== header.bytes) throw new RangeError(`header renders ${bytes.length} bytes, declared ${header.bytes}`);
    writeFullySync(handle.fd, bytes, 0, this.#path);
  }

  /** `writev` until every byte is written; `position` undefined = at the end (append mode). */
  async #writeAll(handle: FileHandle, chunks: readonly Buffer[], position: number | undefined): Promise<number> {
    let remaining: readonly Buffer[] = chunks;
    let total = 0;
    let left = chunks.reduce((sum, chunk) => sum + chunk.length, 0);
    while (left > 0) {
      const { bytesWritten } = await handle.writev(remaining, position === undefined ? undefined : position + total);
      if (bytesWritten <= 0) throw shortWriteError(this.#path);
      total += bytesWritten;
      left -= bytesWritten;
      if (left > 0) remaining = skipBytes(remaining, bytesWritten);
    }
    return total;
  }

  async #releaseHandle(): Promise<void> {
    const handle = this.#handle;
    if (handle === undefined) return;
    this.#handle = undefined;
    await handle.close();
  }
}

function unlinkedError(path: string): Error {
  return Object.assign(new Error(`${path} was deleted while open`), { code: 'ENOENT' });
}

/** The chunks after dropping the first `count` bytes (after a short write). */
function skipBytes(chunks: readonly Buffer[], count: number): Buffer[] {
  const rest: Buffer[] = [];
  let skip = count;
  for (const chunk of chunks) {
    if (skip >= chunk.length) {
      skip -= chunk.length;
      continue;
    }
    rest.push(skip > 0 ? chunk.subarray(skip) : chunk);
    skip = 0;
  }
  return rest;
}
