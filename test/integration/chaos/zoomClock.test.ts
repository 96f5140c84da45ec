import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probeAudio } from '../../support/ffprobe.ts';
import type { SimulatedStream } from 'rtms-simulator';
import { expectAudioIdentical, expectEveryFrameAccounted, startRig, untilAudioSent, waitUntilEnded, type Rig } from '../connectorHarness.ts';
import { mediaCounters, rejoinsOf, runThroughDisruption, startChaosRig, streamEvents, untilSnapshot } from './chaosRig.ts';

/**
 * Zoom's clock is not ours (docs/reliability.md#zooms-clock-is-not-ours): media timestamps that step back or
 * forward lose no audio and write no invented silence, a webhook's `event_ts` far off our
 * clock neither silences an interruption nor pins a stream, and a rejoin never opens a
 * signaling connection while its previous one is still open (Zoom's status 8).
 */

const TEN_HOURS_MS = 10 * 3600_000;

async function jumpsOf(rig: Rig, stream: SimulatedStream): Promise<number[]> {
  return (await streamEvents(rig, stream)).filter((event) => event.eventType === 'media.timestamp_jump').map((event) => Number(event.data['jumpMs']));
}

/** Nothing dropped as `duplicate`, every frame accounted, the WAV exactly what was sent. */
async function expectNothingLost(rig: Rig, stream: SimulatedStream): Promise<void> {
  const media = await mediaCounters(rig, stream);
  expect(media['audio']?.framesDropped['duplicate'] ?? 0).toBe(0);
  await expectEveryFrameAccounted(rig, stream);
  await expectAudioIdentical(rig, stream);
}

// The tests of the first three groups drive their own streams and wait on real time, not CPU:
// they run side by side (vitest runs adjacent concurrent groups together, at most five tests at
// a time). The 20-stream race at the end is not concurrent, so it runs alone after them.
describe.concurrent('Zoom clock: media timestamps', () => {
  let rig: Rig;
  beforeAll(async () => {
    rig = await startChaosRig();
  });
  afterAll(async () => {
    await rig?.close();
  });

  it('steps back by 3 s and then 30 s on a steady connection: no audio dropped, one timestamp_jump each', async () => {
    const stream = await rig.simulator.startStream({ participants: 2 });
    await stream.whenReady();
    await untilAudioSent(stream, 64_000);
    expect(stream.jumpTimestamps(-3000)).toBe(true);
    await untilAudioSent(stream, stream.sent.audioBytes() + 64_000);
    stream.jumpTimestamps(-30_000);
    await untilAudioSent(stream, stream.sent.audioBytes() + 64_000);
    await stream.stop();
    const snapshot = await waitUntilEnded(rig, stream);
    expect(snapshot['state']).toBe('ended');
    expect(await jumpsOf(rig, stream)).toEqual([-3000, -30_000]);
    await expectNothingLost(rig, stream);
  });

  it('multi-stream audio: a backward step is one discontinuity for the stream, no speaker loses audio', async () => {
    const multi = await startChaosRig({ env: { RTMS_AUDIO_MODE: 'multi', RTMS_MEDIA: 'audio' } });
    try {
      const stream = await multi.simulator.startStream({ participants: 3 });
      await stream.whenReady();
      await untilAudioSent(stream, 64_000);
      stream.jumpTimestamps(-30_000);
      await untilAudioSent(stream, stream.sent.audioBytes() + 64_000);
      await stream.stop();
      await waitUntilEnded(multi, stream);
      expect(await jumpsOf(multi, stream)).toEqual([-30_000]);
      await expectNothingLost(multi, stream);
    } finally {
      await multi.close();
    }
  });
});

describe.concurrent('Zoom clock: timestamps ahead, with RTMS_AUDIO_GAP_FILL=silence', () => {
  let rig: Rig;
  beforeAll(async () => {
    rig = await startChaosRig({ env: { RTMS_AUDIO_GAP_FILL: 'silence', RTMS_MEDIA: 'audio' } });
  });
  afterAll(async () => {
    await rig?.close();
  });

  // Before: the next 500 frames were dropped as duplicates and the WAV grew to 1.15 GB of silence.
  it('one audio packet dated 10 h ahead: written like the rest, no silence for it, nothing after it dropped', async () => {
    const startedAt = Date.now();
    const stream = await rig.simulator.startStream({ participants: 2 });
    await stream.whenReady();
    await untilAudioSent(stream, 64_000);
    stream.jumpTimestamps(TEN_HOURS_MS, { once: true });
    await untilAudioSent(stream, stream.sent.audioBytes() + 64_000);
    // Mid-fault: the live WAV is valid and holds no more audio than the time that passed.
    const mid = await probeAudio(join(rig.streamDir(stream), 'audio.wav'));
    expect(mid.durationS).toBeGreaterThan(0);
    expect(mid.durationS).toBeLessThanOrEqual((Date.now() - startedAt) / 1000);
    await stream.stop();
    await waitUntilEnded(rig, stream);
    // Out by 10 h, and back: two discontinuities.
    expect(await jumpsOf(rig, stream)).toEqual([TEN_HOURS_MS, -TEN_HOURS_MS]);
    // Byte-identical also means: not one byte of silence was added.
    await expectNothingLost(rig, stream);
  });

  it('the server clock stepping 30 s forward writes no silence for the step', async () => {
    const stream = await rig.simulator.startStream({ participants: 2 });
    await stream.whenReady();
    await untilAudioSent(stream, 64_000);
    stream.jumpTimestamps(30_000);
    await untilAudioSent(stream, stream.sent.audioBytes() + 64_000);
    await stream.stop();
    await waitUntilEnded(rig, stream);
    expect(await jumpsOf(rig, stream)).toEqual([30_000]);
    const gaps = (await streamEvents(rig, stream)).filter((event) => event.eventType === 'media.gap' && event.data['kind'] === 'audio');
    expect(gaps).toEqual([]);
    await expectNothingLost(rig, stream);
  });
});

