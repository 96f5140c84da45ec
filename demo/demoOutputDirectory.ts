import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';

/** Marks a directory as the demo's own: only a directory holding it is ever emptied. */
const MARKER = '.rtms-connector-demo';

export class DemoDirectoryNotOwnedError extends Error {
  readonly code = 'DEMO_DIRECTORY_NOT_OWNED';
}

/**
 * The demo writes only into `./demo-output/` (never `OUTPUT_DIR`, which may hold real
 * recordings). It empties that directory only when an earlier demo created it; a directory of
 * that name with other contents stops the demo instead of being deleted.
 */
export async function prepareDemoOutputDirectory(cwd: string = process.cwd()): Promise<string> {
  const directory = resolve(cwd, 'demo-output');
  const entries: string[] = await readdir(directory).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [];
    throw error;
  });
  if (entries.length > 0) {
    if (!entries.includes(MARKER)) {
      throw new DemoDirectoryNotOwnedError(`${directory} exists and was not made by the demo; move it away to run the demo (nothing was deleted)`);
    }
    await rm(directory, { recursive: true, force: true });
  }
  await mkdir(directory, { recursive: true });
  await writeFile(join(directory, MARKER), 'Made by `npm run demo`; the next demo run empties this directory.\n');
  return directory;
}
