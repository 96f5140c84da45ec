import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { connectorEnv } from '../../support/connectorProcess.ts';
import { randomCredentials } from '../connectorHarness.ts';
import { eventually } from '../../support/eventually.ts';

/**
 * Signals reach a connector whose stdout reader has gone (`connector | head -1`, a dead log
 * shipper), and a demo stopped by `timeout`, Ctrl-C or `kill` takes its connector with it.
 */

const MAIN = fileURLToPath(new URL('../../../src/main.ts', import.meta.url));
const DEMO = fileURLToPath(new URL('../../../demo/demoMain.ts', import.meta.url));
const FIXTURE = fileURLToPath(new URL('./fixtures/logThenExit.ts', import.meta.url));

function exitOf(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

/** Resolves with the first stdout line that matches. */
function lineMatching(child: ChildProcess, pattern: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      if (pattern.test(line)) {
        lines.close();
        resolve(line);
      }
    });
    child.once('exit', (code) => reject(new Error(`exited with ${code} before printing ${pattern}`)));
  });
}

async function childrenOf(pid: number): Promise<number[]> {
  const children: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    // Fields after the command name (which may hold spaces): state, ppid, …
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (ppid === pid) children.push(Number(entry));
  }
  return children;
}

async function untilGone(pid: number, timeoutMs: number): Promise<boolean> {
  const gone = async (): Promise<boolean> => {
    const state = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
    // Gone, or a zombie waiting for its reaper.
    return state === undefined || state.slice(state.lastIndexOf(')') + 2).startsWith('Z');
  };
  return eventually(gone, { what: `process ${pid} gone`, timeoutMs, intervalMs: 50 }).catch(() => false);
}

describe('signals', () => {
  it('SIGTERM stops a connector whose stdout reader has gone (EPIPE), exit 0', async () => {
    const outputDir = await mkdtemp(join(tmpdir(), 'rtms-epipe-'));
    const child = spawn(process.execPath, [MAIN], {
      env: {
        ...connectorEnv({ credentials: randomCredentials(), outputDir, adminToken: 'admin-token-for-tests-0123456789abcdef' }),
        PORT: '0',
        HOST: '127.0.0.1',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    try {
      await lineMatching(child, /rtms-connector listening/);
      // Like `| head -1`: the reader closes its end; every later log line meets EPIPE.
      child.stdout.destroy();
      child.kill('SIGTERM');
      expect(await exitOf(child)).toEqual({ code: 0, signal: null });
      expect(stderr).toBe('');
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await rm(outputDir, { recursive: true, force: true });
    }
  });

  it('a process whose stdout reader has gone still exits when it logs right before process.exit', async () => {
    const child = spawn(process.execPath, [FIXTURE], { stdio: ['pipe', 'pipe', 'inherit'] });
    try {
      // The reader closes first; pino's asynchronous stdout then retried EPIPE forever in
      // its exit-time flush, and process.exit never returned.
      child.stdout.destroy();
      child.stdin.write('go\n');
      const exited = await Promise.race([exitOf(child), new Promise<'hung'>((resolve) => setTimeout(() => resolve('hung'), 15_000).unref())]);
      expect(exited).toEqual({ code: 0, signal: null });
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });

  it.each([
    ['SIGTERM', 143],
    ['SIGINT', 130],
  ] as const)(
    '%s to the demo stops its connector too',
    async (signal, exitCode) => {
      const cwd = await mkdtemp(join(tmpdir(), 'rtms-demo-signal-'));
      const demo = spawn(process.execPath, [DEMO], { cwd, env: { PATH: process.env['PATH'] ?? '' }, stdio: ['ignore', 'pipe', 'pipe'] });
      try {
        await lineMatching(demo, /^streaming \d+ streams/);
        const connectors = await childrenOf(demo.pid!);
        expect(connectors).toHaveLength(1);
        demo.kill(signal);
        expect(await exitOf(demo)).toEqual({ code: exitCode, signal: null });
        expect(await untilGone(connectors[0]!, 20_000)).toBe(true);
      } finally {
        if (demo.exitCode === null && demo.signalCode === null) demo.kill('SIGKILL');
        await rm(cwd, { recursive: true, force: true });
      }
    },
    60_000,
  );
});
