import { execFileSync, spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AUTH_FAILURE_BURST } from '../../src/http/authFailureLimiter.ts';
import { DEDUP_ENTRY_BYTES } from '../../src/http/webhookDeduplicator.ts';
import { fileSafeId } from '../../src/sinks/fileSafeId.ts';
import { oldHashCollision, oldName } from '../unit/sinks/oldFileSafeId.ts';
import { expectAudioIdentical, expectEveryFrameAccounted, randomCredentials, startRig, waitUntilEnded, type Rig } from './connectorHarness.ts';
import { eventually } from '../support/eventually.ts';
import { retryingFetch } from '../support/retryingFetch.ts';

/**
 * The HTTP side of hostile input, against a real connector process: crafted requests over
 * real sockets, each bound asserted from outside (answers, /metrics, /proc, files).
 */

const rigs: Rig[] = [];
afterAll(async () => {
  await Promise.all(rigs.map((rig) => rig.close()));
});

async function rigWith(env: Record<string, string>): Promise<Rig> {
  const rig = await startRig(env);
  rigs.push(rig);
  return rig;
}

/** Polls `check` (an outside observation) until it holds. */
async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  await eventually(check, { what, timeoutMs });
}

/** Sample lines of /metrics whose name is `name` exactly, as `{labels: value}`. */
async function samples(rig: Rig, name: string): Promise<Map<string, number>> {
  const text = await (await retryingFetch(`${rig.connector.baseUrl}/metrics`)).text();
  const found = new Map<string, number>();
  for (const line of text.split('\n')) {
    const match = /^([a-z_]+)(\{[^}]*\})? (\S+)$/.exec(line);
    if (match?.[1] === name) found.set(match[2] ?? '', Number(match[3]));
  }
  return found;
}

function startedBody(rtmsStreamId: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    event: 'meeting.rtms_started',
    event_ts: Date.now(),
    // Port 9 (discard) refuses on 127.0.0.1: the stream keeps trying until stopped.
    payload: { meeting_uuid: 'hostile-meeting==', rtms_stream_id: rtmsStreamId, server_urls: 'ws://127.0.0.1:9', ...overrides },
  };
}

