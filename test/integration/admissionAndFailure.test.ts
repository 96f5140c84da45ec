import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator } from 'rtms-simulator';
import {
  expectAudioIdentical,
  randomCredentials,
  readJsonLines,
  startRig,
  untilAudioSent,
  untilSinkClosed,
  waitUntilEnded,
  type Rig,
} from './connectorHarness.ts';

/** Admission against MAX_STREAMS, and a stream Zoom refuses for good. */

let rig: Rig;
beforeAll(async () => {
  rig = await startRig({ MAX_STREAMS: '2' });
});
afterAll(async () => {
  await rig?.close();
});

async function metric(name: string): Promise<string[]> {
  const text = await (await fetch(`${rig.connector.baseUrl}/metrics`)).text();
  return text.split('\n').filter((line) => line.startsWith(name));
}

describe('admission', () => {
  it('holds at most MAX_STREAMS; the next stream is rejected, never half-started; a freed slot admits again', async () => {
    const first = await rig.simulator.startStream({ product: 'meeting' });
    const second = await rig.simulator.startStream({ product: 'contact_center' });
    await Promise.all([first.whenReady(), second.whenReady()]);

    const third = await rig.simulator.startStream({ product: 'webinar' });
    const rejected = await rig.connector.waitForStream(third.rtmsStreamId, (snapshot) => snapshot['state'] === 'rejected');
    expect(rejected).toMatchObject({ state: 'rejected', active: false, failure: 'max_streams' });
    expect(await metric('rtms_streams_rejected_total')).toEqual(['rtms_streams_rejected_total{reason="max_streams"} 1']);
    expect(third.connections.signalingAccepted).toBe(0);
    expect((await rig.connector.admin('/streams')).body['streams']).toHaveLength(2);
    // Consumers watching OUTPUT_DIR see the refusal too.
    const events = await readJsonLines(join(rig.streamDir(third), 'events.jsonl'));
    expect(events.map((event) => [event['eventType'], (event['data'] as Record<string, unknown>)['reason']])).toEqual([['stream.rejected', 'max_streams']]);
    expect(JSON.parse(await readFile(join(rig.streamDir(third), 'stream.json'), 'utf8'))).toMatchObject({ state: 'rejected', failure: 'max_streams' });

    await first.stop();
    await waitUntilEnded(rig, first);
    const fourth = await rig.simulator.startStream({ product: 'session' });
    await fourth.whenReady();
    await untilAudioSent(fourth, 16_000);
    await Promise.all([second.stop(), fourth.stop()]);
    await Promise.all([waitUntilEnded(rig, second), waitUntilEnded(rig, fourth)]);
    await expectAudioIdentical(rig, fourth);
    expect(third.connections.signalingAccepted).toBe(0);
  });
});

describe('non-retryable failures', () => {
  // A Zoom that knows a different client secret: webhooks verify, handshakes do not. It
  // refuses with its status message, or (forum reports) with a bare close 1000 and nothing else.
  it.each([
    { refusal: 'statusMessage', failure: 'INVALID_SIGNATURE (3)', event: { statusCode: 3, statusName: 'INVALID_SIGNATURE' } },
    { refusal: 'bareClose', failure: 'signaling handshake rejected: CLOSED_WITHOUT_STATUS', event: { statusName: 'CLOSED_WITHOUT_STATUS' } },
  ] as const)(
    'a bad handshake signature refused by $refusal fails the stream at once with a clear reason, without retries',
    async ({ refusal, failure, event }) => {
      const credentials = { ...randomCredentials(), webhookSecretToken: rig.credentials.webhookSecretToken, clientId: rig.credentials.clientId };
      const zoom = await startSimulator({ credentials, webhookUrl: rig.connector.webhookUrl, seed: 3, joinTimeoutMs: 0, handshakeRefusal: refusal });
      try {
        const stream = await zoom.startStream({ product: 'meeting' });
        const snapshot = await waitUntilEnded(rig, stream);
        expect(snapshot['state']).toBe('failed');
        expect(String(snapshot['failure'])).toContain(failure);
        // Count attempts once the session is torn down (its sink closed): a retry after that would be a zombie.
        await untilSinkClosed(rig, stream);
        expect(stream.connections.handshakeRejections).toEqual([{ channel: 'signaling', statusCode: 3, reason: expect.any(String) }]);
        expect(stream.connections.signalingAccepted).toBe(0);
        const events = await readJsonLines(join(rig.streamDir(stream), 'events.jsonl'));
        expect(events.filter((line) => line['eventType'] === 'rtms.handshake_rejected').map((line) => line['data'])).toEqual([
          { channel: 'signaling', ...event, rtmsStreamId: stream.rtmsStreamId },
        ]);
      } finally {
        await zoom.close();
      }
    },
  );
});
