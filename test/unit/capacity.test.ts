import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cgroupCpuQuota, deriveCapacity } from '../../src/capacity.ts';
import { loadConfig } from '../../src/config.ts';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const NO_LIMIT = 18446744073709552000; // process.constrainedMemory() without a limit

describe('deriveCapacity', () => {
  it('uses the host when there are no limits', () => {
    expect(deriveCapacity({ hostCpus: 2, hostMemoryBytes: 23 * GiB, constrainedMemoryBytes: NO_LIMIT, cpuQuota: undefined })).toEqual({
      cpus: 2,
      cpuSource: 'host',
      memoryBytes: 23 * GiB,
      memorySource: 'host',
      defaultMaxStreams: 500,
      defaultWorkerThreads: 2,
    });
    expect(deriveCapacity({ hostCpus: 4, hostMemoryBytes: 8 * GiB, constrainedMemoryBytes: 0, cpuQuota: undefined }).memorySource).toBe('host');
  });

  it('docker run --memory 256m --cpus 0.5: 16 streams, 1 worker', () => {
    expect(deriveCapacity({ hostCpus: 2, hostMemoryBytes: 23 * GiB, constrainedMemoryBytes: 256 * MiB, cpuQuota: 0.5 })).toEqual({
      cpus: 0.5,
      cpuSource: 'cgroup',
      memoryBytes: 256 * MiB,
      memorySource: 'cgroup',
      defaultMaxStreams: 16,
      defaultWorkerThreads: 1,
    });
  });

  it('a CPU quota bounds streams and rounds workers up; a quota above the cores changes nothing', () => {
    expect(deriveCapacity({ hostCpus: 8, hostMemoryBytes: 64 * GiB, constrainedMemoryBytes: NO_LIMIT, cpuQuota: 1.5 })).toMatchObject({
      cpus: 1.5,
      defaultMaxStreams: 375,
      defaultWorkerThreads: 2,
    });
    expect(deriveCapacity({ hostCpus: 2, hostMemoryBytes: 64 * GiB, constrainedMemoryBytes: NO_LIMIT, cpuQuota: 4 })).toMatchObject({
      cpus: 2,
      cpuSource: 'host',
    });
  });

  it('never goes below one stream and one worker', () => {
    expect(deriveCapacity({ hostCpus: 1, hostMemoryBytes: 8 * GiB, constrainedMemoryBytes: 8 * MiB, cpuQuota: 0.01 })).toMatchObject({
      defaultMaxStreams: 1,
      defaultWorkerThreads: 1,
    });
  });

  it('gives loadConfig its defaults; MAX_STREAMS and WORKER_THREADS still win', () => {
    const capacity = deriveCapacity({ hostCpus: 2, hostMemoryBytes: 23 * GiB, constrainedMemoryBytes: 256 * MiB, cpuQuota: 0.5 });
    const required = { ZM_RTMS_CLIENT: 'c', ZM_RTMS_SECRET: 's', ZM_WEBHOOK_SECRET_TOKEN: 't' };
    expect(loadConfig(required, { capacity })).toMatchObject({ maxStreams: 16, workerThreads: 1, capacity });
    expect(loadConfig({ ...required, MAX_STREAMS: '40', WORKER_THREADS: '3' }, { capacity })).toMatchObject({ maxStreams: 40, workerThreads: 3 });
  });
});

describe('cgroupCpuQuota (fixture cgroup trees)', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'rtms-cgroup-'));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  async function file(path: string, text: string): Promise<void> {
    await mkdir(join(root, path, '..'), { recursive: true });
    await writeFile(join(root, path), text);
  }

  it('cgroup v2 in a container (cgroup namespace): cpu.max at the root', async () => {
    await file('cgroup.controllers', 'cpu memory pids\n');
    await file('cpu.max', '50000 100000\n');
    expect(cgroupCpuQuota(root, '0::/\n')).toBe(0.5);
  });

  it('cgroup v2 without a quota: undefined', async () => {
    await file('cgroup.controllers', 'cpu memory\n');
    await file('cpu.max', 'max 100000\n');
    expect(cgroupCpuQuota(root, '0::/\n')).toBeUndefined();
  });

  it('cgroup v2 on a host: the tightest of the process cgroup and its ancestors', async () => {
    await file('cgroup.controllers', 'cpu memory\n');
    await file('system.slice/cpu.max', '300000 100000\n');
    await file('system.slice/rtms.service/cpu.max', 'max 100000\n');
    expect(cgroupCpuQuota(root, '0::/system.slice/rtms.service\n')).toBe(3);
    await file('system.slice/rtms.service/cpu.max', '150000 100000\n');
    expect(cgroupCpuQuota(root, '0::/system.slice/rtms.service\n')).toBe(1.5);
  });

  it('cgroup v1: cfs_quota_us / cfs_period_us under the cpu controller; -1 is no quota', async () => {
    await file('cpu/cpu.cfs_quota_us', '-1\n');
    await file('cpu/cpu.cfs_period_us', '100000\n');
    const self = '4:memory:/x\n2:cpu,cpuacct:/docker/abc\n0::/\n';
    expect(cgroupCpuQuota(root, self)).toBeUndefined();
    // Docker without a cgroup namespace: the host's path is not mounted; the root is the container's.
    await file('cpu/cpu.cfs_quota_us', '200000\n');
    expect(cgroupCpuQuota(root, self)).toBe(2);
    await file('cpu/docker/abc/cpu.cfs_quota_us', '25000\n');
    await file('cpu/docker/abc/cpu.cfs_period_us', '100000\n');
    expect(cgroupCpuQuota(root, self)).toBe(0.25);
  });

  it('no cgroup files at all: undefined', () => {
    expect(cgroupCpuQuota(join(root, 'missing'), '')).toBeUndefined();
  });
});
