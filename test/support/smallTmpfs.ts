import { execFile } from 'node:child_process';
import { mkdtemp, rm, rmdir, stat, statfs, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * A real, small tmpfs, to get a real ENOSPC. Needs root (CI runs as root): a test that cannot
 * mount fails with the reason, it does not skip.
 */
export interface SmallTmpfs {
  readonly path: string;
  /**
   * Fills the remaining space with a filler file: every later write that needs a block gets
   * ENOSPC. Resolves with the filler's size.
   */
  fill(): Promise<number>;
  /** Removes the filler: space is back. */
  free(): Promise<void>;
  unmount(): Promise<void>;
}

export async function mountSmallTmpfs(sizeBytes: number): Promise<SmallTmpfs> {
  const path = await mkdtemp(join(tmpdir(), 'rtms-tmpfs-'));
  try {
    await run('mount', ['-t', 'tmpfs', '-o', `size=${sizeBytes}`, 'tmpfs', path]);
  } catch (error) {
    await rmdir(path).catch(() => undefined);
    throw new Error(`cannot mount a ${sizeBytes}-byte tmpfs at ${path} (needs root): ${(error as Error).message}`, { cause: error });
  }
  // The filler lives outside any stream directory, at the root of the mount.
  const filler = join(path, 'filler');
  return {
    path,
    async fill() {
      await writeFile(filler, '');
      // Most of the free space at once (a GiB-sized tmpfs, as in the chaos soak, fills in
      // well under a second); the margin is for what others write meanwhile. Without
      // `fallocate` the chunks below do all of it, only slower.
      const free = await statfs(path);
      const reserve = free.bavail * free.bsize - 1024 * 1024;
      if (reserve > 0) await run('fallocate', ['-l', String(reserve), filler]).catch(() => undefined);
      // Then chunks until the file system refuses: ENOSPC is the expected end.
      const chunk = Buffer.alloc(64 * 1024, 1);
      for (;;) {
        try {
          await writeFile(filler, chunk, { flag: 'a' });
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code === 'ENOSPC') break;
          throw error;
        }
      }
      // Whatever a partial chunk left: fill the last bytes too.
      for (let size = 4096; size >= 1; size = Math.floor(size / 2)) {
        try {
          await writeFile(filler, Buffer.alloc(size, 1), { flag: 'a' });
        } catch {
          // ENOSPC: try a smaller piece.
        }
      }
      return (await stat(filler)).size;
    },
    async free() {
      await rm(filler, { force: true });
    },
    async unmount() {
      await run('umount', ['-l', path]).catch(() => undefined);
      await rmdir(path).catch(() => undefined);
    },
  };
}