describe("HTTP_MAX_CONNECTIONS: idle connections cannot take the sinks' descriptors", () => {
  const sockets: Socket[] = [];
  afterEach(() => {
    for (const socket of sockets.splice(0)) socket.destroy();
  });

  it('1,000 idle connections under a lowered open-files limit: the cap holds, a new webhook is answered, both streams keep every frame', async () => {
    const cap = 40;
    const rig = await rigWith({ HTTP_MAX_CONNECTIONS: String(cap) });
    const pid = rig.connector.pid!;
    const running = await rig.simulator.startStream({ product: 'meeting', durationMs: 6000 });
    await running.whenReady();

    // Room for what the connector holds now, the cap, and a second stream's files and
    // sockets; far below the 1,000 connections about to be opened.
    const fdsBefore = (await readdir(`/proc/${pid}/fd`)).length;
    const limit = fdsBefore + cap + 60;
    execFileSync('prlimit', ['--pid', String(pid), `--nofile=${limit}:${limit}`]);

    let closedByServer = 0;
    const flood = 1000;
    await Promise.all(
      Array.from(
        { length: flood },
        () =>
          new Promise<void>((resolve) => {
            const socket = connect({ host: '127.0.0.1', port: rig.connector.port }, resolve);
            socket.on('error', resolve);
            socket.on('close', () => (closedByServer += 1));
            sockets.push(socket);
          }),
      ),
    );
    // Every connection past the cap closed an idle one; `cap` of ours may still be open.
    await until(`${flood - cap} idle connections closed by the connector (${closedByServer} so far)`, () => closedByServer >= flood - cap);
    const fdsDuring = (await readdir(`/proc/${pid}/fd`)).length;
    // The connector's own: what it held before, the cap, and the files the stream opened meanwhile.
    expect(fdsDuring).toBeLessThanOrEqual(fdsBefore + cap + 20);

    // A genuine webhook, while idle connections fill the cap: startStream resolves only on a 2xx.
    const second = await rig.simulator.startStream({ product: 'webinar', durationMs: 2000 });
    await second.whenReady();

    await Promise.all([waitUntilEnded(rig, running), waitUntilEnded(rig, second)]);
    for (const stream of [running, second]) {
      await expectAudioIdentical(rig, stream);
      const media = await expectEveryFrameAccounted(rig, stream);
      for (const counters of Object.values(media)) expect(counters.framesDropped['sink_error'] ?? 0).toBe(0);
    }
    const dropped = await samples(rig, 'rtms_http_connections_dropped_total');
    expect(dropped.get('{reason="idle_evicted"}')).toBeGreaterThanOrEqual(flood - cap);
    expect((await samples(rig, 'rtms_http_connections')).get('')).toBeLessThanOrEqual(cap);
    process.stdout.write(
      `connection cap ${cap}: fds before ${fdsBefore}, during the flood ${fdsDuring}, limit ${limit}; idle_evicted ${dropped.get('{reason="idle_evicted"}')}\n`,
    );
  }, 60_000);

  it('connections dribbling a webhook body fill the cap: the oldest gives way and a genuine webhook is answered', async () => {
    const cap = 8;
    const rig = await rigWith({ HTTP_MAX_CONNECTIONS: String(cap) });
    let closedByServer = 0;
    // Headers for a 60 KB body, then 10 bytes: each one is a request in flight for up to 30 s.
    // `expect: 100-continue` makes the connector say when it has taken the request in.
    await Promise.all(
      Array.from(
        { length: cap },
        () =>
          new Promise<void>((resolve, reject) => {
            const socket = connect({ host: '127.0.0.1', port: rig.connector.port }, () => {
              socket.write('POST /webhook HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 60000\r\nexpect: 100-continue\r\n\r\n');
            });
            socket.once('data', (chunk: Buffer) => {
              if (!chunk.toString().startsWith('HTTP/1.1 100 Continue')) reject(new Error(`unexpected answer ${chunk.toString()}`));
              else socket.write('{"event":', () => resolve());
            });
            socket.on('error', reject);
            socket.on('close', () => (closedByServer += 1));
            sockets.push(socket);
          }),
      ),
    );
    expect(closedByServer).toBe(0);
    const stream = await rig.simulator.startStream({ product: 'meeting', durationMs: 1000 });
    await waitUntilEnded(rig, stream);
    await expectAudioIdentical(rig, stream);
    expect(closedByServer).toBeGreaterThan(0);
    const dropped = await samples(rig, 'rtms_http_connections_dropped_total');
    expect(dropped.get('{reason="upload_evicted"}')).toBeGreaterThan(0);
    expect(dropped.get('{reason="all_busy"}')).toBe(0);
  }, 30_000);
});

