import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startRig, untilAudioSent, waitUntilEnded, type Rig } from './connectorHarness.ts';

const TOKEN = 'admin-token-for-tests-0123456789abcdef';

let rig: Rig;
beforeAll(async () => {
  rig = await startRig();
});
afterAll(async () => {
  await rig?.close();
});

function liveUrl(rtmsStreamId: string, media?: string): string {
  return `ws://127.0.0.1:${rig.connector.port}/streams/${rtmsStreamId}/live${media ? `?media=${media}` : ''}`;
}

/** The HTTP status an upgrade attempt is refused with. */
function refusedWith(url: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.on('unexpected-response', (_request, response) => {
      resolve(response.statusCode ?? 0);
      ws.terminate();
    });
    ws.on('open', () => reject(new Error('upgrade was accepted')));
    ws.on('error', () => {});
  });
}

describe('live consumers (GET /streams/{id}/live)', () => {
  it('refuses without the admin token, for unknown streams and unknown media', async () => {
    const stream = await rig.simulator.startStream({ product: 'meeting' });
    await stream.whenReady();
    expect(await refusedWith(liveUrl(stream.rtmsStreamId))).toBe(401);
    expect(await refusedWith(liveUrl(stream.rtmsStreamId), { authorization: 'Bearer wrong' })).toBe(401);
    expect(await refusedWith(liveUrl('no-such-stream'), { authorization: `Bearer ${TOKEN}` })).toBe(404);
    expect(await refusedWith(liveUrl(stream.rtmsStreamId, 'audio,smell'), { authorization: `Bearer ${TOKEN}` })).toBe(400);
    await stream.stop();
    await waitUntilEnded(rig, stream);
  });

  it('delivers events, transcripts and a contiguous, byte-exact slice of the audio, then closes 1000 at the end', async () => {
    const stream = await rig.simulator.startStream({ product: 'meeting' });
    await stream.whenReady();
    const ws = new WebSocket(liveUrl(stream.rtmsStreamId, 'audio,transcript'), { headers: { authorization: `Bearer ${TOKEN}` } });
    const text: Array<Record<string, unknown>> = [];
    const audio: Buffer[] = [];
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (!isBinary) {
        text.push(JSON.parse(data.toString()) as Record<string, unknown>);
        return;
      }
      const headerLength = data.readUInt32BE(0);
      const header = JSON.parse(data.subarray(4, 4 + headerLength).toString()) as Record<string, unknown>;
      expect(header).toMatchObject({ type: 'audio', userId: '0' });
      audio.push(data.subarray(4 + headerLength));
    });
    const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
    await new Promise((resolve) => ws.once('open', resolve));
    await untilAudioSent(stream, 32_000 * 3, { transcripts: 2 });
    await stream.stop();
    expect(await closed).toBe(1000);
    await waitUntilEnded(rig, stream);

    expect(text[0]).toEqual({ type: 'hello', rtmsStreamId: stream.rtmsStreamId, media: ['audio', 'transcript'] });
    const received = Buffer.concat(audio);
    expect(received.length).toBeGreaterThan(32_000);
    // What the consumer got is exactly what Zoom sent from the moment it subscribed.
    const sent = stream.sent.audio('0');
    const at = sent.indexOf(received);
    expect(at).toBeGreaterThanOrEqual(0);
    expect(at + received.length).toBe(sent.length);
    const transcripts = text.filter((message) => message['type'] === 'transcript').map((message) => message['text']);
    expect(transcripts.length).toBeGreaterThan(0);
    expect(stream.sent.transcripts().map((line) => line.text)).toEqual(expect.arrayContaining(transcripts));
    const events = text.filter((message) => message['type'] === 'event').map((message) => (message['event'] as Record<string, unknown>)['eventType']);
    expect(events).toContain('stream.ended');
  });
});
