import { afterEach, describe, expect, it } from 'vitest';
import { webhookSignature } from '../../../../src/rtms/signature.ts';
import { SimulatorError, startSimulator } from '../../src/simulator.ts';
import { CREDENTIALS, type Harness, harness } from './helpers/harness.ts';
import { TestSocket, mediaHandshake, signalingHandshake, signatureOf } from './helpers/rawRtmsClient.ts';
import { WebhookReceiver } from './helpers/webhookReceiver.ts';
import { eventually } from '../../../../test/support/eventually.ts';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

function joinOptions(stream: { signalingUrl: string; rtmsStreamId: string; entityId: string; entityIdKey: string }) {
  return {
    signalingUrl: stream.signalingUrl,
    clientId: CREDENTIALS.clientId,
    clientSecret: CREDENTIALS.clientSecret,
    rtmsStreamId: stream.rtmsStreamId,
    entityId: stream.entityId,
    entityKey: stream.entityIdKey,
  };
}

describe('webhooks', () => {
  it('signs rtms_started so that webhookSignature verifies it, with a seconds timestamp', async () => {
    h = await harness();
    const before = Math.floor(Date.now() / 1000);
    const stream = await h.sim.startStream();
    const webhook = await h.receiver.waitForEvent('meeting.rtms_started', stream.rtmsStreamId);
    const timestamp = String(webhook.headers['x-zm-request-timestamp']);
    expect(Number(timestamp)).toBeGreaterThanOrEqual(before);
    expect(Number(timestamp)).toBeLessThanOrEqual(Math.floor(Date.now() / 1000));
    expect(webhook.headers['x-zm-signature']).toBe(webhookSignature({ secretToken: CREDENTIALS.webhookSecretToken, timestamp, rawBody: webhook.rawBody }));
    expect(webhook.body.payload).toMatchObject({
      meeting_uuid: stream.entityId,
      rtms_stream_id: stream.rtmsStreamId,
      server_urls: h.sim.signalingUrl,
      operator_id: expect.any(String),
      account_id: expect.any(String),
      meeting_id: expect.any(Number),
      is_original_host: true,
    });
    expect(stream.rtmsStreamId).toMatch(/^[0-9a-f]{32}$/);
    expect(webhook.rawBody.toString()).toBe(stream.startedBody);
  });

  it('validates the endpoint and refuses a wrong answer', async () => {
    h = await harness();
    await expect(h.sim.validateEndpoint()).resolves.toBeUndefined();
    // An endpoint holding another secret answers the (to it) forged challenge with 401.
    const other = await WebhookReceiver.start('another-token');
    const sim = await startSimulator({ credentials: CREDENTIALS, webhookUrl: other.url });
    try {
      const error = await sim.validateEndpoint().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SimulatorError);
      expect(error).toMatchObject({ code: 'URL_VALIDATION_FAILED', httpStatus: 401 });
    } finally {
      await sim.close();
      await other.close();
    }
  });

  it('sends raw webhooks signed with another token or timestamp for forged and stale tests', async () => {
    h = await harness();
    const forged = await h.sim.sendWebhook({ event: 'meeting.rtms_started', event_ts: 1, payload: {} }, { secretToken: 'wrong' });
    expect(forged.status).toBe(401);
    const stale = await h.sim.sendWebhook({ event: 'meeting.rtms_stopped', event_ts: 1, payload: {} }, { timestamp: 1_000_000 });
    expect(stale.status).toBe(200);
    expect(h.receiver.received.at(-1)?.headers['x-zm-request-timestamp']).toBe('1000000');
  });

  it('rejects startStream when the endpoint does not answer 2xx, and ends that stream', async () => {
    h = await harness();
    h.receiver.status = 503;
    const error = await h.sim.startStream().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'WEBHOOK_DELIVERY_FAILED', httpStatus: 503 });
    const [stream] = h.sim.streams();
    expect(await stream?.whenEnded()).toMatchObject({ cause: 'webhookRejected' });
  });

  it("with webhookRetries, redelivers an unacknowledged rtms_started byte for byte on Zoom's schedule (compressed) until acknowledged", async () => {
    // timeScale 0.0001: 5 min -> 30 ms, 20 min -> 120 ms, 60 min -> 360 ms.
    h = await harness({ webhookRetries: { timeScale: 0.0001 } });
    h.receiver.status = 503;
    const stream = await h.sim.startStream();
    expect(stream.state).toBe('announced');
    h.receiver.onEvent = () => {
      if (h !== undefined && h.receiver.events('meeting.rtms_started').length === 2) h.receiver.status = 200;
    };
    const third = await h.receiver.waitForEvent('meeting.rtms_started', stream.rtmsStreamId, 3);
    const deliveries = h.receiver.events('meeting.rtms_started');
    expect(deliveries).toHaveLength(3);
    for (const delivery of deliveries) expect(delivery.rawBody.equals(third.rawBody)).toBe(true);
    await eventually(() => stream.webhooks.length === 3, { what: 'the acknowledged retry logged' });
    expect(stream.webhooks.map(({ status, retry }) => ({ status, retry }))).toEqual([
      { status: 503, retry: undefined },
      { status: 503, retry: 1 },
      { status: 200, retry: 2 },
    ]);
    const [first, second, last] = stream.webhooks.map((webhook) => webhook.at);
    expect((second ?? 0) - (first ?? 0)).toBeGreaterThanOrEqual(30);
    expect((last ?? 0) - (second ?? 0)).toBeGreaterThanOrEqual(120);
    expect(h.sim.pendingWebhookRetries).toBe(0);
    // The stream waited for its client meanwhile, as Zoom's does.
    await h.join(stream);
    await stream.whenReady();
  });

  it('with webhookRetries, never redelivers an acknowledged webhook', async () => {
    h = await harness({ webhookRetries: { timeScale: 0.0001 } });
    const stream = await h.sim.startStream();
    expect(h.sim.pendingWebhookRetries).toBe(0);
    await stream.stop();
    await h.receiver.waitForEvent('meeting.rtms_stopped', stream.rtmsStreamId);
    expect(h.sim.pendingWebhookRetries).toBe(0);
    expect(stream.webhooks.map((webhook) => webhook.retry)).toEqual([undefined, undefined]);
  });
});

