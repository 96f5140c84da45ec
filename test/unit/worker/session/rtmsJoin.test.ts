import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import { systemClock } from '../../../../src/clock.ts';
import { loadConfig } from '../../../../src/config.ts';
import { HandshakeRejectedError } from '../../../../src/errors.ts';
import { createLogger } from '../../../../src/logger.ts';
import { MessageType, StatusCode } from '../../../../src/rtms/codes.ts';
import type { StreamStart } from '../../../../src/rtms/products.ts';
import { handshakeSignature } from '../../../../src/rtms/signature.ts';
import { SUBSCRIBED_EVENTS } from '../../../../src/rtms/codes.ts';
import { decodeHandshakeResponse } from '../../../../src/rtms/decodeRtmsMessage.ts';
import { planMedia, type MediaConnection } from '../../../../src/worker/session/mediaPlan.ts';
import { RtmsJoin, closedWithoutStatus, handshakeFields, handshakeRejection } from '../../../../src/worker/session/rtmsJoin.ts';

const ENV = {
  ZM_RTMS_CLIENT: 'client-id',
  ZM_RTMS_SECRET: 'client-secret',
  ZM_WEBHOOK_SECRET_TOKEN: 'token',
  RTMS_ALLOWED_HOSTS: '*',
  RTMS_MEDIA: 'audio,transcript',
};

describe('planMedia', () => {
  it('one socket per kind when every wanted kind has a URL', () => {
    const plan = planMedia(
      decodeHandshakeResponse({ msg_type: 2, media_server: { server_urls: { audio: 'wss://a', transcript: 'wss://t', all: 'wss://all' } } }),
      ['audio', 'transcript'],
    );
    expect(plan.connections.map(({ key, url, kinds }) => ({ key, url, kinds }))).toEqual([
      { key: 'audio', url: 'wss://a', kinds: ['audio'] },
      { key: 'transcript', url: 'wss://t', kinds: ['transcript'] },
    ]);
    expect(plan.unavailable).toEqual([]);
  });

  it('the unified socket when a wanted kind has no URL of its own but `all` is offered (the two cannot be mixed)', () => {
    const plan = planMedia(decodeHandshakeResponse({ msg_type: 2, media_server: { server_urls: { audio: 'wss://a', all: 'wss://all' } } }), ['audio', 'video']);
    expect(plan.connections.map(({ key, kinds }) => ({ key, kinds }))).toEqual([{ key: 'all', kinds: ['audio', 'video'] }]);
  });

  it('split mode for what is offered when there is no `all`; the rest is reported unavailable', () => {
    const plan = planMedia(decodeHandshakeResponse({ msg_type: 2, media_server: { server_urls: { audio: 'wss://a' } } }), ['audio', 'video']);
    expect(plan.connections.map(({ key }) => key)).toEqual(['audio']);
    expect(plan.unavailable).toEqual(['video']);
  });

  it("the screen-share URL under either key Zoom may use: `deskshare` or `sharescreen` (Zoom's RTMSManager)", () => {
    for (const key of ['deskshare', 'sharescreen']) {
      const plan = planMedia(
        decodeHandshakeResponse({ msg_type: 2, media_server: { server_urls: { audio: 'wss://a', [key]: 'wss://s', all: 'wss://all' } } }),
        ['audio', 'deskshare'],
      );
      expect(plan.connections.map(({ key: label, url, kinds }) => ({ label, url, kinds }))).toEqual([
        { label: 'audio', url: 'wss://a', kinds: ['audio'] },
        { label: 'deskshare', url: 'wss://s', kinds: ['deskshare'] },
      ]);
    }
  });

  it('no URL at all: a protocol violation, not retried', () => {
    expect(() => planMedia(decodeHandshakeResponse({ msg_type: 2, media_server: 'nothing' }), ['audio'])).toThrow(
      expect.objectContaining({ code: 'RTMS_PROTOCOL_VIOLATION', retryable: false }),
    );
  });
});

describe('closedWithoutStatus (a handshake answered by a bare close)', () => {
  it('a normal close (1000) is a refusal with a clear name: final on a first join, retried on a rejoin of a live stream', () => {
    const first = closedWithoutStatus('signaling', 1000, false);
    expect(first).toMatchObject({ code: 'RTMS_HANDSHAKE_REJECTED', statusName: 'CLOSED_WITHOUT_STATUS', statusCode: undefined, retryable: false });
    expect(first?.message).toMatch(/^signaling handshake rejected: CLOSED_WITHOUT_STATUS: Zoom closed the connection \(1000\) without answering/);
    expect(closedWithoutStatus('media:audio', 1000, true)).toMatchObject({ retryable: true });
  });

  it('any other end (no close handshake, another code) stays a connection loss', () => {
    expect(closedWithoutStatus('signaling', undefined, false)).toBeUndefined();
    expect(closedWithoutStatus('signaling', 1011, false)).toBeUndefined();
  });
});

