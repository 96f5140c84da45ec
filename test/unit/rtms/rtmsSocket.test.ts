import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import { createLogger } from '../../../src/logger.ts';
import { MessageType } from '../../../src/rtms/codes.ts';
import {
  RtmsSocket,
  SILENT_CLOSE_CODE,
  SILENT_CLOSE_DEADLINE_MS,
  type MalformedFrameReason,
  type RtmsMessage,
  type SocketClosed,
} from '../../../src/rtms/rtmsSocket.ts';
import { ManualClock } from '../../support/clock.ts';
import { eventually } from '../../support/eventually.ts';

/**
 * RtmsSocket against a real WebSocket server on 127.0.0.1, its timers on a ManualClock: what
 * it reads, what it answers, and why it reports a socket lost.
 */

const SILENCE_MS = 5000;
let server: WebSocketServer | undefined;
afterEach(async () => {
  for (const client of server?.clients ?? []) client.terminate();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

interface Opened {
  readonly socket: RtmsSocket;
  readonly peer: WebSocket;
  readonly clock: ManualClock;
  readonly messages: RtmsMessage[];
  readonly malformed: MalformedFrameReason[];
  readonly closes: SocketClosed[];
  /** What the peer received, parsed. */
  readonly atPeer: Array<Record<string, unknown>>;
}

async function open(maxPayloadBytes = 1024 * 1024): Promise<Opened> {
  server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => server?.once('listening', () => resolve()));
  const peerConnected = new Promise<WebSocket>((resolve) => server?.once('connection', resolve));
  const clock = new ManualClock();
  const messages: RtmsMessage[] = [];
  const malformed: MalformedFrameReason[] = [];
  const closes: SocketClosed[] = [];
  const socket = await RtmsSocket.open({
    url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}`,
    channel: 'signaling',
    allowedHosts: { any: true, exact: [], suffixes: [] },
    maxPayloadBytes,
    connectTimeoutMs: 5000,
    silenceTimeoutMs: SILENCE_MS,
    onMessage: (message) => messages.push(message),
    onMalformed: (reason) => malformed.push(reason),
    onClose: (closed) => closes.push(closed),
    logger: createLogger({ level: 'silent' }),
    clock,
  });
  const peer = await peerConnected;
  const atPeer: Array<Record<string, unknown>> = [];
  peer.on('message', (data: Buffer) => atPeer.push(JSON.parse(data.toString()) as Record<string, unknown>));
  return { socket, peer, clock, messages, malformed, closes, atPeer };
}

describe('RtmsSocket', () => {
  it('answers KEEP_ALIVE_REQ with its timestamp, and sorts malformed frames from messages', async () => {
    const { peer, messages, malformed, atPeer } = await open();
    peer.send(JSON.stringify({ msg_type: MessageType.KEEP_ALIVE_REQ, timestamp: 42 }));
    peer.send(Buffer.from([1, 2, 3]), { binary: true });
    peer.send('{"msg_type":6,');
    peer.send('{"event":1}');
    peer.send(JSON.stringify({ msg_type: MessageType.EVENT_UPDATE, event: { event_type: 2 } }));
    await eventually(() => messages.length === 2, { what: 'the keep-alive and the event read', timeoutMs: 3000, state: () => messages });
    expect(malformed).toEqual(['binary_frame', 'invalid_json', 'no_msg_type']);
    expect(messages.map((message) => message.msg_type)).toEqual([MessageType.KEEP_ALIVE_REQ, MessageType.EVENT_UPDATE]);
    await eventually(() => atPeer.length === 1, { what: 'the keep-alive answer at the peer', timeoutMs: 3000 });
    expect(atPeer).toEqual([{ msg_type: MessageType.KEEP_ALIVE_RESP, timestamp: 42 }]);
  });

  it('reports a socket silent for the limit as lost (silence); anything received restarts the wait', async () => {
    const { socket, peer, clock, messages, closes } = await open();
    await clock.advance(SILENCE_MS - 1000);
    peer.send(JSON.stringify({ msg_type: MessageType.KEEP_ALIVE_REQ, timestamp: 1 }));
    await eventually(() => messages.length === 1, { what: 'the keep-alive read', timeoutMs: 3000 });
    await clock.advance(SILENCE_MS - 1000);
    await new Promise((resolve) => setImmediate(resolve));
    expect(socket.isOpen).toBe(true);
    await clock.advance(1000);
    await socket.closed;
    expect(closes).toEqual([expect.objectContaining({ code: SILENT_CLOSE_CODE, byUs: false, cause: 'silence' })]);
  });

  it('closes a silent socket with a close frame and still reads what the peer wrote before seeing it', async () => {
    // The chaos soak's lost transcript: the peer wrote a frame just as we called its socket
    // silent; its write succeeded, so it counted the frame as sent, and a terminate discarded it.
    const { socket, peer, clock, messages, closes } = await open();
    const transcript = { msg_type: MessageType.MEDIA_DATA_TRANSCRIPT, content: { data: 'late line' } };
    const advancing = clock.advance(SILENCE_MS);
    // Queued after the watchdog's own setImmediate: the peer writes right after we gave up on
    // the socket, before its side could learn of it.
    const written = new Promise<boolean>((resolve) => setImmediate(() => peer.send(JSON.stringify(transcript), (error) => resolve(error == null))));
    await advancing;
    expect(await written).toBe(true);
    await socket.closed;
    expect(messages).toEqual([transcript]);
    expect(closes).toEqual([expect.objectContaining({ code: SILENT_CLOSE_CODE, byUs: false, cause: 'silence' })]);
  });

  it('terminates a silent socket whose peer never answers the close frame', async () => {
    const { socket, peer, clock, closes } = await open();
    peer.pause(); // the peer reads nothing, so it never answers our close frame
    await clock.advance(SILENCE_MS);
    await eventually(() => !socket.isOpen, { what: 'the socket called silent', timeoutMs: 3000 });
    await clock.advance(SILENT_CLOSE_DEADLINE_MS);
    await socket.closed;
    expect(closes).toEqual([expect.objectContaining({ code: SILENT_CLOSE_CODE, byUs: false, cause: 'silence' })]);
  });

  it('closes with 1009 (too_big) on a message over maxPayloadBytes', async () => {
    const { socket, peer, closes } = await open(1024);
    peer.send(JSON.stringify({ msg_type: MessageType.EVENT_UPDATE, padding: 'x'.repeat(2048) }));
    await socket.closed;
    expect(closes).toEqual([expect.objectContaining({ code: 1009, byUs: false, cause: 'too_big' })]);
  });

  it('request() resolves with the reply; expect() times out on the clock; a close rejects what still waits', async () => {
    const { socket, peer, clock } = await open();
    peer.on('message', (data: Buffer) => {
      const message = JSON.parse(data.toString()) as { msg_type: number };
      if (message.msg_type === MessageType.SESSION_STATE_REQ) peer.send(JSON.stringify({ msg_type: MessageType.SESSION_STATE_RESP, state: 2 }));
    });
    expect(await socket.request({ msg_type: MessageType.SESSION_STATE_REQ }, MessageType.SESSION_STATE_RESP, 3000)).toMatchObject({ state: 2 });

    const late = socket.expect(MessageType.STREAM_STATE_RESP, 3000);
    await clock.advance(3000);
    await expect(late).rejects.toMatchObject({ code: 'RTMS_CONNECTION_FAILED' });

    const orphaned = socket.expect(MessageType.STREAM_CLOSE_RESP, 3000);
    peer.close(1000);
    await expect(orphaned).rejects.toMatchObject({ code: 'RTMS_CONNECTION_LOST' });
  });

  it('refuses a host outside the allow-list without opening anything', async () => {
    await expect(
      RtmsSocket.open({
        url: 'ws://203.0.113.7:9/signaling',
        channel: 'signaling',
        allowedHosts: { any: false, exact: ['zoom.example'], suffixes: [] },
        maxPayloadBytes: 1024,
        connectTimeoutMs: 1000,
        silenceTimeoutMs: 1000,
        onMessage: () => undefined,
        onMalformed: () => undefined,
        onClose: () => undefined,
        logger: createLogger({ level: 'silent' }),
      }),
    ).rejects.toMatchObject({ code: 'RTMS_HOST_NOT_ALLOWED' });
  });
});
