import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readWavData } from '../support/wavReader.ts';
import { expectAudioIdentical, startRig, untilAudioSent, waitUntilEnded } from './connectorHarness.ts';
import { RedisServer } from './redisServer.ts';
import { eventually } from '../support/eventually.ts';

const run = promisify(execFile);

let redis: RedisServer;
beforeAll(async () => {
  redis = await RedisServer.start();
});
afterAll(async () => {
  await redis?.stop();
});

describe('Redis stream output (rtms:<id>:<media>)', () => {
  it('the example consumer reproduces the stream audio byte for byte; events and transcripts are there too', async () => {
    const rig = await startRig({ REDIS_URL: redis.url, RTMS_MEDIA: 'audio,transcript' });
    const scratch = await mkdtemp(join(tmpdir(), 'rtms-redis-'));
    try {
      const stream = await rig.simulator.startStream({ product: 'meeting' });
      await stream.whenReady();
      await untilAudioSent(stream, 32_000 * 3, { transcripts: 1 });
      await stream.stop();
      await waitUntilEnded(rig, stream);
      await expectAudioIdentical(rig, stream);

      const out = join(scratch, 'from-redis.wav');
      const { stdout } = await run(process.execPath, ['examples/redisAudioToWav.ts', '--redis-url', redis.url, '--stream', stream.rtmsStreamId, '--out', out], {
        timeout: 30_000,
      });
      expect(stdout).toContain('wrote');
      expect((await readWavData(out)).data.equals(stream.sent.audio('0'))).toBe(true);

      const client = createClient({ url: redis.url });
      await client.connect();
      try {
        const events = await client.xRange(`rtms:${stream.rtmsStreamId}:events`, '-', '+');
        expect((events ?? []).map((entry) => entry?.message['eventType'])).toEqual(expect.arrayContaining(['stream.live', 'stream.ended']));
        const transcripts = await client.xRange(`rtms:${stream.rtmsStreamId}:transcript`, '-', '+');
        expect((transcripts ?? []).map((entry) => entry?.message['text'])).toEqual(stream.sent.transcripts().map((line) => line.text));
      } finally {
        await client.close();
      }
      const metrics = await (await fetch(`${rig.connector.baseUrl}/metrics`)).text();
      expect(metrics).toMatch(new RegExp(`^rtms_redis_stream_entries_total\\{media_type="audio"\\} ${stream.sent.audioPackets()}$`, 'm'));
    } finally {
      await rig.close();
      await rm(scratch, { recursive: true, force: true });
    }
  });

  it('keys get REDIS_OUTPUT_RETENTION_SECONDS as TTL when the stream ends, not before, and then expire', async () => {
    const rig = await startRig({ REDIS_URL: redis.url, RTMS_MEDIA: 'audio,transcript', REDIS_OUTPUT_RETENTION_SECONDS: '3600' });
    const client = createClient({ url: redis.url });
    await client.connect();
    const ttls = async (id: string): Promise<number[]> => Promise.all(['audio', 'transcript', 'events'].map((media) => client.ttl(`rtms:${id}:${media}`)));
    const until = async (what: string, condition: () => Promise<boolean>): Promise<void> => {
      await eventually(condition, { what, timeoutMs: 15_000, intervalMs: 50 });
    };
    try {
      try {
        const stream = await rig.simulator.startStream({ product: 'meeting' });
        await stream.whenReady();
        await untilAudioSent(stream, 32_000, { transcripts: 1 });
        // Live: every key gets written (-2 while missing) and has no TTL (-1) until the end.
        await until('every key written, none with a TTL', async () => (await ttls(stream.rtmsStreamId)).every((ttl) => ttl === -1));
        await stream.stop();
        await waitUntilEnded(rig, stream);
        await until('a TTL on every key', async () => (await ttls(stream.rtmsStreamId)).every((ttl) => ttl > 0));
        for (const ttl of await ttls(stream.rtmsStreamId)) expect(ttl).toBeLessThanOrEqual(3600);
      } finally {
        await rig.close();
      }

      // A short retention, to see Redis really delete them.
      const short = await startRig({ REDIS_URL: redis.url, RTMS_MEDIA: 'audio', REDIS_STREAM_MEDIA: 'audio', REDIS_OUTPUT_RETENTION_SECONDS: '1' });
      try {
        const stream = await short.simulator.startStream({ product: 'meeting' });
        await stream.whenReady();
        await untilAudioSent(stream, 32_000);
        await stream.stop();
        await waitUntilEnded(short, stream);
        await until('the keys expiring', async () => (await client.exists([`rtms:${stream.rtmsStreamId}:audio`, `rtms:${stream.rtmsStreamId}:events`])) === 0);
      } finally {
        await short.close();
      }
    } finally {
      // Closed whatever failed: a client left open dies with the Redis server as an uncaught error.
      await client.close();
    }
  });

  it('caps each stream (MAXLEN ~): a consumer that falls behind loses the oldest entries, ingest is untouched', async () => {
    const rig = await startRig({ REDIS_URL: redis.url, RTMS_MEDIA: 'audio', REDIS_STREAM_MAXLEN: '100' });
    try {
      const stream = await rig.simulator.startStream({ product: 'meeting' });
      await stream.whenReady();
      // 250 packets: more than a trimmed stream can hold (below 200, see below).
      await untilAudioSent(stream, 640 * 250);
      await stream.stop();
      await waitUntilEnded(rig, stream);
      await expectAudioIdentical(rig, stream);
      const client = createClient({ url: redis.url });
      await client.connect();
      try {
        const length = await client.xLen(`rtms:${stream.rtmsStreamId}:audio`);
        // Approximate trimming removes whole radix-tree nodes (at most 100 entries each by
        // default) while the rest still holds 100: it keeps fewer than 100 + 100.
        expect(length).toBeGreaterThanOrEqual(100);
        expect(length).toBeLessThan(stream.sent.audioPackets());
        expect(length).toBeLessThan(200);
      } finally {
        await client.close();
      }
    } finally {
      await rig.close();
    }
  });
});