describe('signaling handshake', () => {
  it('answers with per-scope media URLs and FIRST_PACKET_TIMESTAMP', async () => {
    h = await harness();
    const stream = await h.sim.startStream({ scopes: ['audio', 'transcript'] });
    const { socket, answer } = await signalingHandshake(joinOptions(stream));
    expect(answer).toMatchObject({ msg_type: 2, status_code: 0, reason: '' });
    const urls = (answer['media_server'] as { server_urls: Record<string, string> }).server_urls;
    expect(Object.keys(urls).sort()).toEqual(['all', 'audio', 'transcript']);
    expect(urls['audio']).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/media\/audio$/);
    const first = await socket.waitFor((m) => m.msg_type === 6 && (m['event'] as { event_type: number }).event_type === 1);
    expect((first['event'] as { timestamp: number }).timestamp).toBe(stream.firstPacketTimestamp);
    socket.close();
  });

  it("offers the screen-share URL as `sharescreen` (Zoom's RTMSManager), or as `deskshare` on request", async () => {
    h = await harness();
    for (const [shareUrlKey, expected] of [
      [undefined, 'sharescreen'],
      ['deskshare', 'deskshare'],
    ] as const) {
      const stream = await h.sim.startStream({ scopes: ['audio', 'deskshare'], ...(shareUrlKey === undefined ? {} : { shareUrlKey }) });
      const { socket, answer } = await signalingHandshake(joinOptions(stream));
      const urls = (answer['media_server'] as { server_urls: Record<string, string> }).server_urls;
      expect(Object.keys(urls).sort()).toEqual(['all', 'audio', expected].sort());
      expect(urls[expected]).toMatch(/\/media\/deskshare$/);
      socket.close();
    }
  });

  it('offers only the all URL when split URLs are off', async () => {
    h = await harness();
    const stream = await h.sim.startStream({ offerSplitMediaUrls: false });
    const { socket, answer } = await signalingHandshake(joinOptions(stream));
    expect(Object.keys((answer['media_server'] as { server_urls: object }).server_urls)).toEqual(['all']);
    socket.close();
  });

  it('with handshakeRefusal bareClose, refuses a bad signature with a bare close 1000 and no status message', async () => {
    h = await harness({ handshakeRefusal: 'bareClose' });
    const stream = await h.sim.startStream();
    const socket = await TestSocket.open(stream.signalingUrl);
    socket.send({ msg_type: 1, protocol_version: 1, meeting_uuid: stream.entityId, rtms_stream_id: stream.rtmsStreamId, signature: 'f'.repeat(64) });
    expect(await socket.closed).toEqual({ code: 1000, reason: '' });
    expect(socket.messages).toEqual([]);
    expect(stream.connections.handshakeRejections).toEqual([{ channel: 'signaling', statusCode: 3, reason: 'invalid signature' }]);
  });

  it('refuses a bad signature with status 3, then closes', async () => {
    h = await harness();
    const stream = await h.sim.startStream();
    const { socket, answer } = await signalingHandshake({ ...joinOptions(stream), clientSecret: 'not-the-secret' });
    expect(answer).toMatchObject({ msg_type: 2, status_code: 3 });
    expect(answer).not.toHaveProperty('media_server');
    await socket.closed;
    expect(stream.connections.handshakeRejections).toEqual([{ channel: 'signaling', statusCode: 3, reason: 'invalid signature' }]);
    expect(stream.state).toBe('announced');
  });

  it('refuses an unknown stream with 2 and a wrong first message with 1', async () => {
    h = await harness();
    const stream = await h.sim.startStream();
    const unknown = await signalingHandshake({ ...joinOptions(stream), rtmsStreamId: '0'.repeat(32) });
    expect(unknown.answer['status_code']).toBe(2);
    await unknown.socket.closed;
    const wrong = await TestSocket.open(stream.signalingUrl);
    wrong.send({ msg_type: 3, rtms_stream_id: stream.rtmsStreamId });
    expect((await wrong.waitForType(2))['status_code']).toBe(1);
    await wrong.closed;
    expect(h.sim.rejections.map((r) => r.statusCode)).toEqual([2, 1]);
  });

  it('accepts the entity id under any documented key (Video SDK sample sends meeting_uuid)', async () => {
    h = await harness();
    const stream = await h.sim.startStream({ product: 'session' });
    const { socket, answer } = await signalingHandshake({ ...joinOptions(stream), entityKey: 'meeting_uuid' });
    expect(answer['status_code']).toBe(0);
    socket.close();
  });

  it('refuses a second concurrent signaling socket with 8 and keeps the first', async () => {
    h = await harness();
    const stream = await h.sim.startStream();
    const first = await signalingHandshake(joinOptions(stream));
    expect(first.answer['status_code']).toBe(0);
    const second = await signalingHandshake(joinOptions(stream));
    expect(second.answer).toMatchObject({ status_code: 8, reason: 'duplicate signal request' });
    await second.socket.closed;
    first.socket.send({ msg_type: 19, rtms_stream_id: stream.rtmsStreamId });
    expect(await first.socket.waitForType(20)).toMatchObject({ rtms_stream_id: stream.rtmsStreamId, state: 1 });
    expect(stream.connections).toMatchObject({ signalingAccepted: 1, signalingRejectedDuplicate: 1 });
    first.socket.close();
  });

  it('answers SESSION_STATE_REQ and STREAM_CLOSE_REQ, then stops with reason 20', async () => {
    h = await harness();
    const stream = await h.sim.startStream();
    const session = await h.join(stream);
    await stream.whenReady();
    const started = await session.signaling.waitFor((m) => m.msg_type === 9 && m['state'] === 2);
    session.signaling.send({ msg_type: 10, rtms_session_id: started['rtms_session_id'] });
    expect(await session.signaling.waitForType(11)).toMatchObject({ rtms_session_id: started['rtms_session_id'], state: 2 });
    session.signaling.send({ msg_type: 21, rtms_stream_id: stream.rtmsStreamId });
    expect(await session.signaling.waitForType(22)).toMatchObject({ status_code: 0, reason: 'OK', rtms_stream_id: stream.rtmsStreamId });
    expect(await session.signaling.waitFor((m) => m.msg_type === 8 && m['state'] !== 1)).toMatchObject({ state: 4, reason: 20 });
    expect(await stream.whenEnded()).toMatchObject({ stopReason: 20, cause: 'closeRequest' });
    const stopped = await h.receiver.waitForEvent('meeting.rtms_stopped', stream.rtmsStreamId);
    expect(stopped.body.payload).toMatchObject({ meeting_uuid: stream.entityId, rtms_stream_id: stream.rtmsStreamId, stop_reason: 20 });
    await session.signaling.closed;
  });

  it('ignores unknown message types without dropping the connection', async () => {
    h = await harness();
    const stream = await h.sim.startStream();
    const session = await h.join(stream);
    session.signaling.send({ msg_type: 99 });
    session.signaling.ws.send('not json');
    session.signaling.send({ msg_type: 19, rtms_stream_id: stream.rtmsStreamId });
    await session.signaling.waitForType(20);
    expect(stream.connections.unknownMessages).toBe(2);
    expect(stream.state).toBe('connected');
  });
});

