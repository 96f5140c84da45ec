import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { streamDirectory } from '../../../src/sinks/streamDirectory.ts';
import { readJsonLines, startRig, type Rig } from '../connectorHarness.ts';
import { HostileRtmsServer } from './hostileRtmsServer.ts';
import { startBystander, startHostileStream } from './hostileRig.ts';

/**
 * Servers that accept the join and then lose the connection at once: one sends a message over
 * RTMS_MAX_MESSAGE_BYTES on every media socket (and then never answers our close), one closes
 * signaling right after its handshake. Each rejoin after such a join backs off; after
 * RTMS_REJOIN_BUDGET rejoins the stream is `failed`, with the reason; the 1009 we sent is recorded.
 */

const BUDGET = 4;
let rig: Rig;
beforeAll(async () => {
  rig = await startRig({
    RTMS_MEDIA: 'audio,transcript',
    RTMS_MAX_MESSAGE_BYTES: String(64 * 1024),
    RTMS_REJOIN_BUDGET: String(BUDGET),
    RTMS_REJOIN_BUDGET_WINDOW_MS: '600000',
    RTMS_RECONNECT_BASE_MS: '200',
    RTMS_RECONNECT_MAX_MS: '800',
  });
});
afterAll(async () => {
  await rig?.close();
});

async function metric(series: string): Promise<number> {
  const text = await (await fetch(`${rig.connector.baseUrl}/metrics`)).text();
  return Number(
    text
      .split('\n')
      .find((line) => line.startsWith(series))
      ?.split(' ')
      .at(-1) ?? Number.NaN,
  );
}

async function eventsOf(id: string): Promise<Array<{ eventType: string; data: Record<string, unknown> }>> {
  return (await readJsonLines(join(streamDirectory(rig.outputDir, id), 'events.jsonl'))) as Array<{ eventType: string; data: Record<string, unknown> }>;
}

describe('rejoin budget', () => {
  it('a message over the size limit on every media join: 1009 recorded, rejoins back off, then failed with the reason', { timeout: 60_000 }, async () => {
    const bystander = await startBystander(rig);
    const server = await HostileRtmsServer.start({
      onMediaReady: (media) => {
        media.send(Buffer.alloc(256 * 1024, 0x20), { binary: false });
        server.stopReading(media);
      },
    });
    try {
      const id = await startHostileStream(rig, server.url(), 'toobig');
      const snapshot = await rig.connector.waitForStream(id, (stream) => stream['state'] === 'failed', 40_000);
      expect(snapshot['failure']).toBe(`rejoin budget exhausted: ${BUDGET} rejoins within 600 s (RTMS_REJOIN_BUDGET)`);
      expect(server.mediaJoins).toBe(BUDGET + 1);
      const events = await eventsOf(id);
      const lost = events.filter((event) => event.eventType === 'rtms.connection_lost');
      expect(lost).toHaveLength(BUDGET + 1);
      for (const event of lost) expect(event.data).toMatchObject({ channel: 'media:all', code: 1009, cause: 'too_big' });
      // Each rejoin after a join lost at once waited, longer each time (up to the cap).
      const delays = events.filter((event) => event.eventType === 'stream.rejoin').map((event) => Number(event.data['delayMs']));
      expect(delays).toHaveLength(BUDGET);
      for (const delay of delays) expect(delay).toBeGreaterThanOrEqual(200);
      expect(await metric('rtms_messages_ignored_total{channel="media",reason="too_big"}')).toBe(BUDGET + 1);
      expect(await metric('rtms_stream_limit_hits_total{limit="rejoin_budget"}')).toBe(1);
      await bystander.check();
      await bystander.finish();
    } finally {
      await server.close();
    }
  });

  it('signaling closed right after each join: full rejoins back off and end in failed', { timeout: 60_000 }, async () => {
    const server = await HostileRtmsServer.start({
      onMediaReady: (_media, signaling) => signaling.close(4000, 'bye'),
    });
    try {
      const id = await startHostileStream(rig, server.url(), 'sigdrop');
      const snapshot = await rig.connector.waitForStream(id, (stream) => stream['state'] === 'failed', 40_000);
      expect(String(snapshot['failure'])).toMatch(/^rejoin budget exhausted/);
      expect(server.signalingJoins).toBe(BUDGET + 1);
      const events = await eventsOf(id);
      expect(
        events.filter((event) => event.eventType === 'rtms.connection_lost' && event.data['channel'] === 'signaling').map((event) => event.data['code']),
      ).toEqual(Array(BUDGET + 1).fill(4000));
      const rejoinDelays = events.filter((event) => event.eventType === 'stream.rejoin').map((event) => Number(event.data['delayMs']));
      expect(rejoinDelays).not.toHaveLength(0);
      expect(rejoinDelays.filter((delayMs) => !(delayMs >= 200))).toEqual([]);
    } finally {
      await server.close();
    }
  });
});
