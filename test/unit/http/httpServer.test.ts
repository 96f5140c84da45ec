import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { StreamControl } from '../../../src/http/adminRoutes.ts';
import { AUTH_FAILURE_BURST } from '../../../src/http/authFailureLimiter.ts';
import { createHttpServer, type HttpServer, type HttpServerOptions } from '../../../src/http/httpServer.ts';
import type { StreamSnapshot } from '../../../src/http/streamSnapshot.ts';
import { MAX_UNSIGNED_BODY_BYTES, type RtmsWebhookEvent } from '../../../src/http/webhookHandler.ts';
import { createLogger } from '../../../src/logger.ts';
import { urlValidationToken } from '../../../src/rtms/signature.ts';
import type { StreamStats } from '../../../src/vocabulary/streamStats.ts';
import { example, MEETING_UUID, signedHeaders, STREAM_ID } from './webhookFixtures.ts';

const SECRET = 'wh-secret-token-5f1c9e';
const ADMIN_TOKEN = 'admin-token-9b7d2a';
const NOW_MS = 1_730_000_100_000;
const NOW_S = NOW_MS / 1000;
const MAX_BODY = 2048;

function stats(overrides: Partial<StreamStats> = {}): StreamStats {
  return {
    rtmsStreamId: STREAM_ID,
    product: 'meeting',
    entityId: MEETING_UUID,
    state: 'live',
    createdAt: NOW_MS - 60_000,
    liveAt: NOW_MS - 59_000,
    endedAt: undefined,
    stopReason: undefined,
    stopReasonName: undefined,
    failure: undefined,
    reconnects: 1,
    rejoins: { 'full/interrupted_webhook': 1 },
    bufferedBytes: 0,
    media: {
      audio: { framesReceived: 100, bytesReceived: 64_000, framesWritten: 97, bytesWritten: 62_080, framesDropped: { excluded: 2, malformed: 1 } },
    },
    audioSeconds: 59.5,
    participants: [
      { userId: '16778240', userName: 'Ada', joinedAt: NOW_MS - 50_000, leftAt: undefined, speaking: true },
      { userId: '16779264', userName: undefined, joinedAt: undefined, leftAt: undefined, speaking: false },
      { userId: '16780288', userName: 'Bob', joinedAt: NOW_MS - 40_000, leftAt: NOW_MS - 10_000, speaking: false },
    ],
    participantCounts: { joined: 3, present: 2, speaking: 1, notKept: 0 },
    files: ['stream.json', 'events.jsonl', 'audio.wav'],
    fileCount: 3,
    sink: { state: 'ok', lastError: { file: 'audio.wav', code: 'ENOSPC', at: NOW_MS - 30_000 } },
    ...overrides,
  };
}

/** In-memory control plane: records what the admin API asked for. */
class RecordingStreams implements StreamControl {
  readonly streams = new Map<string, StreamStats>();
  readonly closed: string[] = [];
  readonly excluded: [string, string][] = [];
  list(): StreamStats[] {
    return [...this.streams.values()];
  }
  get(id: string): StreamStats | undefined {
    return this.streams.get(id);
  }
  close(id: string): boolean {
    if (!this.streams.has(id)) return false;
    this.closed.push(id);
    return true;
  }
  excludeParticipant(id: string, userId: string): boolean {
    if (!this.streams.has(id)) return false;
    this.excluded.push([id, userId]);
    return true;
  }
}

interface Harness {
  readonly url: string;
  readonly server: HttpServer;
  readonly webhooks: RtmsWebhookEvent[];
  readonly outcomes: [string, string | undefined][];
  readonly logs: string[];
  readonly streams: RecordingStreams;
  readonly ready: { value: boolean };
  /** Resolves once `n` webhooks have been dispatched. */
  webhookCount(n: number): Promise<void>;
  /** Resolves once `n` outcomes have been reported. */
  outcomeCount(n: number): Promise<void>;
}

const running: HttpServer[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((server) => server.destroy()));
});