describe('media handshake', () => {
  async function connectedStream(options: Parameters<Harness['sim']['startStream']>[0] = {}) {
    h ??= await harness();
    const stream = await h.sim.startStream(options);
    const { socket, answer } = await signalingHandshake(joinOptions(stream));
    const urls = (answer['media_server'] as { server_urls: Record<string, string> }).server_urls;
    return { stream, signaling: socket, urls, options: joinOptions(stream) };
  }

  it('echoes effective media_params with defaults filled in', async () => {
    const { urls, options } = await connectedStream();
    const { answer } = await mediaHandshake(urls['audio'] ?? '', options, { url: 'audio', mediaType: 1, mediaParams: { audio: { send_rate: 40 } } });
    expect(answer).toMatchObject({
      msg_type: 4,
      status_code: 0,
      payload_encryption: false,
      media_params: { audio: { content_type: 2, sample_rate: 1, channel: 1, codec: 1, data_opt: 1, send_rate: 40 } },
    });
  });

  it('refuses a send_rate that is not a multiple of 20 with 24', async () => {
    const { urls, options, stream } = await connectedStream();
    const { socket, answer } = await mediaHandshake(urls['audio'] ?? '', options, { url: 'audio', mediaType: 1, mediaParams: { audio: { send_rate: 30 } } });
    expect(answer).toMatchObject({ msg_type: 4, status_code: 24 });
    await socket.closed;
    expect(stream.connections.handshakeRejections.at(-1)).toMatchObject({ channel: 'media', statusCode: 24 });
  });

  it('refuses media outside the scopes with 9..13', async () => {
    const { urls, options } = await connectedStream({ scopes: ['audio'] });
    for (const [bit, code] of [
      [2, 10],
      [4, 11],
      [8, 12],
      [16, 13],
    ] as const) {
      const { socket, answer } = await mediaHandshake(urls['all'] ?? '', options, { url: 'all', mediaType: bit });
      expect(answer['status_code']).toBe(code);
      await socket.closed;
    }
    const { urls: audioOnly, options: again } = await connectedStream({ scopes: ['video'] });
    const { answer } = await mediaHandshake(audioOnly['all'] ?? '', again, { url: 'all', mediaType: 1 });
    expect(answer['status_code']).toBe(9);
  });

  it('refuses a duplicate media socket with 16 and all-after-split with 15', async () => {
    const { urls, options } = await connectedStream();
    const audio = await mediaHandshake(urls['audio'] ?? '', options, { url: 'audio', mediaType: 1 });
    expect(audio.answer['status_code']).toBe(0);
    const duplicate = await mediaHandshake(urls['audio'] ?? '', options, { url: 'audio', mediaType: 1 });
    expect(duplicate.answer['status_code']).toBe(16);
    await duplicate.socket.closed;
    const all = await mediaHandshake(urls['all'] ?? '', options, { url: 'all', mediaType: 32 });
    expect(all.answer['status_code']).toBe(15);
    await all.socket.closed;
    expect(audio.socket.ws.readyState).toBe(audio.socket.ws.OPEN);
  });

  it('refuses an invalid media_type with 14 and a bad media signature with 3', async () => {
    const { urls, options } = await connectedStream();
    const invalid = await mediaHandshake(urls['all'] ?? '', options, { url: 'all', mediaType: 64 });
    expect(invalid.answer['status_code']).toBe(14);
    const forged = await mediaHandshake(
      urls['all'] ?? '',
      { ...options, signature: signatureOf({ ...options, clientSecret: 'x' }) },
      { url: 'all', mediaType: 32 },
    );
    expect(forged.answer['status_code']).toBe(3);
  });
});

describe('simulator lifecycle', () => {
  it('fails to start on a taken port without leaking, and rejects bad options', async () => {
    h = await harness();
    await expect(startSimulator({ credentials: CREDENTIALS, webhookUrl: h.receiver.url, port: h.sim.port })).rejects.toMatchObject({ code: 'EADDRINUSE' });
    await expect(startSimulator({ credentials: { ...CREDENTIALS, clientSecret: '' }, webhookUrl: h.receiver.url })).rejects.toMatchObject({
      code: 'INVALID_OPTION',
    });
    await expect(startSimulator({ credentials: CREDENTIALS, webhookUrl: 'ws://x' })).rejects.toMatchObject({ code: 'INVALID_OPTION' });
    await expect(h.sim.startStream({ scopes: [] })).rejects.toMatchObject({ code: 'INVALID_OPTION' });
  });

  it('answers 404 to unknown paths', async () => {
    h = await harness();
    await expect(TestSocket.open(`ws://127.0.0.1:${h.sim.port}/nope`)).rejects.toThrow(/404/);
  });
});