describe.concurrent('Zoom clock: webhook event_ts', () => {
  let rig: Rig;
  beforeAll(async () => {
    rig = await startChaosRig();
  });
  afterAll(async () => {
    await rig?.close();
  });

  // Before: with Zoom's clock 240 s behind, the interruption looked older than our connection
  // and was ignored as already answered; the stream would not have rejoined before Zoom's 60 s grace.
  for (const offsetMs of [-240_000, 240_000]) {
    it(`an rtms_interrupted dated ${offsetMs / 1000} s off our clock, our socket still open: one rejoin, nothing lost`, async () => {
      const { stream, snapshot, media } = await runThroughDisruption(rig, {
        disrupt: async (stream) => expect((await stream.reportInterruption({ eventTsOffsetMs: offsetMs })).status).toBe(200),
        recovery: 'rejoin',
      });
      // Exactly one: the webhook Zoom sends for the connection our rejoin closed is matched to it.
      expect(rejoinsOf(snapshot)).toEqual([['full/interrupted_webhook', 1]]);
      expect(stream.connections.signalingRejectedDuplicate).toBe(0);
      expect(media['audio']?.framesDropped['duplicate'] ?? 0).toBe(0);
    });
  }

  // Before: the announcement dated 10 h ahead became the stream's reference, and the genuine
  // failover after it was ignored as stale: the stream stayed on the dead server.
  it('a failover announced with event_ts 10 h ahead does not pin the stream: the next failover is followed', async () => {
    const { stream, media } = await runThroughDisruption(rig, {
      async disrupt(stream) {
        await stream.failover({ eventTsOffsetMs: TEN_HOURS_MS });
        await stream.whenReady(2);
        await untilAudioSent(stream, stream.sent.audioBytes() + 32_000);
        await stream.failover();
        await stream.whenReady(3);
      },
      recovery: 'rejoin',
    });
    expect(stream.connections.failovers).toBe(2);
    expect(stream.connections.signalingRejectedDuplicate).toBe(0);
    expect(media['audio']?.framesDropped['duplicate'] ?? 0).toBe(0);
  });
});

describe('a rejoin never races its own sockets', () => {
  let rig: Rig;
  beforeAll(async () => {
    rig = await startRig(
      { RTMS_KEEPALIVE_TIMEOUT_MS: '1500', RTMS_HANDSHAKE_TIMEOUT_MS: '5000', RTMS_MEDIA: 'audio,transcript', WORKER_THREADS: '2' },
      { seed: 29, keepAliveIntervalMs: 300 },
    );
  });
  afterAll(async () => {
    await rig?.close();
  });

  // 20 streams interrupted at once. Each rejoins fast on its own, and its rtms_interrupted
  // comes just after that rejoin (answered by it: no second rejoin for it). Then Zoom's front
  // end lags (reads nothing from the new signaling socket for 1 s) and reports another break:
  // the connector rejoins at once, closing the connection it just made. Opening the next one
  // before Zoom has seen that close would be refused as a duplicate (status 8), as it was
  // when close frames were sent and not awaited.
  it('20 streams, rtms_interrupted just after a fast rejoin, then a rejoin while Zoom lags: no status 8, no audio lost', async () => {
    const streams = await Promise.all(Array.from({ length: 20 }, () => rig.simulator.startStream({ participants: 2 })));
    await Promise.all(streams.map((stream) => stream.whenReady()));
    await Promise.all(streams.map((stream) => untilAudioSent(stream, 16_000)));
    await Promise.all(
      streams.map(async (stream) => {
        await stream.interrupt({ webhook: 'afterRejoin', delayMs: 0 });
        await stream.whenReady(2);
        // The connector is live on its new connection (a report during its rejoin joins that rejoin).
        await untilSnapshot(rig, stream, (snapshot) => snapshot['state'] === 'live' && rejoinsOf(snapshot).length === 1);
        expect(stream.stallReads(1000)).toBe(true);
        expect((await stream.reportInterruption()).status).toBe(200);
        await stream.whenReady(3);
      }),
    );
    await Promise.all(streams.map((stream) => untilAudioSent(stream, stream.sent.audioBytes() + 16_000)));
    await Promise.all(streams.map((stream) => stream.stop()));
    for (const stream of streams) {
      const snapshot = await waitUntilEnded(rig, stream);
      expect(snapshot['state']).toBe('ended');
      expect({ id: stream.rtmsStreamId, status8: stream.connections.signalingRejectedDuplicate }).toEqual({ id: stream.rtmsStreamId, status8: 0 });
      expect(stream.connections.handshakeRejections).toEqual([]);
      expect(rejoinsOf(snapshot)).toEqual([
        ['full/interrupted_webhook', 1],
        ['full/signaling_closed', 1],
      ]);
      await expectNothingLost(rig, stream);
    }
  });
});