async function start(overrides: Partial<HttpServerOptions> = {}): Promise<Harness> {
  const webhooks: RtmsWebhookEvent[] = [];
  const outcomes: [string, string | undefined][] = [];
  const logs: string[] = [];
  const streams = new RecordingStreams();
  const ready = { value: true };
  const waiters: { check: () => boolean; resolve: () => void }[] = [];
  const notify = (): void => {
    for (const waiter of [...waiters]) {
      if (waiter.check()) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    }
  };
  const waitUntil = (check: () => boolean): Promise<void> => (check() ? Promise.resolve() : new Promise((resolve) => waiters.push({ check, resolve })));

  const server = createHttpServer({
    http: {
      host: '127.0.0.1',
      port: 0,
      webhookPath: '/webhook',
      webhookMaxBodyBytes: MAX_BODY,
      webhookToleranceSeconds: 300,
      maxConnections: 64,
      webhookDedupMaxBytes: 1024 * 1024,
    },
    webhookSecretToken: SECRET,
    adminToken: ADMIN_TOKEN,
    clock: { now: () => NOW_MS },
    logger: createLogger({ level: 'trace', destination: { write: (line: string) => void logs.push(line) } }),
    onWebhook: (event) => {
      webhooks.push(event);
      notify();
    },
    onOutcome: (outcome, reason) => {
      outcomes.push([outcome, reason]);
      notify();
    },
    isReady: () => ready.value,
    metrics: () => Promise.resolve({ contentType: 'text/plain; version=0.0.4; charset=utf-8', body: 'rtms_up 1\n' }),
    streams,
    ...overrides,
  });
  running.push(server);
  const { port } = await server.listen();
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    webhooks,
    outcomes,
    logs,
    streams,
    ready,
    webhookCount: (n) => waitUntil(() => webhooks.length >= n),
    outcomeCount: (n) => waitUntil(() => outcomes.length >= n),
  };
}

