import { writeSync } from 'node:fs';

/** The error for a write that took no byte: `EIO`, as the kernel would report a failing disk. */
export function shortWriteError(path: string): Error {
  return Object.assign(new Error(`short write to ${path}`), { code: 'EIO' });
}

/**
 * Writes all of `bytes` at `position` of `fd` synchronously, resuming after a partial write;
 * throws {@link shortWriteError} when a write takes no byte (it would never finish).
 */
export function writeFullySync(fd: number, bytes: Buffer, position: number, path: string): void {
  for (let done = 0; done < bytes.length;) {
    const written = writeSync(fd, bytes, done, bytes.length - done, position + done);
    if (written <= 0) throw shortWriteError(path);
    done += written;
  }
}
