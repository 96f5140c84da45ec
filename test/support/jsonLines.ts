import { readFile } from 'node:fs/promises';

/** Each non-empty line of `text` as parsed JSON (a `.jsonl` file, a JSON log). */
export function parseJsonLines(text: string): Array<Record<string, unknown>> {
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** The lines of a JSON-lines file. */
export async function readJsonLines(path: string): Promise<Array<Record<string, unknown>>> {
  return parseJsonLines(await readFile(path, 'utf8'));
}
