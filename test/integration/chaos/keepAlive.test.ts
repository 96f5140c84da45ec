import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectAudioIdentical, expectEveryFrameAccounted, untilAudioSent, waitUntilEnded, type Rig } from '../connectorHarness.ts';
import { KEEPALIVE_TIMEOUT_MS, rejoinsOf, startChaosRig, streamEvents, untilSnapshot } from './chaosRig.ts';

/**
 * Silence on a socket, against the real connector (RTMS_KEEPALIVE_TIMEOUT_MS=1500, keep-alive
 * requests every 300 ms): a socket that stays silent past the limit is given up and rejoined,
 * a shorter pause is ridden out, and either way every audio byte arrives exactly once.
 */

let rig: Rig;
beforeAll(async () => {
  rig = await startChaosRig();
});
afterAll(async () => {
  await rig?.close();
});

describe('chaos: stalls and keep-alive suppression', () => {
  it('a signaling stall past the silence limit: the connector notices, rejoins fully (keep_alive_timeout), no audio lost', async () => {
    const stream = await rig.simulator.startStream({ participants: 2 });
    await stream.whenReady();
    await untilAudioSent(stream, 32_000);
    expect(stream.stall(KEEPALIVE_TIMEOUT_MS * 3, 'signaling')).toBe(true);
    await untilSnapshot(rig, stream, (snapshot) => Number(snapshot['reconnects']) >= 1);
    await stream.whenReady(2);
    await untilAudioSent(stream, stream.sent.audioBytes() + 32_000);
    await stream.stop();

    const snapshot = await waitUntilEnded(rig, stream);
    expect(snapshot['state']).toBe('ended');
    expect(Number(snapshot['reconnects'])).toBeGreaterThanOrEqual(1);
    // keep_alive_timeout: the connector's own silence watchdog gave up on the socket.
    expect(rejoinsOf(snapshot)).toContainEqual(['full/keep_alive_timeout', 1]);
    // The client gave up on the stalled socket: the simulator saw it go, not a keep-alive miss of its own.
    expect(stream.connections.keepAliveTimeouts).toEqual([]);
    expect(stream.connections.signalingRejectedDuplicate).toBe(0);
    await expectAudioIdentical(rig, stream);
    await expectEveryFrameAccounted(rig, stream);
  });

  it('keep-alive suppression on signaling with no other signaling traffic: detected as silence and rejoined', async () => {
    // One participant: no speaker changes after the first, so signaling carries only keep-alives.
    const stream = await rig.simulator.startStream({ participants: 1 });
    await stream.whenReady();
    await untilAudioSent(stream, 32_000);
    expect(stream.suppressKeepAlives(KEEPALIVE_TIMEOUT_MS * 4, 'signaling')).toBe(true);
    await untilSnapshot(rig, stream, (snapshot) => Number(snapshot['reconnects']) >= 1);
    await stream.whenReady(2);
    await untilAudioSent(stream, stream.sent.audioBytes() + 32_000);
    await stream.stop();

    const snapshot = await waitUntilEnded(rig, stream);
    expect(snapshot['state']).toBe('ended');
    expect(rejoinsOf(snapshot)).toContainEqual(['full/keep_alive_timeout', 1]);
    expect(stream.connections.signalingRejectedDuplicate).toBe(0);
    await expectAudioIdentical(rig, stream);
    await expectEveryFrameAccounted(rig, stream);
  });

  it('keep-alive suppression while media flows: busy media sockets stay up; a quiet one (chat) is rejoined alone', async () => {
    const stream = await rig.simulator.startStream({ participants: 2 });
    await stream.whenReady();
    await untilAudioSent(stream, 32_000);
    const mediaBefore = stream.connections.mediaAccepted;
    expect(stream.suppressKeepAlives(KEEPALIVE_TIMEOUT_MS * 3, 'chat')).toBe(true);
    expect(stream.suppressKeepAlives(KEEPALIVE_TIMEOUT_MS * 3, 'audio')).toBe(true);
    await untilSnapshot(rig, stream, (snapshot) => Number(snapshot['reconnects']) >= 1);
    await stream.whenReady(2);
    await untilAudioSent(stream, stream.sent.audioBytes() + 32_000);
    await stream.stop();

    const snapshot = await waitUntilEnded(rig, stream);
    expect(snapshot['state']).toBe('ended');
    // Only media was rejoined, and only the chat socket: audio kept flowing without keep-alives.
    expect(rejoinsOf(snapshot).every(([key]) => key.startsWith('media/'))).toBe(true);
    expect(stream.connections.signalingAccepted).toBe(1);
    // The connector dropped one socket (the simulator saw it go and said so with EVENT_UPDATE 7;
    // whichever of the two the connector noticed first names the rejoin), and it came back.
    expect(stream.connections.mediaInterruptions).toBe(1);
    expect(stream.connections.keepAliveTimeouts).toEqual([]);
    expect(stream.connections.mediaAccepted).toBe(mediaBefore + 1);
    const lost = (await streamEvents(rig, stream)).filter((event) => event.eventType === 'rtms.connection_lost');
    expect(lost.every((event) => event.data['channel'] === 'media:chat')).toBe(true);
    await expectAudioIdentical(rig, stream);
    await expectEveryFrameAccounted(rig, stream);
  });

  it('a media stall shorter than the limit is ridden out: no rejoin, the buffered audio follows in order', async () => {
    const stream = await rig.simulator.startStream({ participants: 2 });
    await stream.whenReady();
    await untilAudioSent(stream, 32_000);
    expect(stream.stall(KEEPALIVE_TIMEOUT_MS / 3, 'audio')).toBe(true);
    const during = stream.sent.audioBytes();
    await untilAudioSent(stream, during + 64_000);
    await stream.stop();

    const snapshot = await waitUntilEnded(rig, stream);
    expect(snapshot).toMatchObject({ state: 'ended', reconnects: 0 });
    expect(stream.connections.mediaAccepted).toBe(5);
    await expectAudioIdentical(rig, stream);
    await expectEveryFrameAccounted(rig, stream);
  });

  it('a stall on one media socket past the limit: that socket alone is rejoined, audio complete', async () => {
    const stream = await rig.simulator.startStream({ participants: 2 });
    await stream.whenReady();
    await untilAudioSent(stream, 32_000);
    expect(stream.stall(KEEPALIVE_TIMEOUT_MS * 3, 'audio')).toBe(true);
    await untilSnapshot(rig, stream, (snapshot) => Number(snapshot['reconnects']) >= 1);
    await stream.whenReady(2);
    await untilAudioSent(stream, stream.sent.audioBytes() + 32_000);
    await stream.stop();

    const snapshot = await waitUntilEnded(rig, stream);
    expect(snapshot['state']).toBe('ended');
    expect(rejoinsOf(snapshot).every(([key]) => key.startsWith('media/'))).toBe(true);
    expect(stream.connections.signalingAccepted).toBe(1);
    expect(stream.connections.mediaInterruptions).toBe(1);
    expect(stream.connections.keepAliveTimeouts).toEqual([]);
    expect(stream.connections.mediaAccepted).toBe(6);
    const lost = (await streamEvents(rig, stream)).filter((event) => event.eventType === 'rtms.connection_lost');
    expect(lost.every((event) => event.data['channel'] === 'media:audio' && event.data['cause'] === 'silence')).toBe(true);
    await expectAudioIdentical(rig, stream);
    await expectEveryFrameAccounted(rig, stream);
  });
});
