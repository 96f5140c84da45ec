import { createServer } from 'node:net';

/**
 * A TCP port free right now on 127.0.0.1, for child processes that cannot be told to listen
 * on port 0 and report what they got (redis-server, Prometheus). Another process may take it
 * before the child binds: callers retry on a bind failure.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