describe('handshakeRejection', () => {
  const open = { signalingOpen: true, wasLive: false };
  it('status 0 (or none) is accepted', () => {
    expect(handshakeRejection('signaling', decodeHandshakeResponse({ msg_type: 2, status_code: 0 }), open)).toBeUndefined();
    expect(handshakeRejection('signaling', decodeHandshakeResponse({ msg_type: 2 }), open)).toBeUndefined();
  });

  it('a refusal names its status; whether to retry depends on the status and on what we know', () => {
    const invalidSignature = handshakeRejection(
      'signaling',
      decodeHandshakeResponse({ msg_type: 2, status_code: StatusCode.INVALID_SIGNATURE, reason: 'bad' }),
      open,
    );
    expect(invalidSignature).toBeInstanceOf(HandshakeRejectedError);
    expect(invalidSignature?.statusName).toBe('INVALID_SIGNATURE');
    expect(invalidSignature?.retryable).toBe(false);
    // A media handshake refused after signaling dropped says nothing about the stream.
    expect(
      handshakeRejection('media:audio', decodeHandshakeResponse({ msg_type: 4, status_code: StatusCode.INVALID_SIGNATURE }), {
        signalingOpen: false,
        wasLive: false,
      })?.retryable,
    ).toBe(true);
    // An unknown stream id is final on a first join, a failover under way on the rejoin of a live stream.
    expect(handshakeRejection('signaling', decodeHandshakeResponse({ msg_type: 2, status_code: StatusCode.INVALID_RTMS_STREAM_ID }), open)?.retryable).toBe(
      false,
    );
    expect(
      handshakeRejection('signaling', decodeHandshakeResponse({ msg_type: 2, status_code: StatusCode.INVALID_RTMS_STREAM_ID }), {
        signalingOpen: true,
        wasLive: true,
      })?.retryable,
    ).toBe(true);
  });
});

describe('handshakeFields', () => {
  it('carries the entity under the key its webhook used, the stream id and the HMAC signature', () => {
    const start = { product: 'webinar', rtmsStreamId: 's1', entityIdKey: 'webinar_uuid', entityId: 'w1', signalingUrl: '' } as unknown as StreamStart;
    const fields = handshakeFields(MessageType.SIGNALING_HAND_SHAKE_REQ, start, { clientId: 'c', clientSecret: 'k' } as never);
    expect(fields).toEqual({
      msg_type: MessageType.SIGNALING_HAND_SHAKE_REQ,
      protocol_version: 1,
      sequence: 1,
      webinar_uuid: 'w1',
      rtms_stream_id: 's1',
      signature: handshakeSignature({ clientId: 'c', clientSecret: 'k', entityId: 'w1', rtmsStreamId: 's1' }),
    });
  });
});

