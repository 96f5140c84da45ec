import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SimulatedStream } from 'rtms-simulator';
import { untilAudioSent, waitUntilEnded, type Rig } from '../connectorHarness.ts';
import { loggedCount, rejoinsOf, RELAXED_KEEPALIVE_ENV, runThroughDisruption, startChaosRig, untilEvents, untilLogged } from './chaosRig.ts';

/**
 * Duplicate and out-of-order webhooks against the real connector: whatever order Zoom's
 * webhooks arrive in, the connector holds at most one signaling connection per stream (the
 * simulator refuses a second with status 8 and counts it in `signalingRejectedDuplicate`),
 * loses no audio, and the stream ends `ended`.
 */

let rig: Rig;
beforeAll(async () => {
  rig = await startChaosRig({ env: RELAXED_KEEPALIVE_ENV });
});
afterAll(async () => {
  await rig?.close();
});

/** What the supervisor logs when it sets an `rtms_started` aside as older than the one it acts on. */
const STALE_STARTED = 'stale rtms_started (older event_ts); ignored';

/**
 * Posts a stale `rtms_started` and waits until the connector has set it aside: answered as a
 * duplicate (the same stale body again), or accepted and then logged as stale.
 */
async function sendStaleStartAndSeeItIgnored(stream: SimulatedStream): Promise<void> {
  const before = loggedCount(rig, STALE_STARTED);
  const answer = await stream.sendStaleStart();
  expect(answer?.status).toBe(200);
  const status = (JSON.parse(answer?.body ?? '{}') as { status?: string }).status;
  expect(['accepted', 'duplicate']).toContain(status);
  if (status === 'accepted') await untilLogged(rig, STALE_STARTED, before + 1);
}

/** The late `rtms_interrupted` reached the stream's session, which recorded whether its own rejoin had answered it. */
async function lateInterruptionSeen(stream: SimulatedStream): Promise<{ data: Record<string, unknown> }> {
  const [event] = await untilEvents(rig, stream, 'rtms.interrupted');
  await stream.whenReady(stream.readyCount);
  return event!;
}

describe('chaos: duplicate and out-of-order webhooks', () => {
  it("exact retries of rtms_started and rtms_interrupted are answered 'duplicate' and open nothing", async () => {
    const { stream, snapshot } = await runThroughDisruption(rig, {
      async disrupt(stream) {
        const startedRetry = await stream.resendLastWebhook();
        expect(startedRetry?.status).toBe(200);
        expect(JSON.parse(startedRetry?.body ?? '{}')).toEqual({ status: 'duplicate' });
        await stream.interrupt();
        await stream.whenReady(2);
        // Zoom's retry of the interrupted webhook, after the rejoin it caused.
        const interruptedRetry = await stream.resendLastWebhook();
        expect(interruptedRetry?.status).toBe(200);
        expect(JSON.parse(interruptedRetry?.body ?? '{}')).toEqual({ status: 'duplicate' });
      },
      recovery: 'rejoin',
    });
    expect(snapshot).toMatchObject({ state: 'ended', reconnects: 1 });
    expect(stream.connections.signalingAccepted).toBe(2);
    expect(stream.connections.signalingRejectedDuplicate).toBe(0);
    expect(stream.chaos.applied('duplicateWebhook')).toBe(2);
  });

  it('an rtms_interrupted arriving after the stream already rejoined: one signaling connection at a time, no audio lost', async () => {
    const { stream } = await runThroughDisruption(rig, {
      async disrupt(stream) {
        // Network loss; the webhook is delayed past the rejoin the connector does on its own.
        await stream.interrupt({ webhook: 'afterRejoin', delayMs: 200 });
        await stream.whenReady(2);
        await lateInterruptionSeen(stream);
      },
      recovery: 'rejoin',
    });
    expect(stream.webhooks.map((webhook) => webhook.event)).toContain('meeting.rtms_interrupted');
    expect(stream.connections.signalingRejectedDuplicate).toBe(0);
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
    // The session matched the webhook with the loss it had already answered.
    expect((await lateInterruptionSeen(stream)).data['alreadyAnswered']).toBe(true);
    await stream.stop();
    const snapshot = await waitUntilEnded(rig, stream);
    expect(rejoinsOf(snapshot)).toEqual([['full/signaling_closed', 1]]);
    expect(stream.connections.signalingAccepted).toBe(2);
  });

  it('a stale rtms_started (older event_ts, same server) is ignored, also while a rejoin is under way', async () => {
    const { stream } = await runThroughDisruption(rig, {
      async disrupt(stream) {
        await sendStaleStartAndSeeItIgnored(stream);
        for (let i = 0; i < 5; i += 1) {
          // Network loss, and the stale announcement lands while the connector is rejoining, a
          // little later into the rejoin each round (the stagger is the injection, not a wait).
          const readyBefore = stream.readyCount;
          const interrupted = stream.interrupt();
          await new Promise((resolve) => setTimeout(resolve, i * 5));
          await sendStaleStartAndSeeItIgnored(stream);
          await interrupted;
          await stream.whenReady(readyBefore + 1);
        }
      },
      recovery: 'rejoin',
    });
    expect(stream.chaos.applied('staleStarted')).toBe(6);
    expect(stream.connections.signalingRejectedDuplicate).toBe(0);
    expect(stream.connections.handshakeRejections.filter((rejection) => rejection.channel === 'signaling')).toEqual([]);
  });

  // Were it taken for a failover, the connector would move back to the previous server,
  // which no longer answers (a failed server): the stream would never be whole again.
  it('a stale rtms_started naming the previous server after a failover does not move the stream back', async () => {
    let rejectionsBefore = 0;
    let acceptedBefore = 0;
    const { stream } = await runThroughDisruption(rig, {
      async disrupt(stream) {
        await stream.failover();
        await stream.whenReady(2);
        rejectionsBefore = stream.connections.handshakeRejections.length;
        acceptedBefore = stream.connections.signalingAccepted;
        await sendStaleStartAndSeeItIgnored(stream);
      },
      recovery: 'rejoin',
    });
    // The stale announcement moved nothing: no new join anywhere, nothing refused.
    expect(stream.connections.handshakeRejections).toHaveLength(rejectionsBefore);
    expect(stream.connections.signalingAccepted).toBe(acceptedBefore);
  });

  // When a server fails over, the sockets drop first and Zoom's new rtms_started comes a
  // moment later. The connector rejoins the stored (old) URL at once and the old server, being
  // gone, drops the handshake unanswered. Were that final, the stream would end `failed`, and
  // the late rtms_started would admit the id again as a new stream with fresh counters and a
  // second audio file (the chaos soak hit this in ~4 % of its failovers).
  it('a failover whose rtms_started arrives after the client already retried the old server still moves the stream', async () => {
    // Ends `ended` (not `failed`), with every byte in the one stream's files.
    await runThroughDisruption(rig, {
      disrupt: (stream) => stream.failover({ webhookDelayMs: 500 }),
      recovery: 'rejoin',
    });
  });
});
