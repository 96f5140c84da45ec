import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where every benchmark leaves its JSON: bench/results/. */
export const RESULTS_DIR = join(dirname(fileURLToPath(import.meta.url)), 'results');

/**
 * Writes `document` as pretty JSON to `<directory>/<name>-<startedAt>.json` (the ISO time with
 * `:` and `.` made file-safe) and returns the path.
 */
export async function writeBenchResult(name: string, startedAt: Date | string, document: unknown, directory = RESULTS_DIR): Promise<string> {
  await mkdir(directory, { recursive: true });
  const iso = typeof startedAt === 'string' ? startedAt : startedAt.toISOString();
  const path = join(directory, `${name}-${iso.replace(/[:.]/g, '-')}.json`);
  await writeFile(path, `${JSON.stringify(document, null, 2)}\n`);
  return path;
}
