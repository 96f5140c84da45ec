import { mkdir, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';

/**
 * `mkdir -p` one level at a time. Node's `mkdir(path, { recursive: true })` never returns
 * on a pseudo filesystem such as procfs (where `mkdir` answers ENOENT for a parent that
 * exists): the libuv thread retries forever at 100 % CPU. Here each missing level is made
 * once, so the calls are bounded by the path's depth and a refusal comes back as an error.
 */
export async function makeDirectory(path: string): Promise<void> {
  const missing: string[] = [];
  let current = resolve(path);
  for (;;) {
    try {
      await mkdir(current);
      break;
    } catch (error) {
      const code = errorCode(error);
      if (code === 'EEXIST') {
        // A file at `path` itself is EEXIST, as mkdir(2) and `mkdir -p` say (writers treat it
        // as final); a file among its parents makes the next level ENOTDIR.
        if ((await stat(current)).isDirectory()) break;
        if (current === resolve(path)) throw error;
        await expectDirectory(current, error);
        break;
      }
      const parent = dirname(current);
      if (code !== 'ENOENT' || parent === current) throw error;
      missing.push(current);
      current = parent;
    }
  }
  for (const directory of missing.reverse()) {
    try {
      await mkdir(directory);
    } catch (error) {
      // Another writer may have made it meanwhile; anything else is final.
      if (errorCode(error) !== 'EEXIST') throw error;
      await expectDirectory(directory, error);
    }
  }
}

async function expectDirectory(path: string, cause: unknown): Promise<void> {
  if ((await stat(path)).isDirectory()) return;
  const error = new Error(`ENOTDIR: not a directory, mkdir '${path}'`, { cause }) as NodeJS.ErrnoException;
  error.code = 'ENOTDIR';
  throw error;
}

function errorCode(error: unknown): string | undefined {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}
