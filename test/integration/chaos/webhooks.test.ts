import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectAudioIdentical, expectEveryFrameAccounted, untilAudioSent, waitUntilEnded, type Rig } from '../connectorHarness.ts';
import { rejoinsOf, sleep, startChaosRig } from './chaosRig.ts';

/**
 * Duplicate and out-of-order webhooks against the real connector: whatever order Zoom's
 * webhooks arrive in, the connector holds at most one signaling connection per stream (the
 * simulator refuses a second with status 8 and counts it in `signalingRejectedDuplicate`),
 * loses no audio, and the stream ends `ended`.
 */

let rig: Rig;
beforeAll(async () => {
  rig = await startChaosRig();
});
afterAll(async () => {
  await rig?.close();
});

/** Waits until the stream's current connection is whole again (after whatever rejoins are under way). */
async function settled(stream: { readyCount: number; whenReady(n: number): Promise<void> }): Promise<void> {
  await sleep(1000);
  await stream.whenReady(stream.readyCount);
}

describe('chaos: duplicate and out-of-order webhooks', () => {
  it("exact retries of rtms_started and rtms_interrupted are answered 'duplicate' and open nothing", async () => {
    const stream = await rig.simulator.startStream({ participants: 2 });
    await stream.whenReady();
    await untilAudioSent(stream, 32_000);
    const startedRetry = await stream.resendLastWebhook();
    expect(startedRetry?.status).toBe(200);
    expect(JSON.parse(startedRetry?.body ?? '{}')).toEqual({ status: 'duplicate' });

    await stream.interrupt();
    await stream.whenReady(2);
    // Zoom's retry of the interrupted webhook, after the rejoin it caused.
    const interruptedRetry = await stream.resendLastWebhook();
    expect(interruptedRetry?.status).toBe(200);
    expect(JSON.parse(interruptedRetry?.body ?? '{}')).toEqual({ status: 'duplicate' });
    await untilAudioSent(stream, stream.sent.audioBytes() + 32_000);
    await stream.stop();

    const snapshot = await waitUntilEnded(rig, stream);
    expect(snapshot).toMatchObject({ state: 'ended', reconnects: 1 });
    expect(stream.connections.signalingAccepted).toBe(2);
    expect(stream.connections.signalingRejectedDuplicate).toBe(0);
    expect(stream.chaos.applied('duplicateWebhook')).toBe(2);
    await expectAudioIdentical(rig, stream);
    await expectEveryFrameAccounted(rig, stream);
  });

  it('an rtms_interrupted arriving after the stream already rejoined: one signaling connection at a time, no audio lost', async () => {
    const stream = await rig.simulator.startStream({ participants: 2 });
    await stream.whenReady();
    await untilAudioSent(stream, 32_000);
    // Network loss; the webhook is delayed past the rejoin the connector does on its own.
    await stream.interrupt({ webhook: 'afterRejoin', delayMs: 200 });
    await stream.whenReady(2);
    await settled(stream);
    await untilAudioSent(stream, stream.sent.audioBytes() + 32_000);
    await stream.stop();

    const snapshot = await waitUntilEnded(rig, stream);
    expect(snapshot['state']).toBe('ended');
    expect(stream.webhooks.map((webhook) => webhook.event)).toContain('meeting.rtms_interrupted');
    expect(stream.connections.signalingRejectedDuplicate).toBe(0);
    await expectAudioIdentical(rig, stream);
    await expectEveryFrameAccounted(rig, stream);
  });

  // Acting on the late webhook would tear down the healthy connection the connector already
  // rejoined on (a second full rejoin, `full/interrupted_webhook`, and a second gap), although
  // the gap the webhook reports (its event_ts) is over.
  it('a late rtms_interrupted for a gap already healed is ignored: exactly one rejoin', async () => {
    const stream = await rig.simulator.startStream({ participants: 2 });
    await stream.whenReady();
    await untilAudioSent(stream, 32_000);
    await stream.interrupt({ webhook: 'afterRejoin', delayMs: 200 });
    await stream.whenReady(2);
    await settled(stream);
    await stream.stop();
    const snapshot = await waitUntilEnded(rig, stream);
    expect(rejoinsOf(snapshot)).toEqual([['full/signaling_closed', 1]]);
    expect(stream.connections.signalingAccepted).toBe(2);
  });

  it('a stale rtms_started (older event_ts, same server) is ignored, also while a rejoin is under way', async () => {
    const stream = await rig.simulator.startStream({ participants: 2 });
    await stream.whenReady();
    await untilAudioSent(stream, 32_000);
    expect((await stream.sendStaleStart())?.status).toBe(200);
    for (let i = 0; i < 5; i += 1) {
      // Network loss, and the stale announcement lands while the connector is rejoining.
      const interrupted = stream.interrupt();
      await sleep(i * 5);
      await stream.sendStaleStart();
      await interrupted;
      await settled(stream);
    }
    await untilAudioSent(stream, stream.sent.audioBytes() + 32_000);
    await stream.stop();

    const snapshot = await waitUntilEnded(rig, stream);
    expect(snapshot['state']).toBe('ended');
    expect(stream.chaos.applied('staleStarted')).toBe(6);
    expect(stream.connections.signalingRejectedDuplicate).toBe(0);
    expect(stream.connections.handshakeRejections.filter((rejection) => rejection.channel === 'signaling')).toEqual([]);
    await expectAudioIdentical(rig, stream);
    await expectEveryFrameAccounted(rig, stream);
  });

  // Were it taken for a failover, the connector would move back to the previous server,
  // which refuses the stream (status 2, not retryable): the stream would end `failed`.
  it('a stale rtms_started naming the previous server after a failover does not move the stream back', async () => {
    const stream = await rig.simulator.startStream({ participants: 2 });
    await stream.whenReady();
    await untilAudioSent(stream, 32_000);
    await stream.failover();
    await stream.whenReady(2);
    const rejectionsBefore = stream.connections.handshakeRejections.length;
    const acceptedBefore = stream.connections.signalingAccepted;
    expect((await stream.sendStaleStart())?.status).toBe(200);
    await settled(stream);
    await untilAudioSent(stream, stream.sent.audioBytes() + 32_000, { timeoutMs: 5000 });
    await stream.stop();
    const snapshot = await waitUntilEnded(rig, stream);
    expect(snapshot).toMatchObject({ state: 'ended' });
    // The stale announcement moved nothing: no new join anywhere, nothing refused.
    expect(stream.connections.handshakeRejections).toHaveLength(rejectionsBefore);
    expect(stream.connections.signalingAccepted).toBe(acceptedBefore);
    await expectAudioIdentical(rig, stream);
    await expectEveryFrameAccounted(rig, stream);
  });

  // When a server fails over, the sockets drop first and Zoom's new rtms_started comes a
  // moment later. The connector rejoins the stored (old) URL at once and the old server
  // answers INVALID_RTMS_STREAM_ID (2). Were that final, the stream would end `failed`, and
  // the late rtms_started would admit the id again as a new stream with fresh counters and a
  // second audio file (the chaos soak hit this in ~4 % of its failovers).
  it('a failover whose rtms_started arrives after the client already retried the old server still moves the stream', async () => {
    const stream = await rig.simulator.startStream({ participants: 2 });
    await stream.whenReady();
    await untilAudioSent(stream, 32_000);
    await stream.failover({ webhookDelayMs: 500 });
    await stream.whenReady(2);
    await untilAudioSent(stream, stream.sent.audioBytes() + 32_000);
    await stream.stop();
    const snapshot = await waitUntilEnded(rig, stream);
    expect(snapshot['state']).toBe('ended');
    await expectAudioIdentical(rig, stream);
  });
});
