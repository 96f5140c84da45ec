import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, rmdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { cgroupCpuQuota } from '../../../src/capacity.ts';
import { connectorEnv } from '../../support/connectorProcess.ts';
import { randomCredentials } from '../connectorHarness.ts';

/**
 * The connector started inside a real CPU-limited cgroup (0.5 CPU, like `docker run
 * --cpus 0.5`) takes its defaults from the quota, logs them and exports them.
 */

const MAIN = fileURLToPath(new URL('../../../src/main.ts', import.meta.url));
const CGROUP_ROOT = '/sys/fs/cgroup';

/** A new CPU cgroup with a 0.5 CPU quota (v2 `cpu.max` or v1 `cpu.cfs_quota_us`); its directory. */
async function halfCpuCgroup(): Promise<string> {
  const name = `rtms-test-${randomBytes(4).toString('hex')}`;
  const v2 = await readFile(join(CGROUP_ROOT, 'cgroup.controllers'), 'utf8').then(
    () => true,
    () => false,
  );
  const directory = v2 ? join(CGROUP_ROOT, name) : join(CGROUP_ROOT, 'cpu', name);
  try {
    await mkdir(directory);
    if (v2) await writeFile(join(directory, 'cpu.max'), '50000 100000');
    else await writeFile(join(directory, 'cpu.cfs_quota_us'), '50000');
  } catch (error) {
    throw new Error(`this test needs to create a CPU cgroup under ${CGROUP_ROOT} (run as root): ${(error as Error).message}`, { cause: error });
  }
  return directory;
}

describe('container-aware defaults', () => {
  it('under a 0.5 CPU cgroup quota: 1 worker, at most 125 streams, logged and exported as rtms_capacity_cpus', async () => {
    const cgroup = await halfCpuCgroup();
    const outputDir = await mkdtemp(join(tmpdir(), 'rtms-capacity-'));
    // The shell joins the cgroup, then becomes the connector (same pid).
    const child = spawn('sh', ['-c', `echo $$ > ${join(cgroup, 'cgroup.procs')} && exec "$0" "$1"`, process.execPath, MAIN], {
      env: {
        ...connectorEnv({ credentials: randomCredentials(), outputDir, adminToken: 'admin-token-for-tests-0123456789abcdef' }),
        PORT: '0',
        HOST: '127.0.0.1',
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    try {
      const entries: Array<Record<string, unknown>> = [];
      const port = await new Promise<number>((resolve, reject) => {
        void exited.then((code) => reject(new Error(`connector exited with ${code}`)));
        createInterface({ input: child.stdout }).on('line', (line) => {
          const entry = JSON.parse(line) as Record<string, unknown>;
          entries.push(entry);
          if (entry['msg'] === 'rtms-connector listening') resolve(entry['port'] as number);
        });
      });
      expect(entries.find((entry) => entry['msg'] === 'capacity')).toMatchObject({
        cpus: 0.5,
        cpuSource: 'cgroup',
        workerThreads: 1,
        defaults: { workerThreads: 1 },
      });
      const capacityLine = entries.find((entry) => entry['msg'] === 'capacity')!;
      // 250 streams per CPU, unless memory (16 MiB per stream) allows fewer.
      expect(capacityLine['maxStreams']).toBe(Math.min(125, Math.floor((capacityLine['memoryBytes'] as number) / (16 * 1024 * 1024))));
      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      expect(metrics).toContain('rtms_capacity_cpus{source="cgroup"} 0.5');
      expect(metrics).toContain('rtms_worker_threads 1');
      expect(metrics).toMatch(/^rtms_capacity_memory_bytes\{source="(cgroup|host)"\} \d+$/m);
      expect(metrics).toContain('rtms_output_dir_usable 1');
      // Read from the child's own view, the same quota.
      const self = await readFile(`/proc/${child.pid}/cgroup`, 'utf8');
      expect(cgroupCpuQuota(CGROUP_ROOT, self)).toBe(0.5);
    } finally {
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      await rmdir(cgroup);
      await rm(outputDir, { recursive: true, force: true });
    }
  });
});
