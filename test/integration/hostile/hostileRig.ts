import { randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import { type SimulatedStream, lifecycleWebhookBody } from 'rtms-simulator';
import { expectAudioIdentical, expectEveryFrameAccounted, waitUntilEnded, type Rig } from '../connectorHarness.ts';

/** Helpers shared by the hostile-input tests: signed webhooks that point at a bad server, and a bystander. */

/** Sends a signed `meeting.rtms_started` for a new stream whose `server_urls` is `serverUrls`; returns its id. */
export async function startHostileStream(rig: Rig, serverUrls: string, prefix = 'hostile'): Promise<string> {
  const rtmsStreamId = `${prefix}-${randomBytes(6).toString('hex')}`;
  const body = lifecycleWebhookBody({
    kind: 'rtms_started',
    stream: {
      product: 'meeting',
      rtmsStreamId,
      entityId: `meeting-${randomBytes(6).toString('hex')}`,
      sessionKey: '',
      operatorId: 'operator',
      accountId: 'account',
      meetingNumber: 123456789,
      webinarIdKey: 'webinar_uuid',
    },
    eventTs: Date.now(),
    serverUrls,
    payloadNesting: 'flat',
  });
  const response = await rig.simulator.sendWebhook(body);
  expect(response.status).toBe(200);
  return rtmsStreamId;
}

/** Audio frames the connector has written for a stream so far (from `GET /streams/{id}`). */
export async function audioFramesWritten(rig: Rig, rtmsStreamId: string): Promise<number> {
  const { body } = await rig.connector.admin(`/streams/${encodeURIComponent(rtmsStreamId)}`);
  const media = (body['stream'] as Record<string, unknown> | undefined)?.['media'] as Record<string, { framesWritten: number }> | undefined;
  return media?.['audio']?.framesWritten ?? 0;
}

/**
 * A well-behaved stream on the same connector: `check()` asserts it wrote more audio since the
 * last check (or since `start`); `finish()` ends it and asserts its audio is byte for byte what
 * was sent, with no frame dropped, so an attack that starved it at any moment fails the test.
 */
export async function startBystander(rig: Rig): Promise<{ stream: SimulatedStream; check: () => Promise<void>; finish: () => Promise<void> }> {
  const stream = await rig.simulator.startStream({ product: 'meeting', durationMs: 10 * 60_000 });
  await stream.whenReady();
  let last = 0;
  await rig.connector.waitForStream(
    stream.rtmsStreamId,
    (snapshot) => ((snapshot['media'] as Record<string, { framesWritten: number }> | undefined)?.['audio']?.framesWritten ?? 0) > 0,
  );
  last = await audioFramesWritten(rig, stream.rtmsStreamId);
  return {
    stream,
    async check() {
      await rig.connector.waitForStream(
        stream.rtmsStreamId,
        (snapshot) =>
          snapshot['state'] === 'live' && ((snapshot['media'] as Record<string, { framesWritten: number }> | undefined)?.['audio']?.framesWritten ?? 0) > last,
        10_000,
      );
      last = await audioFramesWritten(rig, stream.rtmsStreamId);
    },
    async finish() {
      await stream.stop();
      const snapshot = await waitUntilEnded(rig, stream);
      expect(snapshot['state']).toBe('ended');
      await expectAudioIdentical(rig, stream);
      const media = await expectEveryFrameAccounted(rig, stream);
      for (const [kind, counters] of Object.entries(media)) expect({ kind, dropped: counters.framesDropped }).toEqual({ kind, dropped: {} });
    },
  };
}
