import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { readWavData } from '../support/wavReader.ts';
import { startRig, untilAudioSent, waitUntilEnded } from './connectorHarness.ts';
import { RedisServer } from './redisServer.ts';

/**
 * Consumers discover streams (the `GET /streams/live` feed, the `rtms:streams` Redis
 * stream) with a read-only CONSUMER_TOKEN, and the self-contained examples in examples/
 * follow a stream, or say clearly that it does not exist.
 */

const run = promisify(execFile);
const CONSUMER_TOKEN = 'consumer-token-for-tests-0123456789abcdef';

let redis: RedisServer;
beforeAll(async () => {
  redis = await RedisServer.start();
});
afterAll(async () => {
  await redis?.stop();
});

/** A WebSocket on the lifecycle feed that collects its messages. */
async function lifecycleFeed(
  baseUrl: string,
  token: string,
): Promise<{
  messages: Array<Record<string, unknown>>;
  until(predicate: (message: Record<string, unknown>) => boolean): Promise<Record<string, unknown>>;
  close(): void;
}> {
  const socket = new WebSocket(`${baseUrl.replace('http', 'ws')}/streams/live`, { headers: { authorization: `Bearer ${token}` } });
  const messages: Array<Record<string, unknown>> = [];
  const waiters: Array<() => void> = [];
  socket.on('message', (data) => {
    messages.push(JSON.parse(String(data)) as Record<string, unknown>);
    for (const wake of waiters.splice(0)) wake();
  });
  await new Promise((resolve, reject) => {
    socket.once('open', resolve);
    socket.once('error', reject);
  });
  return {
    messages,
    async until(predicate) {
      for (;;) {
        const found = messages.find(predicate);
        if (found !== undefined) return found;
        await new Promise<void>((resolve) => waiters.push(resolve));
      }
    },
    close: () => socket.close(),
  };
}

/** Runs an example to completion; resolves with its exit code and output. */
function runExample(args: readonly string[]): {
  exited: Promise<{ code: number | null; stdout: string; stderr: string }>;
  stderrLine(pattern: RegExp): Promise<void>;
} {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const stderrWaiters: Array<() => void> = [];
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    for (const wake of stderrWaiters.splice(0)) wake();
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  return {
    exited: new Promise((resolve) =>
      child.once('exit', (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr });
      }),
    ),
    async stderrLine(pattern) {
      while (!pattern.test(stderr)) await new Promise<void>((resolve) => stderrWaiters.push(resolve));
    },
  };
}

