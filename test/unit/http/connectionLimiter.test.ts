import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ConnectionLimiter } from '../../../src/http/connectionLimiter.ts';
import { eventually } from '../../support/eventually.ts';

/** A real HTTP server on 127.0.0.1 with the limiter attached the way HttpServer attaches it. */
async function serve(maxConnections: number): Promise<{ server: Server; limiter: ConnectionLimiter; port: number; answered: () => number }> {
  const limiter = new ConnectionLimiter({ maxConnections });
  let answered = 0;
  const server = createServer((request, response) => {
    limiter.requestStarted(request.socket, request, response);
    response.on('close', () => (answered += 1));
    request.resume();
    request.on('end', () => response.end('ok'));
  });
  server.on('connection', (socket: Socket) => limiter.accept(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  return { server, limiter, port: (server.address() as AddressInfo).port, answered: () => answered };
}

const servers: Server[] = [];
const sockets: Socket[] = [];
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

/** Connects and resolves once the server side has run its 'connection' handler (the socket is readable on both ends). */
function open(port: number, state: { closed: boolean }): Promise<Socket> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port }, () => resolve(socket));
    socket.on('error', () => {});
    socket.on('close', () => (state.closed = true));
    sockets.push(socket);
  });
}

/** Waits for `check` to hold; a failure names the check by its source. */
async function until(check: () => boolean): Promise<void> {
  await eventually(check, { what: check.toString(), intervalMs: 5, timeoutMs: 4000 });
}

describe('ConnectionLimiter', () => {
  it('past the cap, closes the longest-idle connection and keeps the newcomer', async () => {
    const { limiter, port } = await serve(2);
    const first = { closed: false };
    const second = { closed: false };
    const third = { closed: false };
    await open(port, first);
    await until(() => limiter.open === 1);
    await open(port, second);
    await until(() => limiter.open === 2);
    await open(port, third);
    await until(() => first.closed);
    expect(second.closed).toBe(false);
    expect(limiter.open).toBe(2);
    expect(limiter.dropped).toEqual({ idle_evicted: 1, upload_evicted: 0, all_busy: 0 });
  });

  it('a keep-alive connection that just finished a request is idle the shortest', async () => {
    const { limiter, port, answered } = await serve(2);
    const usedAgain = { closed: false };
    const untouched = { closed: false };
    const socket = await open(port, usedAgain);
    await until(() => limiter.open === 1);
    const idle = await open(port, untouched);
    await until(() => limiter.open === 2);
    // The first connection is used again: it becomes the most recently idle.
    await new Promise<void>((resolve) => {
      socket.once('data', () => resolve());
      socket.write('GET / HTTP/1.1\r\nhost: x\r\n\r\n');
    });
    await until(() => answered() === 1);
    await open(port, { closed: false });
    await until(() => untouched.closed);
    expect(usedAgain.closed).toBe(false);
    expect(idle.readyState).toBe('closed');
  });
});
