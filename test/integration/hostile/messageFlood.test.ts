import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { streamDirectory } from '../../../src/sinks/streamDirectory.ts';
import { readJsonLines, startRig, type Rig } from '../connectorHarness.ts';
import { flood, HostileRtmsServer } from './hostileRtmsServer.ts';
import { startBystander, startHostileStream } from './hostileRig.ts';
import { eventually } from '../../support/eventually.ts';

/**
 * A server that floods a stream with 450,000 messages of made-up types or broken JSON, as fast as
 * the connector reads them: each is counted in `rtms_messages_ignored_total`, but events.jsonl
 * gets the first few and a summary, not a line each (one line each was 244 MB for a 10 s flood;
 * it would be over 40 MB for this one).
 */

/** Messages per flooder: a fixed count, so the test measures counting, not how fast a busy machine sends. */
const FLOOD = { media: 200_000, signaling: 50_000, invalid: 200_000 } as const;
let rig: Rig;
beforeAll(async () => {
  rig = await startRig({ RTMS_MEDIA: 'audio,transcript' });
});
afterAll(async () => {
  await rig?.close();
});

async function ignoredCount(channel: string, reason: string): Promise<number> {
  const text = await (await fetch(`${rig.connector.baseUrl}/metrics`)).text();
  const line = text.split('\n').find((entry) => entry.startsWith(`rtms_messages_ignored_total{channel="${channel}",reason="${reason}"}`));
  return Number(line?.split(' ').at(-1) ?? Number.NaN);
}

describe('unknown-message flood', () => {
  it('is counted in full, leaves events.jsonl under 5 MB, and a bystander keeps writing', { timeout: 90_000 }, async () => {
    const bystander = await startBystander(rig);
    const sent = { media: 0, signaling: 0, invalid: 0 };
    let flooding: Promise<void> | undefined;
    let floodMs = 0;
    const server = await HostileRtmsServer.start({
      onMediaReady: (media, signaling) => {
        const started = Date.now();
        flooding = Promise.all([
          flood(media, FLOOD.media, (i) => `{"msg_type":${100_000 + i}}`).then((count) => (sent.media = count)),
          flood(signaling, FLOOD.signaling, (i) => `{"msg_type":${200_000 + i}}`).then((count) => (sent.signaling = count)),
          flood(media, FLOOD.invalid, () => '{not json').then((count) => (sent.invalid = count)),
        ]).then(() => void (floodMs = Date.now() - started));
      },
    });
    try {
      const id = await startHostileStream(rig, server.url(), 'flood');
      await rig.connector.waitForStream(id, (stream) => stream['state'] === 'live');
      await bystander.check();
      await eventually(() => flooding !== undefined, { what: 'the hostile server to start its flood' });
      await flooding;
      // The server's sockets stayed open: everything was sent.
      expect(sent).toEqual(FLOOD);
      // Everything sent is counted once the connector has read it.
      await eventually(async () => (await ignoredCount('media', 'unknown_msg_type')) >= sent.media, {
        what: `${sent.media} unknown media messages counted`,
        timeoutMs: 30_000,
        intervalMs: 200,
      }).catch(() => undefined);
      expect(await ignoredCount('media', 'unknown_msg_type')).toBe(sent.media);
      expect(await ignoredCount('signaling', 'unknown_msg_type')).toBe(sent.signaling);
      expect(await ignoredCount('media', 'invalid_json')).toBe(sent.invalid);
      await bystander.check();
      await bystander.finish();

      expect((await rig.connector.admin(`/streams/${id}`, 'DELETE')).status).toBeLessThan(300);
      await rig.connector.waitForStream(id, (stream) => stream['active'] === false);
      const eventsPath = join(streamDirectory(rig.outputDir, id), 'events.jsonl');
      const size = (await stat(eventsPath)).size;
      expect(size).toBeLessThan(5 * 1024 * 1024);
      const events = await readJsonLines(eventsPath);
      expect(events.filter((event) => event['eventType'] === 'rtms.unknown_message')).toHaveLength(10); // 5 signaling + 5 media
      // The summaries account for every message the first few did not.
      const summarised: Record<string, number> = {};
      for (const event of events.filter((entry) => entry['eventType'] === 'rtms.ignored_messages')) {
        for (const [key, count] of Object.entries((event['data'] as { counts: Record<string, number> }).counts))
          summarised[key] = (summarised[key] ?? 0) + count;
      }
      expect(summarised).toEqual({
        'media:all/unknown_msg_type': sent.media - 5,
        'signaling/unknown_msg_type': sent.signaling - 5,
        'media:all/invalid_json': sent.invalid - 5,
      });
      process.stdout.write(
        `flood: ${sent.media + sent.signaling + sent.invalid} messages in ${floodMs} ms; events.jsonl ${size} bytes, ${events.length} lines\n`,
      );
    } finally {
      await server.close();
    }
  });
});