describe('stream discovery and consumers', () => {
  it('announces starts and ends on GET /streams/live and on rtms:streams; CONSUMER_TOKEN reads but cannot close', async () => {
    const rig = await startRig({ REDIS_URL: redis.url, RTMS_MEDIA: 'audio,transcript', CONSUMER_TOKEN });
    const client = createClient({ url: redis.url });
    await client.connect();
    try {
      const feed = await lifecycleFeed(rig.connector.baseUrl, CONSUMER_TOKEN);
      expect(await feed.until((message) => message['type'] === 'hello')).toEqual({ type: 'hello', streams: [] });

      const stream = await rig.simulator.startStream({ product: 'meeting' });
      const started = await feed.until((message) => message['type'] === 'stream' && message['event'] === 'started');
      expect(started).toMatchObject({ rtmsStreamId: stream.rtmsStreamId, product: 'meeting', reason: 'admitted' });
      expect(typeof started['entityId']).toBe('string');
      await stream.whenReady();

      // A consumer connecting now is told about the stream already running.
      const late = await lifecycleFeed(rig.connector.baseUrl, CONSUMER_TOKEN);
      expect(await late.until((message) => message['type'] === 'hello')).toMatchObject({ streams: [{ event: 'started', rtmsStreamId: stream.rtmsStreamId }] });
      late.close();

      const auth = { authorization: `Bearer ${CONSUMER_TOKEN}` };
      const list = await fetch(`${rig.connector.baseUrl}/streams`, { headers: auth });
      expect(list.status).toBe(200);
      const close = await fetch(`${rig.connector.baseUrl}/streams/${stream.rtmsStreamId}`, { method: 'DELETE', headers: auth });
      expect(close.status).toBe(403);
      expect(await close.json()).toMatchObject({ error: 'ADMIN_FORBIDDEN' });
      const exclude = await fetch(`${rig.connector.baseUrl}/streams/${stream.rtmsStreamId}/participants/16778240`, { method: 'DELETE', headers: auth });
      expect(exclude.status).toBe(403);

      await untilAudioSent(stream, 6400);
      await stream.stop();
      await waitUntilEnded(rig, stream);
      expect(await feed.until((message) => message['event'] === 'ended')).toMatchObject({ type: 'stream', rtmsStreamId: stream.rtmsStreamId });
      feed.close();

      const entries = ((await client.xRange('rtms:streams', '-', '+')) ?? []).map((entry) => entry?.message ?? {});
      const mine = entries.filter((entry) => entry['rtmsStreamId'] === stream.rtmsStreamId);
      expect(mine.map((entry) => entry['event'])).toEqual(['started', 'ended']);
      expect(mine[0]).toMatchObject({ product: 'meeting', reason: 'admitted' });
    } finally {
      await client.close();
      await rig.close();
    }
  });

  it('examples/liveConsumer.ts finds the next stream with a consumer token and follows it to its end', async () => {
    const rig = await startRig({ RTMS_MEDIA: 'audio,transcript', CONSUMER_TOKEN });
    try {
      const consumer = runExample(['examples/liveConsumer.ts', '--url', rig.connector.baseUrl, '--token', CONSUMER_TOKEN, '--wait-ms', '30000']);
      await consumer.stderrLine(/waiting up to 30000 ms for a stream to start/);
      const stream = await rig.simulator.startStream({ product: 'meeting' });
      await stream.whenReady();
      await untilAudioSent(stream, 32_000, { transcripts: 1 });
      await stream.stop();
      const { code, stdout } = await consumer.exited;
      expect(code).toBe(0);
      expect(stdout).toContain(`following ${stream.rtmsStreamId}`);
      expect(stdout).toContain(': '); // a transcript line
      expect(stdout).toMatch(/closed 1000 stream ended; received .*"audio":\d+/);
    } finally {
      await rig.close();
    }
  });

  it('examples/liveConsumer.ts and examples/redisAudioToWav.ts say so when the stream does not exist', async () => {
    const rig = await startRig({ REDIS_URL: redis.url, RTMS_MEDIA: 'audio', CONSUMER_TOKEN });
    const scratch = await mkdtemp(join(tmpdir(), 'rtms-consumers-'));
    try {
      const live = await runExample([
        'examples/liveConsumer.ts',
        '--url',
        rig.connector.baseUrl,
        '--token',
        CONSUMER_TOKEN,
        '--stream',
        'no-such-stream',
        '--wait-ms',
        '500',
      ]).exited;
      expect(live.code).toBe(1);
      expect(live.stderr).toContain(
        `liveConsumer: stream no-such-stream does not exist on ${rig.connector.baseUrl}: not active, and it did not start within 500 ms`,
      );

      const fromRedis = await runExample([
        'examples/redisAudioToWav.ts',
        '--redis-url',
        redis.url,
        '--stream',
        'no-such-stream',
        '--out',
        join(scratch, 'x.wav'),
        '--wait-ms',
        '500',
      ]).exited;
      expect(fromRedis.code).toBe(1);
      expect(fromRedis.stderr).toContain('redisAudioToWav: stream no-such-stream does not exist');

      // Started after the Redis consumer began waiting: it finds the stream through rtms:streams.
      const out = join(scratch, 'late.wav');
      const rtmsStreamId = `late-${Date.now().toString(16)}`;
      const waiting = runExample(['examples/redisAudioToWav.ts', '--redis-url', redis.url, '--stream', rtmsStreamId, '--out', out, '--wait-ms', '30000']);
      await waiting.stderrLine(/waiting up to 30000 ms/);
      const stream = await rig.simulator.startStream({ product: 'meeting', rtmsStreamId });
      await stream.whenReady();
      await untilAudioSent(stream, 16_000);
      await stream.stop();
      await waitUntilEnded(rig, stream);
      const { code, stdout } = await waiting.exited;
      expect(code).toBe(0);
      expect(stdout).toContain('wrote');
      expect((await readWavData(out)).data.equals(stream.sent.audio('0'))).toBe(true);
    } finally {
      await rig.close();
      await rm(scratch, { recursive: true, force: true });
    }
  });

  it('examples/ import nothing from src/', async () => {
    const { stdout } = await run('grep', ['-rlE', 'from \'\\.\\./src/|from "\\.\\./src/', 'examples']).catch((error: Error & { code?: unknown }) =>
      error.code === 1 ? { stdout: '' } : Promise.reject(error),
    );
    expect(stdout).toBe('');
  });
});