describe('webhooks: signature first, bounded ids, bounded dedup store, distinct directories, bounded labels', () => {
  let rig: Rig;
  beforeAll(async () => {
    rig = await rigWith({ WEBHOOK_DEDUP_MAX_BYTES: String(64 * 1024) });
  });

  it('an unsigned body is not parsed: a 64 KB nested URL challenge is 401 while a small one is answered; invalid JSON is 401 unsigned, 400 signed', async () => {
    const plainToken = 'qgg8vlvZRS6UYooatFL8Aw';
    const small = await rig.simulator.sendWebhook({ event: 'endpoint.url_validation', event_ts: Date.now(), payload: { plainToken } }, { unsigned: true });
    expect(small.status).toBe(200);
    expect(JSON.parse(small.body)).toMatchObject({ plainToken });

    // The same challenge with 32,000 levels of nesting after it: answering it would take a parse.
    const depth = 32_000;
    const nested = `{"event":"endpoint.url_validation","payload":{"plainToken":"${plainToken}"},"pad":${'['.repeat(depth)}${']'.repeat(depth)}}`;
    expect(nested.length).toBeLessThan(65_536);
    const deep = await rig.simulator.sendWebhook(nested, { unsigned: true });
    expect(deep.status).toBe(401);
    expect(JSON.parse(deep.body)).toEqual({ error: 'WEBHOOK_SIGNATURE_INVALID', reason: 'x-zm-signature: missing' });

    const forged = await rig.simulator.sendWebhook(nested, { secretToken: 'not-the-secret' });
    expect(forged.status).toBe(401);
    expect((await rig.simulator.sendWebhook('{"event": [[[', { unsigned: true })).status).toBe(401);
    const signedInvalid = await rig.simulator.sendWebhook('{"event": [[[');
    expect(signedInvalid.status).toBe(400);
    expect(JSON.parse(signedInvalid.body)).toEqual({ error: 'WEBHOOK_BODY_INVALID', reason: 'body: expected JSON, got invalid JSON' });
  });

  it('5,000-character ids are refused with 400 naming the field; nothing is admitted', async () => {
    const long = 'x'.repeat(5000);
    const cases: Array<[Record<string, unknown>, string]> = [
      [startedBody(long), 'payload.rtms_stream_id'],
      [startedBody('ok-stream-id', { meeting_uuid: long }), 'payload.meeting_uuid'],
      [startedBody('ok-stream-id', { operator_id: long }), 'payload.operator_id'],
      [
        { event: 'meeting.rtms_stopped', event_ts: Date.now(), payload: { meeting_uuid: 'm==', rtms_stream_id: long, stop_reason: 1 } },
        'payload.rtms_stream_id',
      ],
    ];
    for (const [body, field] of cases) {
      const answer = await rig.simulator.sendWebhook(body);
      expect(answer.status).toBe(400);
      expect(JSON.parse(answer.body)).toEqual({ error: 'WEBHOOK_BODY_INVALID', reason: `${field}: expected at most 256 characters, got 5000` });
    }
    expect((await rig.connector.admin('/streams/ok-stream-id')).status).toBe(404);
  });

  it('the dedup store stays within WEBHOOK_DEDUP_MAX_BYTES and counts what it forgets', async () => {
    const capacity = (64 * 1024) / DEDUP_ENTRY_BYTES;
    const sent = capacity + 100;
    // rtms_stopped for unknown streams: answered 200 and remembered, with ids at the cap.
    for (let i = 0; i < sent; i++) {
      const body = {
        event: 'meeting.rtms_stopped',
        event_ts: Date.now(),
        payload: { meeting_uuid: 'm==', rtms_stream_id: `${i}-${'s'.repeat(250)}`, stop_reason: 1 },
      };
      const answer = await rig.simulator.sendWebhook(body);
      expect(answer.status).toBe(200);
    }
    expect((await samples(rig, 'rtms_webhook_dedup_bytes')).get('')).toBe(64 * 1024);
    expect((await samples(rig, 'rtms_webhook_dedup_evictions_total')).get('')).toBe(sent - capacity);
  });

  it('two ids that shared a directory under the old 32-bit hash get their own directories and keep all their audio', async () => {
    const [a, b] = oldHashCollision();
    expect(oldName(a)).toBe(oldName(b));
    expect(fileSafeId(a)).not.toBe(fileSafeId(b));
    const streams = await Promise.all([a, b].map((rtmsStreamId) => rig.simulator.startStream({ rtmsStreamId, durationMs: 2000 })));
    await Promise.all(streams.map((stream) => waitUntilEnded(rig, stream)));
    for (const stream of streams) {
      await expectAudioIdentical(rig, stream);
      const streamJson = JSON.parse(await readFile(join(rig.streamDir(stream), 'stream.json'), 'utf8')) as Record<string, unknown>;
      expect(streamJson).toMatchObject({ rtmsStreamId: stream.rtmsStreamId, state: 'ended' });
      expect(streamJson['sink']).toMatchObject({ state: 'closed' });
      expect((streamJson['sink'] as Record<string, unknown>)['error']).toBeUndefined();
    }
  }, 30_000);

  it('100 made-up stop reasons add no Prometheus series: rtms_streams_ended_total stays within 40 reason values', async () => {
    const ids = Array.from({ length: 100 }, (_, i) => `made-up-reason-${i}`);
    for (const id of ids) expect((await rig.simulator.sendWebhook(startedBody(id))).status).toBe(200);
    for (const id of ids) await rig.connector.waitForStream(id, () => true);
    for (const [i, id] of ids.entries()) {
      const body = {
        event: 'meeting.rtms_stopped',
        event_ts: Date.now(),
        payload: { meeting_uuid: 'hostile-meeting==', rtms_stream_id: id, stop_reason: 1_000_000 + i },
      };
      expect((await rig.simulator.sendWebhook(body)).status).toBe(200);
    }
    const other = '{product="meeting",state="ended",reason="other"}';
    await until('100 streams ended', async () => ((await samples(rig, 'rtms_streams_ended_total')).get(other) ?? 0) >= 100);
    const series = await samples(rig, 'rtms_streams_ended_total');
    const reasons = new Set([...series.keys()].map((labels) => /reason="([^"]*)"/.exec(labels)?.[1]));
    expect(reasons.size).toBeLessThanOrEqual(40);
    expect(series.get(other)).toBe(100);
    // The exact number is still kept where a person reads it.
    const one = (await rig.connector.admin(`/streams/${ids[7]}`)).body['stream'] as Record<string, unknown>;
    expect(one['stop']).toEqual({ reason: 1_000_007, name: 'UNKNOWN_1000007' });
  }, 60_000);
});

