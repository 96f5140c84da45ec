/**
 * Example consumer of the Redis stream output: tails `rtms:<id>:audio` at its own pace and
 * writes a WAV, until the stream's `events` say it ended and the audio is drained.
 *
 *   node examples/redisAudioToWav.ts --redis-url redis://127.0.0.1:6379 --stream <rtms_stream_id> \
 *     --out audio.wav [--sample-rate 16000] [--channels 1] [--user 0]
 *
 * Entries carry the PCM exactly as Zoom sent it, so the file equals the connector's audio.wav
 * (for mixed audio, `--user 0`; per speaker, that speaker's user id).
 */
import { parseArgs } from 'node:util';
import { createClient, RESP_TYPES } from 'redis';
import { WavWriter } from '../src/media/wavWriter.ts';

const { values } = parseArgs({
  options: {
    'redis-url': { type: 'string', default: 'redis://127.0.0.1:6379' },
    stream: { type: 'string' },
    out: { type: 'string' },
    'sample-rate': { type: 'string', default: '16000' },
    channels: { type: 'string', default: '1' },
    user: { type: 'string', default: '0' },
  },
});
if (values.stream === undefined || values.out === undefined) {
  process.stderr.write('usage: redisAudioToWav --stream <rtms_stream_id> --out <file.wav> [--redis-url URL] [--sample-rate 16000] [--channels 1] [--user 0]\n');
  process.exit(2);
}

const audioKey = `rtms:${values.stream}:audio`;
const eventsKey = `rtms:${values.stream}:events`;
// Binary-safe replies: the `data` field is raw PCM, not text.
const client = createClient({ url: values['redis-url'] }).withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer });
await client.connect();
const wav = new WavWriter({ path: values.out, sampleRateHz: Number(values['sample-rate']), channels: Number(values.channels) });

let audioId = '0-0';
let eventsId = '0-0';
let ended = false;
for (;;) {
  const replies = await client.xRead(
    [
      { key: audioKey, id: audioId },
      { key: eventsKey, id: eventsId },
    ],
    { BLOCK: ended ? 200 : 5000, COUNT: 1000 },
  );
  if (replies === null || replies.length === 0) {
    if (ended) break; // the stream ended and no audio is left
    continue;
  }
  for (const reply of replies as Array<{ name: Buffer; messages: Array<{ id: Buffer; message: Record<string, Buffer> }> }>) {
    const key = reply.name.toString();
    for (const { id, message } of reply.messages) {
      if (key === audioKey) {
        audioId = id.toString();
        if (message['userId']?.toString() === values.user && message['data'] !== undefined) wav.append(message['data']);
      } else {
        eventsId = id.toString();
        const eventType = message['eventType']?.toString();
        if (eventType === 'stream.ended' || eventType === 'stream.failed') ended = true;
      }
    }
  }
  await wav.flush();
}
await wav.close();
await client.close();
process.stdout.write(`wrote ${wav.dataBytes} bytes of audio to ${values.out}\n`);
