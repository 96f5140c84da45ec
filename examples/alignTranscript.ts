/**
 * Example consumer of the time index (self-contained: Node only; copy it anywhere). Maps a
 * byte of a WAV, or an access unit of an H.264 file, to the Zoom time it was sent at, its
 * speaker, and the transcript line spoken then (docs/output.md "Time index").
 *
 *   node examples/alignTranscript.ts --dir <stream dir> --file audio.wav --byte 123456
 *   node examples/alignTranscript.ts --dir <stream dir> --file video.h264 --unit 42
 *   node examples/alignTranscript.ts --dir <stream dir> --file audio.wav --frames
 *
 * Prints one JSON object per answer: `{"file","offset","bytes","ts","time","userId","userName",
 * "transcript"}`, where `transcript` is the `transcript.jsonl` line whose start..end holds `ts`
 * (the latest one that started, when several do), or null. `--frames` prints every frame of
 * the file, in order, without the transcript. A byte the index does not describe (the WAV
 * header, silence filling a gap, a tail a crash left unindexed) ends with exit code 1.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

interface IndexRecord {
  ts: number;
  offset: number;
  bytes: number;
  frames: number;
  userId: string;
  userName?: string;
}

interface FrameTime {
  offset: number;
  bytes: number;
  ts: number;
  userId: string;
  userName: string | null;
}

/** The index's records; a torn last line (never written by the connector, but a copy may cut one) is skipped. */
function readIndex(path: string): IndexRecord[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .flatMap((line) => {
      try {
        return [JSON.parse(line) as IndexRecord];
      } catch {
        return [];
      }
    });
}

/** A WAV's bytes per second, from its header (bytes 28..31); undefined for any other file. */
function wavByteRate(path: string): number | undefined {
  if (!path.endsWith('.wav')) return undefined;
  return readFileSync(path).readUInt32LE(28);
}

/** Every frame a record stands for: audio frames of one size at consecutive times, or one access unit. */
function framesOf(record: IndexRecord, byteRate: number | undefined): FrameTime[] {
  const frameBytes = record.bytes / record.frames;
  return Array.from({ length: record.frames }, (_, i) => ({
    offset: record.offset + i * frameBytes,
    bytes: frameBytes,
    ts: record.ts + (byteRate === undefined ? 0 : (i * frameBytes * 1000) / byteRate),
    userId: record.userId,
    userName: record.userName ?? null,
  }));
}

/** The frame holding `byte`, timed at that byte (audio is continuous within a frame). */
function frameAtByte(records: readonly IndexRecord[], byte: number, byteRate: number | undefined): FrameTime | undefined {
  const record = records.find((candidate) => byte >= candidate.offset && byte < candidate.offset + candidate.bytes);
  if (record === undefined) return undefined;
  const frame = framesOf(record, byteRate).find((candidate) => byte < candidate.offset + candidate.bytes);
  if (frame === undefined) return undefined;
  const ts = byteRate === undefined ? frame.ts : record.ts + ((byte - record.offset) * 1000) / byteRate;
  return { ...frame, ts };
}

function transcriptAt(directory: string, ts: number): Record<string, unknown> | null {
  let lines: Array<Record<string, unknown>>;
  try {
    lines = readFileSync(join(directory, 'transcript.jsonl'), 'utf8')
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  } catch {
    return null;
  }
  let found: Record<string, unknown> | null = null;
  for (const line of lines) {
    const start = Number(line['startTime'] ?? line['timestamp']);
    const end = Number(line['endTime'] ?? start);
    if (start <= ts && ts < Math.max(end, start + 1) && (found === null || start >= Number(found['startTime'] ?? found['timestamp']))) found = line;
  }
  return found;
}

const { values } = parseArgs({
  options: {
    dir: { type: 'string' },
    file: { type: 'string' },
    byte: { type: 'string', multiple: true },
    unit: { type: 'string', multiple: true },
    frames: { type: 'boolean', default: false },
  },
});
if (values.dir === undefined || values.file === undefined) {
  console.error('usage: node examples/alignTranscript.ts --dir <stream dir> --file <media file> (--byte N | --unit N | --frames)');
  process.exit(2);
}
const directory = values.dir;
const file = values.file;
const records = readIndex(join(directory, `${file}.index.jsonl`));
const byteRate = wavByteRate(join(directory, file));
const answer = (frame: FrameTime): string =>
  JSON.stringify({ file, ...frame, time: new Date(frame.ts).toISOString(), transcript: transcriptAt(directory, frame.ts) });

let missing = false;
if (values.frames) {
  for (const record of records) for (const frame of framesOf(record, byteRate)) console.log(JSON.stringify({ file, ...frame }));
}
for (const byte of values.byte ?? []) {
  const frame = frameAtByte(records, Number(byte), byteRate);
  if (frame === undefined) missing = true;
  else console.log(answer(frame));
}
for (const unit of values.unit ?? []) {
  // Video records hold one access unit each.
  const frame = records.flatMap((record) => framesOf(record, byteRate))[Number(unit)];
  if (frame === undefined) missing = true;
  else console.log(answer(frame));
}
if (missing) {
  console.error('a byte or access unit asked for is not in the index');
  process.exit(1);
}
