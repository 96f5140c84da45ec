import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SimulatedStream } from 'rtms-simulator';
import { expectAudioIdentical, untilAudioSent, waitUntilEnded, type Rig } from '../connectorHarness.ts';
import { KEEPALIVE_TIMEOUT_MS, ONE_SECOND_OF_AUDIO, rejoinsOf, runThroughDisruption, startChaosRig, streamEvents } from './chaosRig.ts';

/** The connection losses the connector recorded, as channel and cause. */
async function lossesOf(rig: Rig, stream: SimulatedStream): Promise<Array<{ channel: unknown; cause: unknown }>> {
  return (await streamEvents(rig, stream))
    .filter((event) => event.eventType === 'rtms.connection_lost')
    .map((event) => ({ channel: event.data['channel'], cause: event.data['cause'] }));
}

/**
 * Silence on a socket, against the real connector (RTMS_KEEPALIVE_TIMEOUT_MS=1500, keep-alive
 * requests every 300 ms): a socket that stays silent past the limit is given up and rejoined,
 * a shorter pause is ridden out, and either way every audio byte arrives exactly once. The
 * stand-in asks for keep-alives only on idle sockets (its default, as Zoom's samples describe
 * Zoom): a socket busy with media gets none, so only its data tells the connector it lives.
 */

let rig: Rig;
beforeAll(async () => {
  rig = await startChaosRig();
});
afterAll(async () => {
  await rig?.close();
});

describe('chaos: stalls and keep-alive suppression', () => {
  it('idle-only keep-alives: a stream flowing for three silence limits keeps every socket, its busy audio socket asked for none', async () => {
    const stream = await rig.simulator.startStream({ participants: 2 });
    await stream.whenReady();
    await untilAudioSent(stream, (ONE_SECOND_OF_AUDIO * 3 * KEEPALIVE_TIMEOUT_MS) / 1000);
    await stream.stop(6);
    const snapshot = await waitUntilEnded(rig, stream);
    expect(snapshot).toMatchObject({ state: 'ended', reconnects: 0 });
    // Data alone kept the audio socket alive; the quiet ones (signaling, chat) were asked.
    expect(stream.connections.keepAlivesSent['audio'] ?? 0).toBe(0);
    expect(stream.connections.keepAlivesSent['signaling']).toBeGreaterThan(0);
    expect(stream.connections.keepAlivesSent['chat']).toBeGreaterThan(0);
    expect(stream.connections.keepAliveMisses).toBe(0);
    expect(await lossesOf(rig, stream)).toEqual([]);
    await expectAudioIdentical(rig, stream);
  });

  it('a signaling stall past the silence limit: the connector notices, rejoins fully (keep_alive_timeout), no audio lost', async () => {
    const { stream, snapshot } = await runThroughDisruption(rig, {
      disrupt: (stream) => expect(stream.stall(KEEPALIVE_TIMEOUT_MS * 3, 'signaling')).toBe(true),
      recovery: 'rejoin',
    });
    // keep_alive_timeout: the connector's own silence watchdog gave up on the socket.
    expect(rejoinsOf(snapshot)).toContainEqual(['full/keep_alive_timeout', 1]);
    // The client gave up on the stalled socket: the simulator saw it go, not a keep-alive miss of its own.
    expect(stream.connections.keepAliveTimeouts).toEqual([]);
    expect(stream.connections.signalingRejectedDuplicate).toBe(0);
  });

  it('keep-alive suppression on signaling with no other signaling traffic: detected as silence and rejoined', async () => {
    // One participant: no speaker changes after the first, so signaling carries only keep-alives.
    const { stream, snapshot } = await runThroughDisruption(rig, {
      stream: { participants: 1 },
      disrupt: (stream) => expect(stream.suppressKeepAlives(KEEPALIVE_TIMEOUT_MS * 4, 'signaling')).toBe(true),
      recovery: 'rejoin',
    });
    expect(rejoinsOf(snapshot)).toContainEqual(['full/keep_alive_timeout', 1]);
    expect(stream.connections.signalingRejectedDuplicate).toBe(0);
  });

  it('keep-alive suppression while media flows: busy media sockets stay up; a quiet one (chat) is rejoined alone', async () => {
    let mediaBefore = 0;
    const { stream, snapshot } = await runThroughDisruption(rig, {
      disrupt: (stream) => {
        mediaBefore = stream.connections.mediaAccepted;
        expect(stream.suppressKeepAlives(KEEPALIVE_TIMEOUT_MS * 3, 'chat')).toBe(true);
        expect(stream.suppressKeepAlives(KEEPALIVE_TIMEOUT_MS * 3, 'audio')).toBe(true);
      },
      recovery: 'rejoin',
    });
    // One media rejoin and no full one: audio kept flowing without keep-alives. (The simulator
    // saw the socket go and said so with EVENT_UPDATE 7; whichever of the two the connector
    // noticed first names the rejoin.)
    const rejoins = rejoinsOf(snapshot);
    expect(rejoins).toHaveLength(1);
    expect(rejoins[0]?.[0]).toMatch(/^media\//);
    expect(stream.connections.signalingAccepted).toBe(1);
    expect(stream.connections.mediaInterruptions).toBe(1);
    expect(stream.connections.keepAliveTimeouts).toEqual([]);
    expect(stream.connections.mediaAccepted).toBe(mediaBefore + 1);
    // The socket the connector dropped was the quiet one.
    expect(await lossesOf(rig, stream)).toEqual([{ channel: 'media:chat', cause: 'silence' }]);
  });

  it('a media stall shorter than the limit is ridden out: no rejoin, the buffered audio follows in order', async () => {
    const { stream, snapshot } = await runThroughDisruption(rig, {
      disrupt: (stream) => expect(stream.stall(KEEPALIVE_TIMEOUT_MS / 3, 'audio')).toBe(true),
      recovery: 'none',
    });
    expect(snapshot).toMatchObject({ state: 'ended', reconnects: 0 });
    expect(stream.connections.mediaAccepted).toBe(5);
  });

  it('a stall on one media socket past the limit: that socket alone is rejoined, audio complete', async () => {
    const { stream, snapshot } = await runThroughDisruption(rig, {
      disrupt: (stream) => expect(stream.stall(KEEPALIVE_TIMEOUT_MS * 3, 'audio')).toBe(true),
      recovery: 'rejoin',
    });
    const rejoins = rejoinsOf(snapshot);
    expect(rejoins).toHaveLength(1);
    expect(rejoins[0]?.[0]).toMatch(/^media\//);
    expect(stream.connections.signalingAccepted).toBe(1);
    expect(stream.connections.mediaInterruptions).toBe(1);
    expect(stream.connections.keepAliveTimeouts).toEqual([]);
    expect(stream.connections.mediaAccepted).toBe(6);
    expect(await lossesOf(rig, stream)).toEqual([{ channel: 'media:audio', cause: 'silence' }]);
  });
});
