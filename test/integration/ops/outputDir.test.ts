import { execFile, spawn } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectorProcess, connectorEnv } from '../../support/connectorProcess.ts';
import { randomCredentials } from '../connectorHarness.ts';
import { eventually } from '../../support/eventually.ts';

/**
 * OUTPUT_DIR is checked before the connector starts (exit 2, one line naming it) and
 * re-checked while it runs (`/readyz`). Real filesystems: procfs, sysfs, a read-only tmpfs
 * remounted under the live process, and a non-root uid.
 */

const run = promisify(execFile);
const MAIN = fileURLToPath(new URL('../../../src/main.ts', import.meta.url));

/** Runs the connector until it exits; resolves with its exit code and stderr lines. */
function startUp(outputDir: string, options: { uid?: number } = {}): Promise<{ code: number | null; stderr: string[] }> {
  const child = spawn(process.execPath, [MAIN], {
    env: {
      ...connectorEnv({ credentials: randomCredentials(), outputDir, adminToken: 'admin-token-for-tests-0123456789abcdef' }),
      PORT: '0',
      HOST: '127.0.0.1',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
    ...(options.uid === undefined ? {} : { uid: options.uid, gid: options.uid }),
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => {
    child.once('exit', (code) => {
      // A connector that unexpectedly started is stopped by the timeout in the test.
      resolve({ code, stderr: stderr.split('\n').filter((line) => line !== '') });
    });
    setTimeout(() => child.kill('SIGKILL'), 20_000).unref();
  });
}

async function mountTmpfs(directory: string, options: string): Promise<void> {
  try {
    await run('mount', ['-t', 'tmpfs', '-o', `${options},size=1m`, 'tmpfs', directory]);
  } catch (error) {
    throw new Error(`this test needs to mount a tmpfs (run as root): ${(error as Error).message}`, { cause: error });
  }
}

describe('OUTPUT_DIR at start-up', () => {
  let scratch: string;
  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'rtms-outdir-'));
  });
  afterAll(async () => {
    await rm(scratch, { recursive: true, force: true });
  });

  it.each([
    ['/proc/rtms-nope', 'on proc'],
    ['/proc/rtms-nope/deeper', 'on proc'],
    ['/sys/kernel/rtms-nope', 'on sysfs'],
  ])('refuses %s (a pseudo filesystem) with one line and exit 2', async (outputDir, says) => {
    const { code, stderr } = await startUp(outputDir);
    expect(code).toBe(2);
    expect(stderr).toEqual([`config: OUTPUT_DIR: expected a directory on a regular filesystem, got "${outputDir}" ${says}`]);
  });

  it('refuses a read-only mount with one line naming OUTPUT_DIR and EROFS', async () => {
    const readOnly = join(scratch, 'ro');
    await mkdir(readOnly);
    await mountTmpfs(readOnly, 'ro');
    try {
      const { code, stderr } = await startUp(readOnly);
      expect(code).toBe(2);
      expect(stderr).toHaveLength(1);
      expect(stderr[0]).toMatch(/^config: OUTPUT_DIR: expected a directory writable by uid 0, got ".*\/ro" \(EROFS\)$/);
      // Below it, the directory cannot be created.
      const below = await startUp(join(readOnly, 'data'));
      expect(below.code).toBe(2);
      expect(below.stderr[0]).toMatch(/expected a directory that exists or can be created by uid 0, got .*\(EROFS\)$/);
    } finally {
      await run('umount', [readOnly]);
    }
  });

  it('refuses a directory the (non-root) uid cannot write, and a file', async () => {
    const rootOwned = join(scratch, 'root-owned');
    await mkdir(rootOwned);
    await chmod(scratch, 0o755);
    await chmod(rootOwned, 0o755);
    const { code, stderr } = await startUp(rootOwned, { uid: 65534 });
    expect(code).toBe(2);
    expect(stderr).toEqual([`config: OUTPUT_DIR: expected a directory writable by uid 65534, got "${rootOwned}" (EACCES)`]);

    const file = await startUp('/etc/hostname');
    expect(file.code).toBe(2);
    expect(file.stderr).toEqual(['config: OUTPUT_DIR: expected a directory, got "/etc/hostname", which is not one (ENOTDIR)']);
  });

  it('creates a missing OUTPUT_DIR and leaves no probe file behind', async () => {
    const fresh = join(scratch, 'a', 'b', 'c');
    const connector = await ConnectorProcess.start({
      env: connectorEnv({ credentials: randomCredentials(), outputDir: fresh, adminToken: 'admin-token-for-tests-0123456789abcdef' }),
    });
    try {
      expect((await fetch(`${connector.baseUrl}/readyz`)).status).toBe(200);
      expect(await readdir(fresh)).toEqual([]);
    } finally {
      expect(await connector.stop()).toBe(0);
    }
  });
});

describe('OUTPUT_DIR while running', () => {
  it('/readyz turns 503 when the volume turns read-only and 200 when it is writable again', async () => {
    const mountPoint = await mkdtemp(join(tmpdir(), 'rtms-outdir-live-'));
    await mountTmpfs(mountPoint, 'rw');
    const connector = await ConnectorProcess.start({
      env: connectorEnv({
        credentials: randomCredentials(),
        outputDir: mountPoint,
        adminToken: 'admin-token-for-tests-0123456789abcdef',
        extra: { OUTPUT_DIR_CHECK_INTERVAL_MS: '100' },
      }),
    });
    const readyz = async (): Promise<number> => (await fetch(`${connector.baseUrl}/readyz`)).status;
    const until = async (status: number): Promise<void> => {
      await eventually(async () => (await readyz()) === status, { what: `/readyz answering ${status}`, timeoutMs: 10_000, intervalMs: 50 });
    };
    try {
      expect(await readyz()).toBe(200);
      await run('mount', ['-o', 'remount,ro', mountPoint]);
      await until(503);
      const problem = connector.logLines.map((line) => JSON.parse(line) as Record<string, unknown>).find((entry) => entry['component'] === 'output-dir');
      expect(problem).toMatchObject({ problem: 'not_writable', code: 'EROFS' });
      expect(String(problem?.['msg'])).toContain('OUTPUT_DIR');
      await run('mount', ['-o', 'remount,rw', mountPoint]);
      await until(200);
    } finally {
      expect(await connector.stop()).toBe(0);
      await run('umount', [mountPoint]);
      await rm(mountPoint, { recursive: true, force: true });
    }
  });
});
