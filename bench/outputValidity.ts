/**
 * The chaos soak's end check of the files themselves: after disk-full windows every file a
 * stream wrote must still be valid as its format demands, judged by ffprobe and a JSON parser,
 * not by the connector's own counters.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { countVideoFrames, probeAudio } from '../test/support/ffprobe.ts';
import { readWavData } from '../test/support/wavReader.ts';

const JPEG_EOI = Buffer.from([0xff, 0xd9]);

export interface ValidityResult {
  /** Files checked. */
  readonly files: number;
  /** One line per invalid file (or stray temp file). */
  readonly problems: string[];
}

/**
 * Every WAV has a header describing exactly its data and ffprobe reads it without a complaint;
 * every non-empty H.264 file decodes; every JSON lines file parses line by line and ends in a
 * newline (no torn last line); every `.json` parses; every JPEG (deskshare pictures, too many
 * for one ffprobe each) has its start and end markers; no temp file (`.name`) is left.
 */
export async function checkStreamFiles(directory: string): Promise<ValidityResult> {
  const problems: string[] = [];
  let files = 0;
  const names = (await readdir(directory, { recursive: true })).map(String).sort();
  for (const name of names) {
    const path = join(directory, name);
    const info = await stat(path).catch(() => undefined);
    if (info?.isFile() !== true) continue;
    files += 1;
    if (name.startsWith('.') || name.includes('/.')) {
      problems.push(`${name}: temp file left behind`);
      continue;
    }
    try {
      await checkFile(path, name, info.size);
    } catch (error) {
      problems.push(`${name}: ${error instanceof Error ? error.message.slice(0, 300) : String(error)}`);
    }
  }
  return { files, problems };
}

async function checkFile(path: string, name: string, size: number): Promise<void> {
  if (name.endsWith('.wav')) {
    const wav = await readWavData(path);
    // 44-byte header + data (+ the RIFF pad byte after odd data): never a header claiming more or less.
    const expected = 44 + wav.data.length + (wav.data.length % 2);
    if (size !== expected) throw new Error(`${size} bytes, the header describes ${expected}`);
    const codec = (await probeAudio(path)).codec;
    if (codec !== 'pcm_s16le') throw new Error(`ffprobe reads codec ${codec}`);
  } else if (name.endsWith('.h264')) {
    if (size === 0) return;
    const video = await countVideoFrames(path);
    if (video.codec !== 'h264' || !(video.frames > 0)) throw new Error(`ffprobe reads codec ${video.codec}, ${video.frames} frames`);
  } else if (name.endsWith('.jsonl')) {
    const text = await readFile(path, 'utf8');
    if (text !== '' && !text.endsWith('\n')) throw new Error('ends in a torn line');
    let line = 0;
    for (const entry of text.split('\n')) {
      line += 1;
      if (entry === '') continue;
      try {
        JSON.parse(entry);
      } catch (error) {
        throw new Error(`line ${line} is not JSON (${(error as Error).message})`, { cause: error });
      }
    }
  } else if (name.endsWith('.jpg')) {
    const bytes = await readFile(path);
    // SOI at the start and an EOI after it: a picture cut short misses the EOI (the stand-in's
    // oversized pictures carry padding after theirs).
    if (bytes.length < 4 || bytes[0] !== 0xff || bytes[1] !== 0xd8 || bytes.lastIndexOf(JPEG_EOI) < 2) throw new Error('not a whole JPEG (SOI ... EOI)');
  } else if (name.endsWith('.json')) {
    JSON.parse(await readFile(path, 'utf8'));
  }
}
