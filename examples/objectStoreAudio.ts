/**
 * Example consumer of the object-storage output (docs/object-storage.md; self-contained: Node
 * and `@aws-sdk/client-s3` only). Lists one stream's objects and reassembles its mixed audio in
 * order into one WAV: every attempt (owner) in turn, and in each its `audio.wav`,
 * `audio.part2.wav`, … A file that is final is read whole; one whose owner died before the end
 * is rebuilt from its parts (`<file>.parts/<start>-<end>`, in byte order).
 *
 *   node examples/objectStoreAudio.ts --url s3://bucket/prefix --stream <stream directory name> \
 *     --out audio.wav [--endpoint http://127.0.0.1:9000] [--sample-rate 16000] [--channels 1]
 *
 * Credentials come from the AWS SDK's usual chain (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, a
 * profile, a role). Prints one line: `<bytes> audio bytes from <n> files in <m> attempts`; with
 * no audio objects for the stream, says so and exits with code 1.
 */
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';

const { values } = parseArgs({
  options: {
    url: { type: 'string' },
    stream: { type: 'string' },
    out: { type: 'string' },
    endpoint: { type: 'string' },
    'sample-rate': { type: 'string', default: '16000' },
    channels: { type: 'string', default: '1' },
  },
});
const location = /^s3:\/\/([^/]+)\/?(.*)$/.exec(values.url ?? '');
if (location === null || values.stream === undefined || values.out === undefined) {
  process.stderr.write(
    'usage: objectStoreAudio --url s3://bucket/prefix --stream <name> --out <file.wav> [--endpoint URL] [--sample-rate 16000] [--channels 1]\n',
  );
  process.exit(2);
}
const bucket = location[1] ?? '';
const prefix = `${(location[2] ?? '').replace(/\/+$/, '')}${location[2] ? '/' : ''}${values.stream}/attempts/`;
const s3 = new S3Client({
  ...(values.endpoint === undefined ? {} : { endpoint: values.endpoint, forcePathStyle: true }),
  region: process.env['AWS_REGION'] ?? 'us-east-1',
  requestChecksumCalculation: 'WHEN_REQUIRED',
  responseChecksumValidation: 'WHEN_REQUIRED',
});

async function listAll(): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    for (const item of page.Contents ?? []) if (item.Key !== undefined) keys.push(item.Key);
    token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
  } while (token !== undefined);
  return keys;
}

async function get(key: string): Promise<Buffer> {
  const result = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(await result.Body!.transformToByteArray());
}

/** The PCM after a WAV's `data` chunk header (the header may be stale in a file that was cut short). */
function pcmOf(wav: Buffer): Buffer {
  for (let offset = 12; offset + 8 <= wav.length;) {
    const id = wav.toString('latin1', offset, offset + 4);
    const size = wav.readUInt32LE(offset + 4);
    if (id === 'data') return wav.subarray(offset + 8);
    offset += 8 + size + (size % 2);
  }
  return Buffer.alloc(0);
}

/**
 * Parts in byte order. The file was only appended to, so where two parts overlap (two
 * uploaders cut the same file differently) their bytes are the same: each byte is taken once.
 * A hole ends the file there.
 */
async function fromParts(keys: string[]): Promise<Buffer> {
  const ranges = keys
    .map((key) => ({ key, start: Number(/(\d{15})-\d{15}$/.exec(key)?.[1]), end: Number(/-(\d{15})$/.exec(key)?.[1]) }))
    .sort((a, b) => a.start - b.start || b.end - a.end);
  const chunks: Buffer[] = [];
  let covered = 0;
  for (const range of ranges) {
    if (range.start > covered) break;
    if (range.end <= covered) continue;
    chunks.push((await get(range.key)).subarray(covered - range.start));
    covered = range.end;
  }
  return Buffer.concat(chunks);
}

/** `audio.wav` → 1, `audio.part2.wav` → 2 (mixed audio only). */
const partNumber = (file: string): number | undefined =>
  file === 'audio.wav' ? 1 : Number(/^audio\.part(\d+)\.wav$/.exec(file)?.[1] ?? Number.NaN) || undefined;

const files = new Map<string, { attempt: number; part: number; final: boolean; parts: string[] }>();
for (const key of await listAll()) {
  const match = /^(\d+)\/(audio(?:\.part\d+)?\.wav)(\.parts\/\d{15}-\d{15})?$/.exec(key.slice(prefix.length));
  const part = match && partNumber(match[2] ?? '');
  if (match === null || part === undefined || part === null) continue;
  const id = `${match[1]}/${match[2]}`;
  const entry = files.get(id) ?? { attempt: Number(match[1]), part, final: false, parts: [] };
  if (match[3] === undefined) entry.final = true;
  else entry.parts.push(key);
  files.set(id, entry);
}
const ordered = [...files.entries()].sort(([, a], [, b]) => a.attempt - b.attempt || a.part - b.part);
if (ordered.length === 0) {
  process.stderr.write(`objectStoreAudio: no mixed audio under s3://${bucket}/${prefix}\n`);
  s3.destroy();
  process.exit(1);
}
const pcm: Buffer[] = [];
for (const [id, entry] of ordered) {
  // A final object replaces its parts; parts alone are what a dead owner had stored.
  const body = entry.final ? await get(`${prefix}${id}`) : await fromParts(entry.parts);
  pcm.push(pcmOf(body));
}
const data = Buffer.concat(pcm);
const sampleRate = Number(values['sample-rate']);
const channels = Number(values.channels);
const header = Buffer.alloc(44);
header.write('RIFF', 0);
header.writeUInt32LE(36 + data.length, 4);
header.write('WAVEfmt ', 8);
header.writeUInt32LE(16, 16);
header.writeUInt16LE(1, 20);
header.writeUInt16LE(channels, 22);
header.writeUInt32LE(sampleRate, 24);
header.writeUInt32LE(sampleRate * channels * 2, 28);
header.writeUInt16LE(channels * 2, 32);
header.writeUInt16LE(16, 34);
header.write('data', 36);
header.writeUInt32LE(data.length, 40);
await writeFile(values.out, Buffer.concat([header, data]));
process.stdout.write(`${data.length} audio bytes from ${ordered.length} files in ${new Set(ordered.map(([, entry]) => entry.attempt)).size} attempts\n`);
s3.destroy();