/** A stand-in RTMS server on 127.0.0.1: signaling at `/`, one media path per kind. */
let server: WebSocketServer | undefined;
afterEach(async () => {
  for (const client of server?.clients ?? []) client.terminate();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

async function rtmsServer(options: { signalingStatus?: number } = {}) {
  server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => server?.once('listening', () => resolve()));
  const base = `ws://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const received: Array<{ path: string; msgType: number }> = [];
  const media = new Map<string, WebSocket>();
  let signalingPeer: WebSocket | undefined;
  // The client's last send may still be on its way when its promise settles: wait for it to land.
  const waiters: Array<{ count: number; resolve: () => void }> = [];
  const whenReceived = (count: number): Promise<void> => new Promise((resolve) => (received.length >= count ? resolve() : waiters.push({ count, resolve })));
  server.on('connection', (peer, request) => {
    const path = request.url ?? '/';
    if (path !== '/') media.set(path, peer);
    else signalingPeer = peer;
    peer.on('message', (raw) => {
      const message = JSON.parse(String(raw)) as Record<string, unknown>;
      received.push({ path, msgType: message['msg_type'] as number });
      for (const waiter of waiters.filter(({ count }) => received.length >= count)) waiter.resolve();
      if (message['msg_type'] === MessageType.SIGNALING_HAND_SHAKE_REQ) {
        peer.send(
          JSON.stringify({
            msg_type: MessageType.SIGNALING_HAND_SHAKE_RESP,
            status_code: options.signalingStatus ?? 0,
            media_server: { server_urls: { audio: `${base}/audio`, transcript: `${base}/transcript` } },
          }),
        );
      } else if (message['msg_type'] === MessageType.DATA_HAND_SHAKE_REQ) {
        peer.send(JSON.stringify({ msg_type: MessageType.DATA_HAND_SHAKE_RESP, status_code: 0, media_params: message['media_params'] }));
      }
    });
  });
  return { base, received, media, whenReceived, signaling: () => signalingPeer };
}

function join(base: string) {
  const config = loadConfig(ENV);
  const start = { product: 'meeting', rtmsStreamId: 'stream-1', entityIdKey: 'meeting_uuid', entityId: 'm1', signalingUrl: base } as unknown as StreamStart;
  let mediaClosed: (key: string) => void = () => undefined;
  const seen = {
    mediaJoined: 0,
    mediaClosed: [] as string[],
    events: [] as string[],
    signalingEnded: 0,
    signalingLost: [] as string[],
    ignored: [] as string[],
    nextMediaClosed: new Promise<string>((resolve) => (mediaClosed = resolve)),
  };
  const rtms = new RtmsJoin({
    config,
    start: () => start,
    clock: systemClock,
    logger: createLogger({ level: 'silent' }),
    metrics: { handshake: () => undefined, keepAliveAge: () => undefined },
    event: (eventType) => seen.events.push(eventType),
    wasLive: () => false,
    paused: () => false,
    ignored: { record: (channel, reason) => seen.ignored.push(`${channel}/${reason}`) },
    ended: () => false,
    onSignalingMessage: () => undefined,
    onSignalingLost: (trigger) => seen.signalingLost.push(trigger),
    onMediaMessage: () => undefined,
    onMediaMalformed: () => undefined,
    onMediaLost: (connection: MediaConnection) => {
      seen.mediaClosed.push(connection.key);
      mediaClosed(connection.key);
    },
    onMediaJoined: () => (seen.mediaJoined += 1),
    onJoinedSignalingEnded: () => (seen.signalingEnded += 1),
  });
  return { rtms, seen };
}

describe('RtmsJoin against a stand-in server on 127.0.0.1', () => {
  it('a full join: signaling handshake, event subscription, one handshake per media socket, each acknowledged', async () => {
    const { base, received, whenReceived } = await rtmsServer();
    const { rtms, seen } = join(base);
    await rtms.attempt('full', new AbortController().signal);
    await whenReceived(6);
    expect(received).toEqual([
      { path: '/', msgType: MessageType.SIGNALING_HAND_SHAKE_REQ },
      { path: '/', msgType: MessageType.EVENT_SUBSCRIPTION },
      { path: '/audio', msgType: MessageType.DATA_HAND_SHAKE_REQ },
      { path: '/', msgType: MessageType.CLIENT_READY_ACK },
      { path: '/transcript', msgType: MessageType.DATA_HAND_SHAKE_REQ },
      { path: '/', msgType: MessageType.CLIENT_READY_ACK },
    ]);
    expect(seen.mediaJoined).toBe(2);
    expect(rtms.sockets()).toHaveLength(3);
    expect(SUBSCRIBED_EVENTS.length).toBeGreaterThan(0);
    rtms.closeSockets();
    expect(seen.signalingEnded).toBe(1);
  });

  it('a media-only rejoin reopens the one media socket that was lost, nothing else', async () => {
    const { base, received, media, whenReceived } = await rtmsServer();
    const { rtms, seen } = join(base);
    await rtms.attempt('full', new AbortController().signal);
    await whenReceived(6);
    media.get('/transcript')?.close();
    expect(await seen.nextMediaClosed).toBe('transcript');
    expect(seen.events).toEqual(['rtms.connection_lost']);
    expect(seen.mediaClosed).toEqual(['transcript']);
    received.length = 0;
    await rtms.attempt('media', new AbortController().signal);
    await whenReceived(2);
    expect(received).toEqual([
      { path: '/transcript', msgType: MessageType.DATA_HAND_SHAKE_REQ },
      { path: '/', msgType: MessageType.CLIENT_READY_ACK },
    ]);
    rtms.closeSockets();
  });

  it('signaling lost: reported once, the interruption noted, and a full rejoin asked for; closed by us: nothing', async () => {
    const { base, whenReceived, signaling } = await rtmsServer();
    const { rtms, seen } = join(base);
    await rtms.attempt('full', new AbortController().signal);
    await whenReceived(6);
    const lost = new Promise<void>((resolve) => {
      const socket = rtms.signaling;
      void socket?.closed.then(() => resolve());
    });
    signaling()?.close();
    await lost;
    expect(seen.signalingLost).toEqual(['signaling_closed']);
    expect(seen.signalingEnded).toBe(1);
    rtms.closeSockets();
    await Promise.all(rtms.sockets().map((socket) => socket.closed));
    expect(seen.signalingLost).toEqual(['signaling_closed']);
  });

  it('a refused signaling handshake: a typed error, an event, and no media socket opened', async () => {
    const { base, received } = await rtmsServer({ signalingStatus: StatusCode.INVALID_SIGNATURE });
    const { rtms, seen } = join(base);
    await expect(rtms.attempt('full', new AbortController().signal)).rejects.toMatchObject({
      code: 'RTMS_HANDSHAKE_REJECTED',
      statusCode: StatusCode.INVALID_SIGNATURE,
      retryable: false,
    });
    expect(seen.events).toEqual(['rtms.handshake_rejected']);
    expect(received.map(({ path }) => path)).toEqual(['/']);
    rtms.closeSockets();
  });

  it('a superseded attempt (aborted) opens nothing more', async () => {
    const { base, received } = await rtmsServer();
    const { rtms } = join(base);
    const controller = new AbortController();
    controller.abort();
    await expect(rtms.attempt('full', controller.signal)).rejects.toBeDefined();
    expect(received).toEqual([]);
  });
});
