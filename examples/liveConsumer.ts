/**
 * Example live consumer (self-contained: Node and the `ws` package only; copy it anywhere).
 * Follows one stream over the connector's WebSocket feed and prints what arrives:
 * transcript lines as they come, a count of everything else at the end.
 *
 *   node examples/liveConsumer.ts --url http://127.0.0.1:8080 --token <CONSUMER_TOKEN> \
 *     [--stream <rtms_stream_id>] [--media audio,transcript] [--wait-ms 30000]
 *
 * Without `--stream` it waits for the next stream to start (`GET /streams/live`, the
 * lifecycle feed) and follows that one. A stream that is not active and does not start
 * within `--wait-ms` ends the program with exit code 1 and a message saying so. The token
 * may also come from `RTMS_TOKEN`.
 */
import { parseArgs } from 'node:util';
import WebSocket from 'ws';

const { values } = parseArgs({
  options: {
    url: { type: 'string', default: 'http://127.0.0.1:8080' },
    token: { type: 'string' },
    stream: { type: 'string' },
    media: { type: 'string', default: 'audio,video,deskshare,transcript,chat' },
    'wait-ms': { type: 'string', default: '30000' },
  },
});
const token = values.token ?? process.env['RTMS_TOKEN'];
const waitMs = Number(values['wait-ms']);
if (token === undefined || !Number.isFinite(waitMs) || waitMs < 0) {
  process.stderr.write(
    'usage: liveConsumer --token <CONSUMER_TOKEN or ADMIN_TOKEN> [--url http://127.0.0.1:8080] [--stream <id>] [--media audio,transcript] [--wait-ms 30000]\n',
  );
  process.exit(2);
}
const wsBase = values.url.replace(/^http/, 'ws').replace(/\/+$/, '');
const headers = { authorization: `Bearer ${token}` };

function fail(message: string): never {
  process.stderr.write(`liveConsumer: ${message}\n`);
  process.exit(1);
}

interface LifecycleEntry {
  readonly event: string;
  readonly rtmsStreamId: string;
  readonly product: string;
}

/**
 * Resolves with the id of the first stream that is active or starts (only `wanted`, when
 * given) within `waitMs`; undefined when none did.
 */
function waitForStream(wanted: string | undefined): Promise<string | undefined> {
  return new Promise((resolve) => {
    const feed = new WebSocket(`${wsBase}/streams/live`, { headers });
    const timer = setTimeout(() => {
      feed.terminate();
      resolve(undefined);
    }, waitMs);
    const done = (id: string): void => {
      clearTimeout(timer);
      feed.close();
      resolve(id);
    };
    feed.on('unexpected-response', (_request, response) => fail(`${values.url}/streams/live answered ${response.statusCode} (check --url and --token)`));
    feed.on('error', (error) => fail(`cannot reach ${values.url}: ${error.message}`));
    feed.on('message', (data) => {
      const message = JSON.parse(String(data)) as { type: string; streams?: LifecycleEntry[] } & Partial<LifecycleEntry>;
      const entries = message.type === 'hello' ? (message.streams ?? []) : [message as LifecycleEntry];
      for (const entry of entries) {
        if (!['started', 'resumed'].includes(entry.event)) continue;
        if (wanted === undefined || entry.rtmsStreamId === wanted) return done(entry.rtmsStreamId);
      }
    });
    process.stderr.write(
      wanted === undefined ? `waiting up to ${waitMs} ms for a stream to start...\n` : `waiting up to ${waitMs} ms for stream ${wanted}...\n`,
    );
  });
}

/** Follows one stream; resolves with the close code, or 404 when it is not active. */
function follow(rtmsStreamId: string): Promise<number> {
  return new Promise((resolve) => {
    const socket = new WebSocket(`${wsBase}/streams/${encodeURIComponent(rtmsStreamId)}/live?media=${encodeURIComponent(values.media)}`, { headers });
    const counts: Record<string, number> = {};
    socket.on('unexpected-response', (_request, response) => {
      if (response.statusCode === 404) resolve(404);
      else fail(`live feed answered ${response.statusCode} (check --token and --media)`);
    });
    socket.on('error', (error) => fail(`cannot reach ${values.url}: ${error.message}`));
    socket.on('message', (data, isBinary) => {
      if (isBinary) {
        // 4-byte header length, JSON header, then the frame's bytes.
        const buffer = data as Buffer;
        const header = JSON.parse(buffer.subarray(4, 4 + buffer.readUInt32BE(0)).toString('utf8')) as { type: string };
        counts[header.type] = (counts[header.type] ?? 0) + 1;
        return;
      }
      const message = JSON.parse(String(data)) as { type: string; text?: string; userName?: string | null; event?: { eventType: string } };
      counts[message.type] = (counts[message.type] ?? 0) + 1;
      if (message.type === 'hello') process.stdout.write(`following ${rtmsStreamId}\n`);
      if (message.type === 'transcript') process.stdout.write(`${message.userName ?? 'someone'}: ${message.text ?? ''}\n`);
      if (message.type === 'event') process.stdout.write(`event ${message.event?.eventType ?? '?'}\n`);
    });
    socket.on('close', (code, reason) => {
      process.stdout.write(`closed ${code} ${reason.toString() || ''}; received ${JSON.stringify(counts)}\n`);
      resolve(code);
    });
  });
}

let streamId = values.stream;
if (streamId === undefined) {
  streamId = (await waitForStream(undefined)) ?? fail(`no stream started on ${values.url} within ${waitMs} ms`);
}
let code = await follow(streamId);
if (code === 404) {
  // Not active (yet): it may be about to start.
  if ((await waitForStream(streamId)) === undefined)
    fail(`stream ${streamId} does not exist on ${values.url}: not active, and it did not start within ${waitMs} ms`);
  code = await follow(streamId);
  if (code === 404) fail(`stream ${streamId} ended before it could be followed`);
}
process.exit(code === 1000 ? 0 : 1);
