/**
 * Example consumer of the Redis stream output (self-contained: Node and the `redis`
 * package only; copy it anywhere). Tails `rtms:<id>:audio` at its own pace and writes a WAV,
 * until the stream's `events` say it ended and the audio is drained.
 *
 *   node examples/redisAudioToWav.ts --redis-url redis://127.0.0.1:6379 --stream <rtms_stream_id> \
 *     --out audio.wav [--sample-rate 16000] [--channels 1] [--user 0] [--wait-ms 30000]
 *
 * A stream that has no keys yet is waited for on `rtms:streams` (the lifecycle stream) for
 * at most `--wait-ms`; then the program ends with exit code 1 and a message saying so.
 * Entries carry the PCM exactly as Zoom sent it, so the file equals the connector's audio.wav
 * (for mixed audio, `--user 0`; per speaker, that speaker's user id).
 */
import { open } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { createClient, RESP_TYPES } from 'redis';

const { values } = parseArgs({
  options: {
    'redis-url': { type: 'string', default: 'redis://127.0.0.1:6379' },
    stream: { type: 'string' },
    out: { type: 'string' },
    'sample-rate': { type: 'string', default: '16000' },
    channels: { type: 'string', default: '1' },
    user: { type: 'string', default: '0' },
    'wait-ms': { type: 'string', default: '30000' },
  },
});
const waitMs = Number(values['wait-ms']);
if (values.stream === undefined || values.out === undefined || !Number.isFinite(waitMs) || waitMs < 0) {
  process.stderr.write(
    'usage: redisAudioToWav --stream <rtms_stream_id> --out <file.wav> [--redis-url URL] [--sample-rate 16000] [--channels 1] [--user 0] [--wait-ms 30000]\n',
  );
  process.exit(2);
}
const streamId = values.stream;
const audioKey = `rtms:${streamId}:audio`;
const eventsKey = `rtms:${streamId}:events`;

type Reply = Array<{ name: Buffer; messages: Array<{ id: Buffer; message: Record<string, Buffer> }> }>;

// Binary-safe replies: the `data` field is raw PCM, not text.
const client = createClient({ url: values['redis-url'] }).withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer });
client.on('error', () => undefined); // reported by connect() below
await client.connect().catch((error: Error) => {
  process.stderr.write(`redisAudioToWav: cannot reach ${values['redis-url']}: ${error.message}\n`);
  process.exit(1);
});

/** True once the stream has written anything; else waits for its `started` entry on `rtms:streams`. */
async function streamExists(): Promise<boolean> {
  // Read rtms:streams from its current end: anything added after this is seen.
  const [latest] = (await client.xRevRange('rtms:streams', '+', '-', { COUNT: 1 })) as Array<{ id: Buffer }>;
  let lastId = latest?.id.toString() ?? '0-0';
  const deadline = Date.now() + waitMs;
  process.stderr.write(`waiting up to ${waitMs} ms for ${eventsKey}...\n`);
  for (;;) {
    if ((await client.exists(eventsKey)) === 1) return true;
    const left = deadline - Date.now();
    if (left <= 0) return false;
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion -- node-redis types the reply as any; this names its binary shape
    const replies = (await client.xRead({ key: 'rtms:streams', id: lastId }, { BLOCK: Math.max(1, Math.min(left, 1000)), COUNT: 100 })) as Reply | null;
    for (const { messages } of replies ?? []) {
      for (const { id, message } of messages) {
        lastId = id.toString();
        if (message['rtmsStreamId']?.toString() === streamId) return true;
      }
    }
  }
}

if (!(await streamExists())) {
  process.stderr.write(
    `redisAudioToWav: stream ${streamId} does not exist in ${values['redis-url']}: no ${eventsKey}, and no entry for it on rtms:streams within ${waitMs} ms (ended streams expire after REDIS_OUTPUT_RETENTION_SECONDS)\n`,
  );
  await client.close();
  process.exit(1);
}

// The WAV: a 44-byte header (sizes filled in at the end), then the PCM as it arrives.
const sampleRate = Number(values['sample-rate']);
const channels = Number(values.channels);
const file = await open(values.out, 'w');
let dataBytes = 0;
await file.write(Buffer.alloc(44), 0, 44, 0);

let audioId = '0-0';
let eventsId = '0-0';
let ended = false;
for (;;) {
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion -- as above
  const replies = (await client.xRead(
    [
      { key: audioKey, id: audioId },
      { key: eventsKey, id: eventsId },
    ],
    { BLOCK: ended ? 200 : 5000, COUNT: 1000 },
  )) as Reply | null;
  if (replies === null || replies.length === 0) {
    if (ended) break; // the stream ended and no audio is left
    continue;
  }
  for (const reply of replies) {
    const key = reply.name.toString();
    for (const { id, message } of reply.messages) {
      if (key === audioKey) {
        audioId = id.toString();
        const data = message['data'];
        if (message['userId']?.toString() === values.user && data !== undefined) {
          await file.write(data, 0, data.length, 44 + dataBytes);
          dataBytes += data.length;
        }
      } else {
        eventsId = id.toString();
        const eventType = message['eventType']?.toString();
        if (eventType === 'stream.ended' || eventType === 'stream.failed') ended = true;
      }
    }
  }
}
await file.write(wavHeader(dataBytes, sampleRate, channels), 0, 44, 0);
await file.close();
await client.close();
process.stdout.write(`wrote ${dataBytes} bytes of audio to ${values.out}\n`);

/** RIFF/WAVE header for 16-bit little-endian PCM. */
function wavHeader(bytes: number, rate: number, channelCount: number): Buffer {
  const header = Buffer.alloc(44);
  header.write('RIFF', 0, 'ascii');
  header.writeUInt32LE(36 + bytes, 4);
  header.write('WAVE', 8, 'ascii');
  header.write('fmt ', 12, 'ascii');
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20); // PCM
  header.writeUInt16LE(channelCount, 22);
  header.writeUInt32LE(rate, 24);
  header.writeUInt32LE(rate * channelCount * 2, 28);
  header.writeUInt16LE(channelCount * 2, 32);
  header.writeUInt16LE(16, 34);
  header.write('data', 36, 'ascii');
  header.writeUInt32LE(bytes, 40);
  return header;
}
