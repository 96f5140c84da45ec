/**
 * Object keys (docs/object-storage.md#object-layout), deterministic so that a retry writes the
 * same key with the same bytes:
 *
 *     <prefix>/<stream>/attempts/<n>/.owner.json                    who claimed attempt n
 *     <prefix>/<stream>/attempts/<n>/<file>                         a file, once final
 *     <prefix>/<stream>/attempts/<n>/<file>.parts/<start>-<end>     bytes [start, end) of a growing file
 *
 * `<n>` counts the owners of a stream's output (a process with its own disk: a replica that
 * took the stream over gets the next number); offsets are zero-padded to 15 digits so keys
 * sort in byte order.
 */
export const OWNER_OBJECT = '.owner.json';
export const PARTS_SUFFIX = '.parts/';
const OFFSET_DIGITS = 15;

export function streamPrefix(prefix: string, stream: string): string {
  return `${prefix === '' ? '' : `${prefix}/`}${stream}/`;
}

export function attemptPrefix(prefix: string, stream: string, attempt: number): string {
  return `${streamPrefix(prefix, stream)}attempts/${attempt}/`;
}

export function partKey(base: string, file: string, start: number, end: number): string {
  return `${base}${file}${PARTS_SUFFIX}${pad(start)}-${pad(end)}`;
}

function pad(offset: number): string {
  return String(offset).padStart(OFFSET_DIGITS, '0');
}

/** `{ file, start, end }` of a part key under `base`, or undefined for any other key. */
export function parsePartKey(base: string, key: string): { file: string; start: number; end: number } | undefined {
  if (!key.startsWith(base)) return undefined;
  const match = /^(.+)\.parts\/(\d{15})-(\d{15})$/.exec(key.slice(base.length));
  if (match === null) return undefined;
  return { file: match[1] ?? '', start: Number(match[2]), end: Number(match[3]) };
}

/** The attempt numbers present under a stream's `attempts/` folder listing. */
export function attemptNumbers(folders: readonly string[]): number[] {
  return folders
    .map((folder) => /\/attempts\/(\d+)\/$/.exec(folder)?.[1])
    .filter((n) => n !== undefined)
    .map(Number);
}

/**
 * How far parts cover a file from byte 0 without a hole: where the next part starts. Files are
 * only appended to, so overlapping parts hold the same bytes where they overlap; a part past a
 * hole is ignored.
 */
export function coveredEnd(parts: readonly { start: number; end: number }[]): number {
  let end = 0;
  for (const part of [...parts].sort((a, b) => a.start - b.start)) {
    if (part.start <= end && part.end > end) end = part.end;
  }
  return end;
}