function post(h: Harness, body: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${h.url}/webhook`, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });
}

function postSigned(h: Harness, body: unknown, timestampSeconds = NOW_S): Promise<Response> {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  return post(h, text, signedHeaders({ secretToken: SECRET, body: text, timestampSeconds }));
}

/** `token` null sends no authorization header. */
function admin(h: Harness, path: string, init: RequestInit = {}, token: string | null = ADMIN_TOKEN): Promise<Response> {
  const headers: Record<string, string> = token === null ? {} : { authorization: `Bearer ${token}` };
  return fetch(`${h.url}${path}`, { ...init, headers: { ...headers, ...(init.headers as Record<string, string> | undefined) } });
}

describe('POST /webhook: endpoint.url_validation', () => {
  it('answers {plainToken, encryptedToken} without a signature', async () => {
    const h = await start();
    const body = JSON.stringify({ event: 'endpoint.url_validation', event_ts: NOW_MS, payload: { plainToken: 'qgg8vlvZRS6UYooatFL8Aw' } });
    const response = await post(h, body);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('application/json');
    expect(await response.json()).toEqual({
      plainToken: 'qgg8vlvZRS6UYooatFL8Aw',
      encryptedToken: urlValidationToken({ secretToken: SECRET, plainToken: 'qgg8vlvZRS6UYooatFL8Aw' }),
    });
    await h.outcomeCount(1);
    expect(h.outcomes).toEqual([['accepted', undefined]]);
    expect(h.webhooks).toEqual([]);
  });

  it('refuses a malformed challenge with 400 and a reason', async () => {
    const h = await start();
    const response = await post(h, JSON.stringify({ event: 'endpoint.url_validation', payload: { plainToken: 5 } }));
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ error: 'WEBHOOK_BODY_INVALID', reason: 'payload.plainToken: expected a non-empty string, got number' });
  });

  it('refuses to sign a webhook signature base string (no HMAC oracle)', async () => {
    const h = await start();
    // Short enough to pass the length cap: only the "v0:" rule stops this forgery.
    const forgedBody = JSON.stringify({ event: 'meeting.rtms_stopped', event_ts: NOW_MS, payload: { meeting_uuid: 'm', rtms_stream_id: 's', stop_reason: 1 } });
    const plainToken = `v0:${NOW_S}:${forgedBody}`;
    const response = await post(h, JSON.stringify({ event: 'endpoint.url_validation', payload: { plainToken } }));
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ error: 'WEBHOOK_BODY_INVALID', reason: 'payload.plainToken: must not start with "v0:"' });
  });

  it('a signed challenge is answered; an unsigned one over MAX_UNSIGNED_BODY_BYTES is not even parsed (401)', async () => {
    const h = await start();
    const challenge = { event: 'endpoint.url_validation', event_ts: NOW_MS, payload: { plainToken: 'qgg8vlvZRS6UYooatFL8Aw' } };
    const signed = await postSigned(h, challenge);
    expect(signed.status).toBe(200);
    expect(((await signed.json()) as { plainToken: string }).plainToken).toBe('qgg8vlvZRS6UYooatFL8Aw');
    // The same challenge padded past the limit: answering it would need a parse.
    const padded = JSON.stringify({ ...challenge, pad: ' '.repeat(MAX_UNSIGNED_BODY_BYTES) });
    const unsigned = await post(h, padded);
    expect(unsigned.status).toBe(401);
    expect(await unsigned.json()).toEqual({ error: 'WEBHOOK_SIGNATURE_INVALID', reason: 'x-zm-signature: missing' });
  });
});

describe('POST /webhook: verification and parsing', () => {
  it('401 for a forged signature, 401 without one', async () => {
    const h = await start();
    const body = JSON.stringify(example('meeting.rtms_started'));
    const forged = await post(h, body, signedHeaders({ secretToken: 'not-the-secret', body, timestampSeconds: NOW_S }));
    expect(forged.status).toBe(401);
    expect(await forged.json()).toEqual({ error: 'WEBHOOK_SIGNATURE_INVALID', reason: 'x-zm-signature: does not match the request body and timestamp' });
    const unsigned = await post(h, body);
    expect(unsigned.status).toBe(401);
    expect(await unsigned.json()).toEqual({ error: 'WEBHOOK_SIGNATURE_INVALID', reason: 'x-zm-signature: missing' });
    await h.outcomeCount(2);
    expect(h.outcomes).toEqual([
      ['rejected', 'WEBHOOK_SIGNATURE_INVALID'],
      ['rejected', 'WEBHOOK_SIGNATURE_INVALID'],
    ]);
    expect(h.webhooks).toEqual([]);
  });

  it('401 for a stale timestamp', async () => {
    const h = await start();
    const response = await postSigned(h, example('meeting.rtms_started'), NOW_S - 301);
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({ error: 'WEBHOOK_TIMESTAMP_STALE', reason: 'x-zm-request-timestamp: 301 s in the past, allowed ±300 s' });
  });

  it('checks the signature before the body: unsigned invalid JSON is 401, signed invalid JSON is 400', async () => {
    const h = await start();
    expect((await post(h, '{not json')).status).toBe(401);
    const signed = await postSigned(h, '{not json');
    expect(signed.status).toBe(400);
    expect(await signed.json()).toEqual({ error: 'WEBHOOK_BODY_INVALID', reason: 'body: expected JSON, got invalid JSON' });
  });

  it('400 with the field named for a malformed event', async () => {
    const h = await start();
    const response = await postSigned(h, example('meeting.rtms_started', { rtms_stream_id: 42 }));
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      error: 'WEBHOOK_BODY_INVALID',
      reason: 'payload.rtms_stream_id: expected a non-empty string, got number',
    });
    await h.outcomeCount(1);
    expect(h.outcomes).toEqual([['rejected', 'WEBHOOK_BODY_INVALID']]);
  });

  it('400 WEBHOOK_EVENT_UNKNOWN naming the event', async () => {
    const h = await start();
    const response = await postSigned(h, { event: 'meeting.participant_joined', event_ts: NOW_MS, payload: {} });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ error: 'WEBHOOK_EVENT_UNKNOWN', reason: 'event: unknown event "meeting.participant_joined"' });
  });

  it('413 when content-length is over the limit, without reading the body', async () => {
    const h = await start();
    const response = await post(h, 'x'.repeat(100_000));
    expect(response.status).toBe(413);
    expect(response.headers.get('connection')).toBe('close');
    expect(await response.json()).toEqual({ error: 'WEBHOOK_BODY_TOO_LARGE', reason: `body: larger than ${MAX_BODY} bytes` });
    await h.outcomeCount(1);
    expect(h.outcomes).toEqual([['rejected', 'WEBHOOK_BODY_TOO_LARGE']]);
  });

  it('413 for a chunked body that grows past the limit', async () => {
    const h = await start();
    let sent = 0;
    const chunk = new Uint8Array(16 * 1024).fill(0x20);
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= 4 * 1024 * 1024) return controller.close();
        sent += chunk.length;
        controller.enqueue(chunk);
      },
    });
    const response = await fetch(`${h.url}/webhook`, { method: 'POST', body, duplex: 'half' });
    expect(response.status).toBe(413);
    expect(await response.json()).toMatchObject({ error: 'WEBHOOK_BODY_TOO_LARGE' });
    // The server still serves afterwards.
    expect((await fetch(`${h.url}/healthz`)).status).toBe(200);
  });

  it('accepts a body exactly at the limit', async () => {
    const h = await start();
    const base = JSON.stringify(example('meeting.rtms_interrupted'));
    const padded = base.slice(0, -1) + ' '.repeat(MAX_BODY - base.length) + '}';
    expect(Buffer.byteLength(padded)).toBe(MAX_BODY);
    expect((await postSigned(h, padded)).status).toBe(200);
  });

  it('405 for other methods on the webhook path, 404 for unknown paths', async () => {
    const h = await start();
    const get = await fetch(`${h.url}/webhook`);
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
    expect(await get.json()).toEqual({ error: 'METHOD_NOT_ALLOWED', reason: 'method GET not allowed here' });
    const unknown = await fetch(`${h.url}/nope`, { method: 'POST', body: '{}' });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toEqual({ error: 'ROUTE_NOT_FOUND', reason: 'no such route' });
  });
});

describe('POST /webhook: acknowledgement, dispatch and dedup', () => {
  it('answers 200 accepted before onWebhook runs, and onWebhook never delays the answer', async () => {
    let openGate!: () => void;
    const gate = new Promise<void>((resolve) => (openGate = resolve));
    const seen: RtmsWebhookEvent[] = [];
    let handlerFinished!: () => void;
    const finished = new Promise<void>((resolve) => (handlerFinished = resolve));
    const h = await start({
      // Blocks until the test has its answer: if the server waited for onWebhook before
      // answering, this test would deadlock instead of passing.
      onWebhook: async (event) => {
        seen.push(event);
        await gate;
        handlerFinished();
      },
    });
    const response = await postSigned(h, example('meeting.rtms_started'));
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'accepted' });
    openGate();
    await finished;
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ kind: 'started', start: { rtmsStreamId: STREAM_ID, signalingUrl: 'wss://127.0.0.1:443' } });
  });

  it('a failing onWebhook does not affect the answer or the server', async () => {
    const h = await start({
      onWebhook: () => {
        throw new Error('supervisor exploded');
      },
    });
    expect((await postSigned(h, example('meeting.rtms_stopped'))).status).toBe(200);
    expect((await fetch(`${h.url}/healthz`)).status).toBe(200);
  });

  it('a retried delivery is 200 duplicate and not dispatched again; a failover is dispatched', async () => {
    const h = await start();
    const body = example('meeting.rtms_started');
    expect(await (await postSigned(h, body)).json()).toEqual({ status: 'accepted' });
    await h.webhookCount(1);

    // Zoom's retry: same body, signed again later.
    const retry = await postSigned(h, body, NOW_S + 30);
    expect(retry.status).toBe(200);
    expect(await retry.json()).toEqual({ status: 'duplicate' });

    // Failover: same stream, new server_urls.
    const failover = example('meeting.rtms_started', { server_urls: 'wss://10.0.0.2:443' });
    expect(await (await postSigned(h, failover)).json()).toEqual({ status: 'accepted' });
    await h.webhookCount(2);
    // Dispatch is FIFO, so had the retry been dispatched it would sit between the two.
    expect(h.webhooks.map((e) => e.kind === 'started' && e.start.serverUrls)).toEqual(['wss://127.0.0.1:443', 'wss://10.0.0.2:443']);
    await h.outcomeCount(3);
    expect(h.outcomes).toEqual([
      ['accepted', undefined],
      ['duplicate', undefined],
      ['accepted', undefined],
    ]);
  });

  it('while draining, a new stream gets 503 and its key stays unclaimed; other events still go through', async () => {
    const h = await start();
    h.ready.value = false;
    const started = example('meeting.rtms_started');
    const refused = await postSigned(h, started);
    expect(refused.status).toBe(503);
    expect(await refused.json()).toMatchObject({ error: 'WEBHOOK_NOT_ACCEPTING' });
    expect(await (await postSigned(h, example('meeting.rtms_stopped'))).json()).toEqual({ status: 'accepted' });
    await h.webhookCount(1);
    expect(h.webhooks.map((event) => event.kind)).toEqual(['stopped']);

    // Zoom's retry after the instance is ready again (or at another replica) is accepted, not a duplicate.
    h.ready.value = true;
    expect(await (await postSigned(h, started, NOW_S + 60)).json()).toEqual({ status: 'accepted' });
    await h.webhookCount(2);
    expect(h.outcomes[0]).toEqual(['rejected', 'WEBHOOK_NOT_ACCEPTING']);
  });

  it('acceptsStart decides per stream: a stream running here may move while new ones get 503', async () => {
    const asked: string[] = [];
    const h = await start({
      acceptsStart: (rtmsStreamId) => {
        asked.push(rtmsStreamId);
        return rtmsStreamId === STREAM_ID;
      },
    });
    h.ready.value = false;
    const other = await postSigned(h, example('meeting.rtms_started', { rtms_stream_id: 'another-stream-0123456789abcdef' }));
    expect(other.status).toBe(503);
    expect(await other.json()).toMatchObject({ error: 'WEBHOOK_NOT_ACCEPTING' });
    expect(await (await postSigned(h, example('meeting.rtms_started'))).json()).toEqual({ status: 'accepted' });
    await h.webhookCount(1);
    expect(asked).toEqual(['another-stream-0123456789abcdef', STREAM_ID]);
  });

  it('fails open when the deduplicator is down', async () => {
    const h = await start({ deduplicator: { claim: () => Promise.reject(new Error('redis down')) } });
    expect(await (await postSigned(h, example('webinar.rtms_interrupted'))).json()).toEqual({ status: 'accepted' });
    await h.webhookCount(1);
  });

  it('survives a client that disconnects mid-body', async () => {
    const h = await start();
    const { port } = h.server.address!;
    await new Promise<void>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.write('POST /webhook HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{"event":');
        socket.destroy();
        resolve();
      });
      socket.on('error', reject);
    });
    await h.outcomeCount(1);
    expect(h.outcomes).toEqual([['rejected', 'REQUEST_ABORTED']]);
    expect((await fetch(`${h.url}/healthz`)).status).toBe(200);
  });

  it('never logs the body, the signature, the secret or the admin token', async () => {
    const h = await start();
    const body = JSON.stringify(example('meeting.rtms_started', { operator_id: 'operator-marker-77' }));
    const headers = signedHeaders({ secretToken: SECRET, body, timestampSeconds: NOW_S });
    expect((await post(h, body, headers)).status).toBe(200);
    expect((await post(h, body.replace('7', '8'), headers)).status).toBe(401);
    expect((await admin(h, '/streams')).status).toBe(200);
    await h.webhookCount(1);
    const logs = h.logs.join('\n');
    expect(logs).toContain('"event":"meeting.rtms_started"');
    expect(logs).toContain(`"rtmsStreamId":"${STREAM_ID}"`);
    expect(logs).toContain('"outcome":"accepted"');
    expect(logs).toContain('"code":"WEBHOOK_SIGNATURE_INVALID"');
    for (const secret of [SECRET, ADMIN_TOKEN, headers['x-zm-signature']!.slice(3), 'operator-marker-77', MEETING_UUID]) {
      expect(logs).not.toContain(secret);
    }
  });
});

describe('probes and metrics', () => {
  it('GET /healthz is 200 ok; HEAD works too', async () => {
    const h = await start();
    const response = await fetch(`${h.url}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
    expect((await fetch(`${h.url}/healthz`, { method: 'HEAD' })).status).toBe(200);
    expect((await fetch(`${h.url}/healthz`, { method: 'POST' })).status).toBe(405);
  });

  it('GET /readyz follows isReady()', async () => {
    const h = await start();
    const ready = await fetch(`${h.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready' });
    h.ready.value = false;
    const draining = await fetch(`${h.url}/readyz`);
    expect(draining.status).toBe(503);
    expect(await draining.json()).toEqual({ status: 'not_ready' });
  });

  it('GET /metrics serves the provided text and content type', async () => {
    const h = await start();
    const response = await fetch(`${h.url}/metrics?x=1`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(await response.text()).toBe('rtms_up 1\n');
  });

  it('an exception becomes 500 without internals', async () => {
    const h = await start({ metrics: () => Promise.reject(new Error('registry at /secret/path broke')) });
    const response = await fetch(`${h.url}/metrics`);
    expect(response.status).toBe(500);
    expect(await response.json()).toEqual({ error: 'INTERNAL_ERROR', reason: 'internal error' });
  });
});

describe('admin API', () => {
  it('401 without a token, with a wrong token, or with another scheme', async () => {
    const h = await start();
    h.streams.streams.set(STREAM_ID, stats());
    const none = await admin(h, '/streams', {}, null);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toContain('Bearer');
    expect(await none.json()).toEqual({ error: 'ADMIN_UNAUTHORIZED', reason: 'authorization: missing bearer token' });
    const wrong = await admin(h, `/streams/${STREAM_ID}`, {}, 'admin-token-9b7d2b');
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toEqual({ error: 'ADMIN_UNAUTHORIZED', reason: 'authorization: invalid bearer token' });
    const basic = await fetch(`${h.url}/streams`, { headers: { authorization: `Basic ${ADMIN_TOKEN}` } });
    expect(basic.status).toBe(401);
    const del = await admin(h, `/streams/${STREAM_ID}`, { method: 'DELETE' }, 'short');
    expect(del.status).toBe(401);
    expect(h.streams.closed).toEqual([]);
  });

  it('after AUTH_FAILURE_BURST 401s an address gets 429 with retry-after, even with the right token', async () => {
    const h = await start();
    for (let i = 0; i < AUTH_FAILURE_BURST; i++) expect((await admin(h, '/streams', {}, 'wrong')).status).toBe(401);
    const limited = await admin(h, '/streams');
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('1');
    expect(await limited.json()).toEqual({ error: 'ADMIN_RATE_LIMITED', reason: 'too many failed attempts from this address; retry later' });
  });

  it('every route answers 401 when ADMIN_TOKEN is unset', async () => {
    const h = await start({ adminToken: undefined });
    h.streams.streams.set(STREAM_ID, stats());
    for (const [path, method] of [
      ['/streams', 'GET'],
      [`/streams/${STREAM_ID}`, 'GET'],
      [`/streams/${STREAM_ID}`, 'DELETE'],
      [`/streams/${STREAM_ID}/participants/1`, 'DELETE'],
    ] as const) {
      const response = await admin(h, path, { method }, 'anything');
      expect(response.status).toBe(401);
      expect(await response.json()).toEqual({ error: 'ADMIN_UNAUTHORIZED', reason: 'admin API disabled: ADMIN_TOKEN is not set' });
    }
    expect(h.streams.closed).toEqual([]);
  });

  it('GET /streams lists snapshots, oldest first', async () => {
    const h = await start();
    h.streams.streams.set('b', stats({ rtmsStreamId: 'b', createdAt: NOW_MS - 1000 }));
    h.streams.streams.set('a', stats({ rtmsStreamId: 'a', createdAt: NOW_MS - 5000 }));
    const response = await admin(h, '/streams');
    expect(response.status).toBe(200);
    const body = (await response.json()) as { streams: StreamSnapshot[] };
    expect(body.streams.map((s) => s.rtmsStreamId)).toEqual(['a', 'b']);
  });

  it('GET /streams/{id} answers the snapshot shape', async () => {
    const h = await start();
    h.streams.streams.set(STREAM_ID, stats());
    const response = await admin(h, `/streams/${STREAM_ID}`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      stream: {
        rtmsStreamId: STREAM_ID,
        product: 'meeting',
        entityId: MEETING_UUID,
        state: 'live',
        active: true,
        createdAt: NOW_MS - 60_000,
        liveAt: NOW_MS - 59_000,
        endedAt: null,
        durationMs: 60_000,
        stop: null,
        failure: null,
        reconnects: 1,
        rejoins: { 'full/interrupted_webhook': 1 },
        bufferedBytes: 0,
        participants: {
          joined: 3,
          present: 2,
          speaking: 1,
          notKept: 0,
          list: [
            { userId: '16779264', userName: null, state: 'present', joinedAt: null, leftAt: null, speaking: false },
            { userId: '16778240', userName: 'Ada', state: 'present', joinedAt: NOW_MS - 50_000, leftAt: null, speaking: true },
            { userId: '16780288', userName: 'Bob', state: 'left', joinedAt: NOW_MS - 40_000, leftAt: NOW_MS - 10_000, speaking: false },
          ],
        },
        media: {
          audio: {
            framesReceived: 100,
            bytesReceived: 64_000,
            framesWritten: 97,
            bytesWritten: 62_080,
            framesDropped: { excluded: 2, malformed: 1 },
            framesDroppedTotal: 3,
          },
        },
        audioSeconds: 59.5,
        files: ['stream.json', 'events.jsonl', 'audio.wav'],
        fileCount: 3,
        // The file sink recovered from a full disk: the last error stays visible.
        sink: { state: 'ok', lastError: { file: 'audio.wav', code: 'ENOSPC', at: NOW_MS - 30_000 } },
      },
    });
  });

  it('an ended stream shows its stop reason and a fixed duration', async () => {
    const h = await start();
    h.streams.streams.set('done', stats({ rtmsStreamId: 'done', state: 'ended', endedAt: NOW_MS - 20_000, stopReason: 6, stopReasonName: 'MEETING_ENDED' }));
    const body = (await (await admin(h, '/streams/done')).json()) as { stream: StreamSnapshot };
    expect(body.stream).toMatchObject({ active: false, durationMs: 40_000, stop: { reason: 6, name: 'MEETING_ENDED' } });
  });

  it('404 for an unknown stream on every stream route', async () => {
    const h = await start();
    for (const method of ['GET', 'DELETE']) {
      const response = await admin(h, '/streams/unknown', { method });
      expect(response.status).toBe(404);
      expect(await response.json()).toEqual({ error: 'STREAM_NOT_FOUND', reason: 'no stream with this id' });
    }
    expect((await admin(h, '/streams/unknown/participants/1', { method: 'DELETE' })).status).toBe(404);
  });

  it('DELETE /streams/{id} asks the control plane to close it: 202', async () => {
    const h = await start();
    h.streams.streams.set(STREAM_ID, stats());
    const response = await admin(h, `/streams/${STREAM_ID}`, { method: 'DELETE' });
    expect(response.status).toBe(202);
    expect(await response.json()).toEqual({ status: 'closing', rtmsStreamId: STREAM_ID });
    expect(h.streams.closed).toEqual([STREAM_ID]);
  });

  it('DELETE /streams/{id}/participants/{userId}: 202 saying what exclusion covers; ids are URL-decoded', async () => {
    const h = await start();
    const id = 'abc/def==';
    h.streams.streams.set(id, stats({ rtmsStreamId: id }));
    const response = await admin(h, `/streams/${encodeURIComponent(id)}/participants/${encodeURIComponent('user 1')}`, { method: 'DELETE' });
    expect(response.status).toBe(202);
    const body = (await response.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ status: 'excluding', rtmsStreamId: id, userId: 'user 1', effectiveFrom: NOW_MS });
    expect(Object.keys(body['excluded'] as object).sort()).toEqual(['audio', 'transcript', 'video']);
    expect(JSON.stringify(body['notExcluded'])).toContain('cannot be split');
    expect(h.streams.excluded).toEqual([[id, 'user 1']]);
  });

  it('405 for a wrong method, 400 for broken percent-encoding, 404 for unknown sub-routes', async () => {
    const h = await start();
    const post = await admin(h, '/streams', { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
    expect((await admin(h, '/streams/x/participants/1')).status).toBe(405);
    expect((await admin(h, '/streams/%E0%A4%A')).status).toBe(400);
    expect((await admin(h, '/streams/x/other')).status).toBe(404);
  });
});

describe('lifecycle', () => {
  it('close() is idempotent and listen() after close rejects', async () => {
    const h = await start();
    await fetch(`${h.url}/healthz`); // leaves an idle keep-alive connection
    await Promise.all([h.server.close(), h.server.close()]);
    await h.server.close();
    expect(h.server.address).toBeUndefined();
    await expect(h.server.listen()).rejects.toThrow(/closed/);
  });

  it('listen() rejects when the port is taken', async () => {
    const h = await start();
    const other = createHttpServer({
      http: {
        host: '127.0.0.1',
        port: h.server.address!.port,
        webhookPath: '/webhook',
        webhookMaxBodyBytes: 1024,
        webhookToleranceSeconds: 300,
        maxConnections: 64,
        webhookDedupMaxBytes: 1024 * 1024,
      },
      webhookSecretToken: SECRET,
      adminToken: undefined,
      logger: createLogger({ level: 'silent' }),
      onWebhook: () => {},
      isReady: () => true,
      metrics: () => Promise.resolve({ contentType: 'text/plain', body: '' }),
      streams: new RecordingStreams(),
    });
    await expect(other.listen()).rejects.toThrow(/EADDRINUSE/);
    await other.close();
  });
});
