import { readFile } from 'node:fs/promises';
import type { IndexRecord } from '../../src/media/frameIndex.ts';

export type { IndexRecord };

/** What the index says of one frame; the shape of the stand-in's `SentTime`. */
export interface IndexedFrame {
  readonly timestamp: number;
  readonly bytes: number;
  readonly userId: string;
  readonly userName: string | undefined;
}

export async function readIndex(path: string): Promise<IndexRecord[]> {
  return (await readFile(path, 'utf8'))
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as IndexRecord);
}

/** Every frame the records stand for, in file order; `byteRate` for audio (frames of a record follow each other). */
export function indexedFrames(records: readonly IndexRecord[], byteRate: number | undefined): IndexedFrame[] {
  return records.flatMap((record) => {
    const bytes = record.bytes / record.frames;
    return Array.from({ length: record.frames }, (_, i) => ({
      timestamp: record.ts + (byteRate === undefined ? 0 : (i * bytes * 1000) / byteRate),
      bytes,
      userId: record.userId,
      userName: record.userName,
    }));
  });
}
