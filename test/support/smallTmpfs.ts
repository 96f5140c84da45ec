import { execFile } from 'node:child_process';
import { mkdtemp, rm, rmdir, writeFile } from 'node:fs/promises';
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
  /** Fills the remaining space with a filler file: every later write that needs a block gets ENOSPC. */
  fill(): Promise<void>;
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
    throw new Error(`cannot mount a ${sizeBytes}-byte tmpfs at ${path} (this test needs root): ${(error as Error).message}`);
  }
  // The filler lives outside any stream directory, at the root of the mount.
  const filler = join(path, 'filler');
  return {
    path,
    async fill() {
      // Written in chunks until the file system refuses: ENOSPC is the expected end.
      const chunk = Buffer.alloc(64 * 1024, 1);
      await writeFile(filler, '');
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
