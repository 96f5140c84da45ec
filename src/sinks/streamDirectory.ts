import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileSafeId } from './fileSafeId.ts';

/**
 * `OUTPUT_DIR/<rtms_stream_id>`. Stream ids are hex in practice and are kept as they are;
 * the id comes from a webhook, so anything that could escape the directory is made safe, and
 * two distinct ids never get one directory (`fileSafeId` keeps 128 bits of hash).
 */
export function streamDirectory(outputDir: string, rtmsStreamId: string): string {
  return join(outputDir, fileSafeId(rtmsStreamId));
}

/**
 * `<base>.<ext>`, or `<base>.partN.<ext>` when that name is in `taken` or on disk (a file of
 * an earlier run, or a lost part, is never overwritten). One existence check per new file.
 */
export function freePartName(directory: string, taken: ReadonlySet<string>, fileName: string): string {
  const dot = fileName.lastIndexOf('.');
  for (let part = 1; ; part++) {
    const name = part === 1 ? fileName : `${fileName.slice(0, dot)}.part${part}${fileName.slice(dot)}`;
    if (!taken.has(name) && !existsSync(join(directory, name))) return name;
  }
}
