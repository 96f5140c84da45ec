import type { Dirent } from 'node:fs';
import { open, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { MediaKind } from '../vocabulary/mediaKind.ts';

/** Bytes of media a stream directory holds, per kind, as `bytesWritten` counts them. */
export type MediaBytesOnDisk = Partial<Record<MediaKind, number>>;

/**
 * The file sink's names (src/sinks/streamFiles.ts, parts from streamDirectory.ts `freePartName`):
 * `audio[-<id>][.partN].wav`, `<kind>[.partN].h264`, `<kind>/` images, `<kind>[.partN].jsonl`.
 */
const AUDIO_FILE = /^audio(-.+)?(\.part\d+)?\.wav$/;
const APPENDED_FILE = /^(video|deskshare)(?:\.part\d+)?\.h264$|^(transcript|chat)(?:\.part\d+)?\.jsonl$/;
const IMAGE_DIRECTORIES: Readonly<Record<string, MediaKind>> = { video: 'video', deskshare: 'deskshare' };
/** Enough for the canonical 44-byte header and a few extra chunks before `data`. */
const WAV_HEADER_PROBE_BYTES = 4096;

/**
 * Measures what an earlier incarnation of a stream (a worker that died, a replica that was
 * lost) left in its directory, so a resumed stream's `bytesWritten` is what is on disk rather
 * than the last figure the lost process reported. WAV files count their readable data (what
 * the header declares and the file holds); other files count their size. Undefined when the
 * directory does not exist.
 */
export async function measureMediaOnDisk(directory: string): Promise<MediaBytesOnDisk | undefined> {
  let entries: Dirent[];
  try {
    entries = await readdir(directory, { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const bytes: MediaBytesOnDisk = {};
  const add = (kind: MediaKind, count: number): void => {
    bytes[kind] = (bytes[kind] ?? 0) + count;
  };
  for (const entry of entries) {
    const path = join(directory, entry.name);
    if (entry.isFile() && AUDIO_FILE.test(entry.name)) add('audio', await wavDataBytes(path));
    else if (entry.isFile() && APPENDED_FILE.test(entry.name)) {
      const match = APPENDED_FILE.exec(entry.name);
      add((match?.[1] ?? match?.[2]) as MediaKind, (await stat(path)).size);
    } else if (entry.isDirectory() && IMAGE_DIRECTORIES[entry.name] !== undefined) add(IMAGE_DIRECTORIES[entry.name]!, await imageBytes(path));
  }
  return bytes;
}

/** Data bytes a reader gets from the WAV: the `data` chunk's declared size, at most what the file holds. */
async function wavDataBytes(path: string): Promise<number> {
  const handle = await open(path, 'r');
  try {
    const size = (await handle.stat()).size;
    const head = Buffer.alloc(Math.min(size, WAV_HEADER_PROBE_BYTES));
    await handle.read(head, 0, head.length, 0);
    if (head.length < 12 || head.toString('ascii', 0, 4) !== 'RIFF' || head.toString('ascii', 8, 12) !== 'WAVE') return 0;
    for (let offset = 12; offset + 8 <= head.length;) {
      const chunkSize = head.readUInt32LE(offset + 4);
      const body = offset + 8;
      if (head.toString('ascii', offset, offset + 4) === 'data') return Math.max(0, Math.min(chunkSize, size - body));
      offset = body + chunkSize + (chunkSize % 2);
    }
    return 0;
  } finally {
    await handle.close();
  }
}

/** Image frames, one file each; temporary files (dot names) are not frames. */
async function imageBytes(directory: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(directory, { withFileTypes: true })) {
    if (entry.isFile() && !entry.name.startsWith('.')) total += (await stat(join(directory, entry.name))).size;
  }
  return total;
}
