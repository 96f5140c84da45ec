import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from '../../support/eventually.ts';
import { freePort } from '../../support/freePort.ts';

/**
 * A real Prometheus server (the Debian package's `/usr/bin/prometheus`) in a child process,
 * scraping one target every second into a throw-away storage directory, queried over its
 * HTTP API. Tests use it to prove that dashboard queries work against what Prometheus stores.
 */

export const PROMETHEUS_BIN = binary('PROMETHEUS_BIN', 'prometheus');
export const PROMTOOL_BIN = binary('PROMTOOL_BIN', 'promtool');

/** `$ENV_NAME`, else the Debian package's `/usr/bin/<name>`, else `<name>` on PATH. */
function binary(envName: string, name: string): string {
  const configured = process.env[envName];
  if (configured !== undefined && configured !== '') return configured;
  return existsSync(`/usr/bin/${name}`) ? `/usr/bin/${name}` : name;
}

/** One series of an instant-query answer: labels and `[unixSeconds, "value"]`. */
export interface PromSample {
  readonly metric: Record<string, string>;
  readonly value: [number, string];
}

export class PrometheusServer {
  readonly baseUrl: string;
  readonly #child: ChildProcess;
  readonly #dir: string;
  readonly #output: string[];
  readonly #exited: Promise<void>;

  private constructor(options: { baseUrl: string; child: ChildProcess; dir: string; output: string[]; exited: Promise<void> }) {
    this.baseUrl = options.baseUrl;
    this.#child = options.child;
    this.#dir = options.dir;
    this.#output = options.output;
    this.#exited = options.exited;
  }

  /**
   * Starts Prometheus on a free 127.0.0.1 port, scraping `targets` (`host:port`) every second
   * as `job`, and resolves once `/-/ready` answers 200. Throws with Prometheus's output if it
   * exits or is not ready within `readyTimeoutMs`.
   */
  static async start(options: { targets: readonly string[]; job: string; readyTimeoutMs?: number }): Promise<PrometheusServer> {
    const dir = await mkdtemp(join(tmpdir(), 'rtms-prometheus-'));
    const config = [
      'global:',
      '  scrape_interval: 1s',
      '  scrape_timeout: 1s',
      '  evaluation_interval: 1s',
      'scrape_configs:',
      `  - job_name: ${JSON.stringify(options.job)}`,
      '    static_configs:',
      `      - targets: [${options.targets.map((target) => JSON.stringify(target)).join(', ')}]`,
      '',
    ].join('\n');
    await writeFile(join(dir, 'prometheus.yml'), config);
    const port = await freePort();
    const child = spawn(
      PROMETHEUS_BIN,
      [
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--log.level=warn',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const output: string[] = [];
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => output.push(chunk));
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => output.push(chunk));
    const exited = new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.once('error', (error) => {
        output.push(String(error));
        resolve();
      });
    });
    const server = new PrometheusServer({ baseUrl: `http://127.0.0.1:${port}`, child, dir, output, exited });
    try {
      await server.#untilReady(options.readyTimeoutMs ?? 20_000);
    } catch (error) {
      await server.stop();
      throw error;
    }
    return server;
  }

  /** Everything Prometheus printed so far. */
  get output(): string {
    return this.#output.join('');
  }

  /** Instant query at `time` (unix seconds; default now). Rejects with Prometheus's error text. */
  async query(expr: string, time?: number): Promise<PromSample[]> {
    const params = new URLSearchParams({ query: expr });
    if (time !== undefined) params.set('time', String(time));
    const response = await fetch(`${this.baseUrl}/api/v1/query`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: params,
    });
    const body = (await response.json()) as { status: string; error?: string; data?: { resultType: string; result: unknown } };
    if (body.status !== 'success') throw new Error(`${body.error ?? `HTTP ${response.status}`}`);
    const data = body.data!;
    if (data.resultType === 'scalar') return [{ metric: {}, value: data.result as [number, string] }];
    if (data.resultType !== 'vector') throw new Error(`unexpected result type ${data.resultType}`);
    return data.result as PromSample[];
  }

  /** Values of `label` over the series matching `match` (what Grafana's `label_values()` shows). */
  async labelValues(label: string, match: string): Promise<string[]> {
    const params = new URLSearchParams({ 'match[]': match });
    const response = await fetch(`${this.baseUrl}/api/v1/label/${encodeURIComponent(label)}/values?${params.toString()}`);
    const body = (await response.json()) as { status: string; error?: string; data?: string[] };
    if (body.status !== 'success') throw new Error(body.error ?? `HTTP ${response.status}`);
    return body.data ?? [];
  }

  /** Polls `expr` until it returns a series whose value satisfies `predicate`; resolves with that value. */
  async waitFor(expr: string, predicate: (value: number) => boolean, what: string, timeoutMs = 30_000): Promise<number> {
    let last = 'no series';
    return eventually(
      async () => {
        const result = await this.query(expr);
        last = JSON.stringify(result.map((sample) => sample.value[1]));
        const match = result.find((sample) => predicate(Number(sample.value[1])));
        return match === undefined ? undefined : Number(match.value[1]);
      },
      { what: `Prometheus: ${what}`, timeoutMs, intervalMs: 250, state: () => `${expr} → ${last}\n${this.output}` },
    );
  }

  /** SIGTERM, then SIGKILL after 5 s; removes the storage directory. Idempotent. */
  async stop(): Promise<void> {
    if (this.#child.exitCode === null && this.#child.signalCode === null && this.#child.pid !== undefined) {
      this.#child.kill('SIGTERM');
      const killer = setTimeout(() => this.#child.kill('SIGKILL'), 5000);
      await this.#exited;
      clearTimeout(killer);
    }
    await rm(this.#dir, { recursive: true, force: true });
  }

  async #untilReady(timeoutMs: number): Promise<void> {
    let exited = false;
    void this.#exited.then(() => (exited = true));
    const outcome = await eventually(
      async () => {
        if (exited) return 'exited';
        // Throws while it is not listening yet: eventually tries again.
        const response = await fetch(`${this.baseUrl}/-/ready`);
        await response.arrayBuffer();
        return response.status === 200 ? 'ready' : undefined;
      },
      { what: 'Prometheus /-/ready', timeoutMs, intervalMs: 100 },
    ).catch(() => 'not ready' as const);
    if (outcome === 'ready') return;
    const hint = this.output.includes('ENOENT') ? ' (install the Debian package `prometheus`, or set PROMETHEUS_BIN)' : '';
    throw new Error(`Prometheus ${outcome === 'exited' ? 'exited' : `was not ready within ${timeoutMs} ms`}${hint}:\n${this.output}`);
  }
}

/** Runs `promtool` with `args` (and `stdin`, if given); resolves with its exit code and output. */
export function promtool(args: readonly string[], stdin?: string): Promise<{ code: number | null; output: string }> {
  const child = spawn(PROMTOOL_BIN, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, output }));
    child.stdin.end(stdin ?? '');
  });
}
