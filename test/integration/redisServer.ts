import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createInterface } from 'node:readline';
import { createClient } from 'redis';
import { freePort } from '../support/freePort.ts';

/**
 * A private `redis-server` for one test file or benchmark: its own free port, no
 * persistence (`--save '' --appendonly no`, like a cache-only deployment), killed and
 * restarted on the same port on demand. Tests never share it, so they cannot collide with
 * each other or with anything on 6379.
 */
export class RedisServer {
  readonly port: number;
  #child: ChildProcess | undefined;
  #exited: Promise<void> = Promise.resolve();
  #output: string[] = [];

  private constructor(port: number) {
    this.port = port;
  }

  /** The `redis-server` binary: on PATH or Debian's /usr/bin. Throws a clear error when missing. */
  static binary(): string {
    for (const candidate of ['redis-server', '/usr/bin/redis-server', '/usr/local/bin/redis-server']) {
      const probe = spawnSync(candidate, ['--version'], { stdio: 'ignore' });
      if (probe.status === 0) return candidate;
    }
    throw new Error('redis-server not found: install it (Debian: apt-get install -y redis-server); .ci/run does');
  }

  static async start(): Promise<RedisServer> {
    for (let attempt = 0; ; attempt++) {
      const server = new RedisServer(await freePort());
      try {
        await server.#spawn();
        return server;
      } catch (error) {
        // Another process took the port between probe and bind: try another.
        if (attempt >= 3) throw error;
      }
    }
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.#child !== undefined && this.#child.exitCode === null && this.#child.signalCode === null;
  }

  /** Kills the server (default SIGKILL: no goodbye to clients) and waits for it to exit. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (this.running) this.#child?.kill(signal);
    await this.#exited;
  }

  /** Starts it again on the same port, empty (nothing is persisted). */
  async restart(): Promise<void> {
    await this.kill();
    for (let attempt = 0; ; attempt++) {
      try {
        await this.#spawn();
        return;
      } catch (error) {
        if (attempt >= 20) throw error;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  }

  async stop(): Promise<void> {
    await this.kill('SIGKILL');
  }

  /** A plain client for assertions; the caller closes it. */
  async client() {
    const client = createClient({ url: this.url });
    client.on('error', () => undefined);
    await client.connect();
    return client;
  }

  #spawn(): Promise<void> {
    const child = spawn(
      RedisServer.binary(),
      [
        '--port',
        String(this.port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--daemonize',
        'no',
        '--protected-mode',
        'no',
        '--loglevel',
        'notice',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.#child = child;
    this.#output = [];
    this.#exited = new Promise((resolve) => child.once('exit', () => resolve()));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`redis-server did not start on ${this.port}:\n${this.#output.join('\n')}`));
      }, 10_000);
      void this.#exited.then(() => {
        clearTimeout(timer);
        reject(new Error(`redis-server exited during start-up on ${this.port}:\n${this.#output.join('\n')}`));
      });
      const onLine = (line: string): void => {
        if (this.#output.length < 200) this.#output.push(line);
        if (line.includes('Ready to accept connections')) {
          clearTimeout(timer);
          resolve();
        }
      };
      createInterface({ input: child.stdout }).on('line', onLine);
      createInterface({ input: child.stderr }).on('line', onLine);
    });
  }
}
