import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Credentials } from '../../src/config.ts';
import { retryingFetch } from './retryingFetch.ts';

/**
 * Runs the real connector (`src/main.ts`) as a child process, for the demo and the
 * integration tests. It listens on `PORT=0`; the port is read from its start-up log line, so
 * there is no race for a free port. Its JSON logs go to `logFile` (or are kept in memory).
 */

const MAIN = fileURLToPath(new URL('../../src/main.ts', import.meta.url));

/** Fresh random app credentials for one run; `prefix` names the caller in the client id (`demo-…`, `perf-…`). */
export function randomCredentials(prefix = 'client'): Credentials {
  return {
    clientId: `${prefix}-${randomBytes(4).toString('hex')}`,
    clientSecret: randomBytes(16).toString('hex'),
    webhookSecretToken: randomBytes(16).toString('hex'),
  };
}

/**
 * The environment of a connector run by the demo, tests or benchmarks: these credentials,
 * this OUTPUT_DIR and admin token, RTMS servers on 127.0.0.1 only, the caller's PATH, plus `extra`.
 */
export function connectorEnv(options: {
  credentials: Credentials;
  outputDir: string;
  adminToken: string;
  extra?: Readonly<Record<string, string>>;
}): Record<string, string> {
  return {
    PATH: process.env['PATH'] ?? '',
    ZM_RTMS_CLIENT: options.credentials.clientId,
    ZM_RTMS_SECRET: options.credentials.clientSecret,
    ZM_WEBHOOK_SECRET_TOKEN: options.credentials.webhookSecretToken,
    ADMIN_TOKEN: options.adminToken,
    OUTPUT_DIR: options.outputDir,
    // The stand-in serves RTMS on 127.0.0.1, outside the default (Zoom's hosts only).
    RTMS_ALLOWED_HOSTS: '127.0.0.1',
    ...options.extra,
  };
}

export interface ConnectorProcessOptions {
  /** Environment for the connector (credentials, OUTPUT_DIR, ...); PORT and HOST are set here. */
  readonly env: Readonly<Record<string, string>>;
  /** Run the connector as this user and group (tests of permission faults, which root ignores). */
  readonly uid?: number;
  readonly gid?: number;
  /** Where to write the connector's stdout and stderr; kept in memory when omitted. */
  readonly logFile?: string;
  /** Deadline for the connector to start listening, ms. Default 20 000. */
  readonly startTimeoutMs?: number;
}

export class ConnectorProcess {
  readonly port: number;
  readonly baseUrl: string;
  /** The internal listener (`INTERNAL_PORT`) when there is one: metrics, admin API, live feeds. */
  readonly internalBaseUrl: string | undefined;
  readonly #child: ChildProcess;
  readonly #log: string[];
  readonly #logStream: WriteStream | undefined;
  readonly #exited: Promise<number | null>;
  readonly #adminToken: string | undefined;

  private constructor(options: {
    port: number;
    internalPort: number | undefined;
    child: ChildProcess;
    log: string[];
    logStream: WriteStream | undefined;
    exited: Promise<number | null>;
    adminToken: string | undefined;
  }) {
    this.port = options.port;
    this.baseUrl = `http://127.0.0.1:${options.port}`;
    this.internalBaseUrl = options.internalPort === undefined ? undefined : `http://127.0.0.1:${options.internalPort}`;
    this.#child = options.child;
    this.#log = options.log;
    this.#logStream = options.logStream;
    this.#exited = options.exited;
    this.#adminToken = options.adminToken;
  }

  static async start(options: ConnectorProcessOptions): Promise<ConnectorProcess> {
    const child = spawn(process.execPath, [MAIN], {
      env: { ...options.env, PORT: '0', HOST: '127.0.0.1' },
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(options.uid === undefined ? {} : { uid: options.uid }),
      ...(options.gid === undefined ? {} : { gid: options.gid }),
    });
    const log: string[] = [];
    const logStream = options.logFile ? createWriteStream(options.logFile) : undefined;
    const record = (line: string): void => {
      if (logStream) logStream.write(`${line}\n`);
      else log.push(line);
    };
    // Whatever ends this process (an error, process.exit, a signal handler) ends the
    // connector too: nothing is left running with its parent gone.
    const orphanGuard = (): void => void child.kill('SIGTERM');
    process.once('exit', orphanGuard);
    const exited = new Promise<number | null>((resolve) =>
      child.once('exit', (code) => {
        process.off('exit', orphanGuard);
        resolve(code);
      }),
    );
    createInterface({ input: child.stderr }).on('line', record);
    const lines = createInterface({ input: child.stdout });
    const { port, internalPort } = await new Promise<{ port: number; internalPort: number | undefined }>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`connector did not start within ${options.startTimeoutMs ?? 20_000} ms`)),
        options.startTimeoutMs ?? 20_000,
      );
      void exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`connector exited during start-up with code ${code}:\n${log.join('\n')}`));
      });
      lines.on('line', (line) => {
        record(line);
        const entry = parseJson(line);
        if (entry?.['msg'] === 'rtms-connector listening' && typeof entry['port'] === 'number') {
          clearTimeout(timer);
          resolve({ port: entry['port'], internalPort: typeof entry['internalPort'] === 'number' ? entry['internalPort'] : undefined });
        }
      });
    });
    return new ConnectorProcess({ port, internalPort, child, log, logStream, exited, adminToken: options.env['ADMIN_TOKEN'] });
  }

  /** Process id of the connector (for RSS sampling from `/proc/<pid>/status`); undefined once it exited. */
  get pid(): number | undefined {
    return this.#child.exitCode === null && this.#child.signalCode === null ? this.#child.pid : undefined;
  }

  /** Log lines captured so far (when no `logFile` was given). */
  get logLines(): readonly string[] {
    return this.#log;
  }

  get webhookUrl(): string {
    return `${this.baseUrl}/webhook`;
  }

  /** GET an admin route with the configured bearer token; returns status and parsed JSON. */
  async admin(path: string, method: 'GET' | 'DELETE' = 'GET'): Promise<{ status: number; body: Record<string, unknown> }> {
    const response = await retryingFetch(`${this.internalBaseUrl ?? this.baseUrl}${path}`, {
      method,
      headers: this.#adminToken ? { authorization: `Bearer ${this.#adminToken}` } : {},
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  /** Polls `GET /streams/{id}` until `predicate` holds for its snapshot; returns the snapshot. */
  async waitForStream(rtmsStreamId: string, predicate: (stream: Record<string, unknown>) => boolean, timeoutMs = 20_000): Promise<Record<string, unknown>> {
    const deadline = Date.now() + timeoutMs;
    let last: Record<string, unknown> | undefined;
    while (Date.now() < deadline) {
      const { status, body } = await this.admin(`/streams/${encodeURIComponent(rtmsStreamId)}`);
      if (status === 200) {
        last = body['stream'] as Record<string, unknown>;
        if (predicate(last)) return last;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`stream ${rtmsStreamId} did not reach the expected condition; last snapshot: ${JSON.stringify(last)}`);
  }

  /** Sends `signal` and resolves with the exit code. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    if (this.#child.exitCode === null && this.#child.signalCode === null) this.#child.kill(signal);
    const code = await this.#exited;
    await new Promise<void>((resolve) => (this.#logStream ? this.#logStream.end(resolve) : resolve()));
    return code;
  }
}

function parseJson(line: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(line);
    return value !== null && typeof value === 'object' ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
