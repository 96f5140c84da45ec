import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { MediaKind } from '../../../src/vocabulary/mediaKind.ts';
import { LIVE_CLOSE_TOO_SLOW, LiveHub } from '../../../src/http/liveHub.ts';
import { createLogger } from '../../../src/logger.ts';
import { lifecycleEvent } from '../../../src/vocabulary/frame.ts';
import type { LiveBatch, LiveItem } from '../../../src/vocabulary/liveBatch.ts';
import { eventually } from '../../support/eventually.ts';

const TOKEN = 'live-token';
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function startHub(options: { maxBufferedBytes?: number; slowTimeoutMs?: number } = {}) {
  const subscriptions = new Map<number, readonly MediaKind[]>();
  const hub = new LiveHub({
    adminToken: TOKEN,
    logger: createLogger({ level: 'silent' }),
    streams: {
      subscribe: (id, subscriptionId, kinds) => (id === 'stream-1' ? (subscriptions.set(subscriptionId, kinds), true) : false),
      unsubscribe: (_id, subscriptionId) => void subscriptions.delete(subscriptionId),
    },
    ...options,
  });
  const server: Server = createServer((_request, response) => response.writeHead(404).end());
  server.on('upgrade', (request, socket, head) => {
    if (!hub.handleUpgrade(request, socket, head)) socket.end('HTTP/1.1 404 Not Found\r\n\r\n');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(
    () => new Promise<void>((resolve) => server.close(() => resolve())),
    () => hub.close(),
  );
  const url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/streams/stream-1/live`;
  return { hub, url, subscriptions };
}

function batch(kind: MediaKind, frames: Buffer[], extra: LiveItem[] = []): LiveBatch {
  const items: LiveItem[] = [];
  let offset = 0;
  for (const data of frames) {
    items.push({ type: kind, userId: '0', userName: undefined, timestamp: 1000 + offset, offset, length: data.length });
    offset += data.length;
  }
  const payload = new ArrayBuffer(offset);
  Buffer.from(payload).set(Buffer.concat(frames));
  return { rtmsStreamId: 'stream-1', items: [...items, ...extra], payload };
}

/** A consumer; `messages` collects from the first byte (the hello is sent at once). */
function connect(url: string): Promise<{ ws: WebSocket; messages: Array<{ binary: boolean; data: Buffer }> }> {
  const ws = new WebSocket(url, { headers: { authorization: `Bearer ${TOKEN}` } });
  const messages: Array<{ binary: boolean; data: Buffer }> = [];
  ws.on('message', (data: Buffer, binary: boolean) => messages.push({ binary, data }));
  cleanups.push(() => ws.terminate());
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve({ ws, messages }));
    ws.once('error', reject);
  });
}

describe('LiveHub', () => {
  it('sends only the media a consumer asked for, events always, with the documented framing', async () => {
    const { hub, url } = await startHub();
    const { messages } = await connect(`${url}?media=audio`);
    const pcm = Buffer.from([1, 2, 3, 4]);
    hub.deliver(batch('audio', [pcm], [{ type: 'event', event: lifecycleEvent('stream.live', { rtmsStreamId: 'stream-1' }, 0) }]));
    hub.deliver(batch('video', [Buffer.from([9, 9])]));
    // One socket keeps order: once this last event is in, a video frame sent by mistake would be too.
    hub.deliver(batch('audio', [], [{ type: 'event', event: lifecycleEvent('stream.ended', { rtmsStreamId: 'stream-1' }, 0) }]));
    await eventually(() => messages.some((message) => !message.binary && message.data.includes('stream.ended')), {
      what: 'the last event at the consumer',
      timeoutMs: 3000,
      state: () => messages.length,
    });
    expect(messages).toHaveLength(4);
    expect(JSON.parse(messages[0]!.data.toString())).toEqual({ type: 'hello', rtmsStreamId: 'stream-1', media: ['audio'] });
    const frame = messages[1]!;
    expect(frame.binary).toBe(true);
    const headerLength = frame.data.readUInt32BE(0);
    expect(JSON.parse(frame.data.subarray(4, 4 + headerLength).toString())).toEqual({ type: 'audio', userId: '0', timestamp: 1000 });
    expect(frame.data.subarray(4 + headerLength)).toEqual(pcm);
    expect(JSON.parse(messages[2]!.data.toString())).toMatchObject({ type: 'event', event: { eventType: 'stream.live' } });
  });

  it('skips frames for a consumer that stops reading, then disconnects it with 4008; others are unaffected', async () => {
    const { hub, url, subscriptions } = await startHub({ maxBufferedBytes: 64 * 1024, slowTimeoutMs: 500 });
    const { ws: slow } = await connect(url);
    slow.pause();
    expect(subscriptions.size).toBe(1);
    const chunk = Buffer.alloc(256 * 1024, 7);
    // Push far more than the socket buffers hold until the hub gives up on the consumer.
    await eventually(
      () => {
        hub.deliver(batch('video', [chunk, chunk]));
        return hub.slowDisconnects > 0;
      },
      { what: 'the hub to disconnect the consumer that stopped reading', intervalMs: 10, timeoutMs: 4000 },
    );
    expect(hub.slowDisconnects).toBe(1);
    expect(hub.skippedTotal.video).toBeGreaterThan(0);
    expect(subscriptions.size).toBe(0);
    expect(hub.subscriberCount).toBe(0);
    const code = await new Promise<number>((resolve) => {
      slow.on('close', (closeCode) => resolve(closeCode));
      slow.resume();
    });
    // The close frame may be lost behind the unread data; the socket is then cut (1006).
    expect([LIVE_CLOSE_TOO_SLOW, 1006]).toContain(code);
  });

  it('tells a consumer that caught up what it missed', async () => {
    const { hub, url } = await startHub({ maxBufferedBytes: 64 * 1024, slowTimeoutMs: 60_000 });
    const { ws } = await connect(url);
    ws.pause();
    const chunk = Buffer.alloc(256 * 1024, 7);
    await eventually(
      () => {
        hub.deliver(batch('video', [chunk]));
        return hub.skippedTotal.video > 0;
      },
      { what: 'the hub to skip frames for the paused consumer', intervalMs: 5, timeoutMs: 4000 },
    );
    const notices: unknown[] = [];
    ws.on('message', (data: Buffer, binary: boolean) => {
      if (!binary) notices.push(JSON.parse(data.toString()));
    });
    ws.resume();
    // Keep delivering small frames until the hub sees the consumer caught up.
    const skipped = (await eventually(
      () => {
        hub.deliver(batch('video', [Buffer.from([1])]));
        return notices.find((notice) => (notice as { type?: string }).type === 'skipped');
      },
      { what: 'a "skipped" notice once the consumer caught up', intervalMs: 20, timeoutMs: 4000 },
    )) as { media: { video: number } };
    expect(skipped.media.video).toBeGreaterThan(0);
  });
});
