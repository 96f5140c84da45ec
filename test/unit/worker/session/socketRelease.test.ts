import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Clock } from '../../../../src/clock.ts';
import { RtmsSocket } from '../../../../src/rtms/rtmsSocket.ts';
import { SocketRelease } from '../../../../src/worker/session/socketRelease.ts';
import { ManualClock } from '../../../support/clock.ts';

/** Lets the event loop process pending I/O (a close frame on its way) a few times over. */
async function ioTurns(count = 5): Promise<void> {
  for (let i = 0; i < count; i++) await new Promise((resolve) => setImmediate(resolve));
}

let server: WebSocketServer | undefined;
afterEach(async () => {
  for (const client of server?.clients ?? []) client.terminate();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

/** A real WebSocket pair on 127.0.0.1; `peer` is the server's end. */
async function connect(clock: Clock): Promise<{ socket: RtmsSocket; peer: WebSocket }> {
  server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => server?.once('listening', () => resolve()));
  const peer = new Promise<WebSocket>((resolve) => server?.once('connection', resolve));
  const socket = await RtmsSocket.open({
    url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}`,
    channel: 'signaling',
    allowedHosts: { any: true, exact: [], suffixes: [] },
    maxPayloadBytes: 1024 * 1024,
    connectTimeoutMs: 5000,
    silenceTimeoutMs: 60_000,
    onMessage: () => undefined,
    onMalformed: () => undefined,
    onClose: () => undefined,
    logger: pino({ level: 'silent' }),
    clock,
  });
  return { socket, peer: await peer };
}

describe('SocketRelease', () => {
  it('settles once the peer has answered the close: the connection is gone at both ends', async () => {
    const clock = new ManualClock();
    const { socket, peer } = await connect(clock);
    const peerClosed = new Promise<void>((resolve) => peer.once('close', () => resolve()));
    const release = new SocketRelease(clock);
    release.release([socket, undefined]);
    await release.settled(3000);
    expect(socket.isOpen).toBe(false);
    // The peer read our close frame before answering it: it no longer counts the connection.
    expect(peer.readyState).not.toBe(peer.OPEN);
    await peerClosed;
  });

  it('waits while the peer has not read the close, and terminates at the deadline', async () => {
    const clock = new ManualClock();
    const { socket, peer } = await connect(clock);
    peer.pause();
    const release = new SocketRelease(clock);
    release.release([socket]);
    let settled = false;
    // A deadline shorter than the socket's own 2 s close timeout, so only SocketRelease can end the wait.
    const done = release.settled(1500).then(() => (settled = true));
    expect(clock.dueIn()).toContain(1500);
    await ioTurns();
    expect(settled).toBe(false);
    await clock.advance(1500);
    await done;
    expect(socket.isOpen).toBe(false);
  });

  it('a later rejoin still waits for sockets an earlier (superseded) one released', async () => {
    const clock = new ManualClock();
    const { socket, peer } = await connect(clock);
    peer.pause();
    const release = new SocketRelease(clock);
    release.release([socket]);
    void release.settled(3000);
    let second = false;
    const done = release.settled(3000).then(() => (second = true));
    expect(clock.dueIn().filter((ms) => ms === 3000)).toHaveLength(2);
    await ioTurns();
    expect(second).toBe(false);
    peer.resume();
    await done;
    expect(socket.isOpen).toBe(false);
  });

  it('settles at once with nothing released', async () => {
    await new SocketRelease(new ManualClock()).settled(3000);
  });
});