describe('ADMIN_TOKEN', () => {
  it('shorter than 32 characters: start-up stops with exit code 2 and one line naming the variable', async () => {
    const outputDir = await mkdtemp(join(tmpdir(), 'rtms-short-token-'));
    const credentials = randomCredentials();
    const child = spawn(process.execPath, [fileURLToPath(new URL('../../src/main.ts', import.meta.url))], {
      env: {
        PATH: process.env['PATH'] ?? '',
        ZM_RTMS_CLIENT: credentials.clientId,
        ZM_RTMS_SECRET: credentials.clientSecret,
        ZM_WEBHOOK_SECRET_TOKEN: credentials.webhookSecretToken,
        ADMIN_TOKEN: 'short-admin-token',
        OUTPUT_DIR: outputDir,
        PORT: '0',
        HOST: '127.0.0.1',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('close', (exitCode) => resolve(exitCode)));
    await rm(outputDir, { recursive: true, force: true });
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toBe('config: ADMIN_TOKEN: expected at least 32 characters (e.g. openssl rand -hex 16), or unset to disable the admin API\n');
  });

  it('repeated 401s from one address are answered 429 before the token is looked at; another address still gets its 401', async () => {
    const rig = await rigWith({});
    const LIVE_UPGRADE = 'connection: upgrade\r\nupgrade: websocket\r\nsec-websocket-version: 13\r\nsec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\n';
    const attempt = (localAddress: string, token: string, target: 'admin' | 'live' = 'admin'): Promise<number> =>
      new Promise((resolve, reject) => {
        // Raw HTTP/1.1 over a socket bound to `localAddress` (127.0.0.0/8 is all loopback).
        const request =
          target === 'admin'
            ? `GET /streams HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${token}\r\nconnection: close\r\n\r\n`
            : `GET /streams/any/live HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${token}\r\n${LIVE_UPGRADE}\r\n`;
        const socket = connect({ host: '127.0.0.1', port: rig.connector.port, localAddress }, () => socket.end(request));
        let answer = '';
        socket.on('data', (chunk: Buffer) => (answer += chunk.toString()));
        socket.on('error', reject);
        socket.on('close', () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1])));
      });
    const started = Date.now();
    const statuses: number[] = [];
    for (let i = 0; i < 40; i++) statuses.push(await attempt('127.0.0.1', `guess-${i}`));
    const elapsedSeconds = (Date.now() - started) / 1000;
    expect(statuses.slice(0, AUTH_FAILURE_BURST)).toEqual(Array(AUTH_FAILURE_BURST).fill(401));
    // One attempt comes back per second; everything else past the burst is 429.
    const unauthorized = statuses.filter((status) => status === 401).length;
    expect(unauthorized).toBeLessThanOrEqual(AUTH_FAILURE_BURST + Math.ceil(elapsedSeconds) + 1);
    expect(statuses.filter((status) => status !== 401 && status !== 429)).toEqual([]);
    // The right token from the slowed address is refused too (guessing gains nothing) …
    expect(await attempt('127.0.0.1', 'admin-token-for-tests-0123456789abcdef')).toBe(429);
    // … on the live feed as well, which shares the table …
    expect(await attempt('127.0.0.1', 'live-guess', 'live')).toBe(429);
    // … while another address is unaffected.
    expect(await attempt('127.0.0.2', 'another-guess')).toBe(401);
    expect(await attempt('127.0.0.2', 'admin-token-for-tests-0123456789abcdef')).toBe(200);
    expect((await samples(rig, 'rtms_admin_auth_rate_limited_total')).get('')).toBeGreaterThanOrEqual(40 - unauthorized + 2);
  });
});
