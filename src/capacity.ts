import { readFileSync } from 'node:fs';
import { availableParallelism, totalmem } from 'node:os';
import { join, posix } from 'node:path';

/**
 * What this process may use: CPU and memory, from the container's cgroup limits when there
 * are any (`docker run --cpus 0.5 --memory 256m`, a Kubernetes pod's limits), else the
 * host's. `MAX_STREAMS` and `WORKER_THREADS` default from it (config.ts); main.ts logs it
 * and `/metrics` exports it (`rtms_capacity_*`). Node's `availableParallelism()` counts the
 * host's cores and `os.totalmem()` the host's memory, whatever the limits.
 */

/** Per-stream budgets behind the defaults (docs/configuration.md): CPU and memory. */
export const STREAMS_PER_CORE = 250;
export const MEMORY_PER_STREAM_BYTES = 16 * 1024 * 1024;

export type LimitSource = 'cgroup' | 'host';

export interface HostCapacity {
  /** CPUs this process may use: the cgroup quota (may be fractional, e.g. 0.5) or the host's cores. */
  readonly cpus: number;
  readonly cpuSource: LimitSource;
  /** Bytes of memory this process may use: the cgroup limit or the host's memory. */
  readonly memoryBytes: number;
  readonly memorySource: LimitSource;
  /** Default `MAX_STREAMS`: min(250 per CPU, memory / 16 MiB), at least 1. */
  readonly defaultMaxStreams: number;
  /** Default `WORKER_THREADS`: the CPUs rounded up, at least 1. */
  readonly defaultWorkerThreads: number;
}

export interface CapacityInputs {
  /** `os.availableParallelism()`. */
  readonly hostCpus: number;
  /** `os.totalmem()`. */
  readonly hostMemoryBytes: number;
  /** `process.constrainedMemory()`: the cgroup memory limit; 0 or a huge value when there is none. */
  readonly constrainedMemoryBytes: number;
  /** The cgroup CPU quota in CPUs, if any (`cgroupCpuQuota()`). */
  readonly cpuQuota: number | undefined;
}

export function deriveCapacity(inputs: CapacityInputs): HostCapacity {
  const quota = inputs.cpuQuota;
  const cpuLimited = quota !== undefined && quota > 0 && quota < inputs.hostCpus;
  const cpus = cpuLimited ? quota : inputs.hostCpus;
  const constrained = inputs.constrainedMemoryBytes;
  const memoryLimited = Number.isFinite(constrained) && constrained > 0 && constrained < inputs.hostMemoryBytes;
  const memoryBytes = memoryLimited ? constrained : inputs.hostMemoryBytes;
  return {
    cpus,
    cpuSource: cpuLimited ? 'cgroup' : 'host',
    memoryBytes,
    memorySource: memoryLimited ? 'cgroup' : 'host',
    defaultMaxStreams: Math.max(1, Math.min(Math.floor(cpus * STREAMS_PER_CORE), Math.floor(memoryBytes / MEMORY_PER_STREAM_BYTES))),
    defaultWorkerThreads: Math.max(1, Math.ceil(cpus)),
  };
}

/**
 * The tightest CPU quota on this process's cgroup and its ancestors, in CPUs; undefined
 * when there is none. cgroup v2: `cpu.max` (`<quota> <period>` or `max <period>`);
 * cgroup v1: `cpu.cfs_quota_us` / `cpu.cfs_period_us` (quota -1 = none). `root` is where
 * cgroups are mounted and `selfCgroup` the text of `/proc/self/cgroup`; both injectable
 * for tests. Inside a container the process's cgroup is usually the mount's root.
 */
export function cgroupCpuQuota(root = '/sys/fs/cgroup', selfCgroup = readText('/proc/self/cgroup') ?? ''): number | undefined {
  const lines = selfCgroup.split('\n').map((line) => line.split(':'));
  const v2Path = lines.find(([id, controllers]) => id === '0' && controllers === '')?.[2];
  const v1Path = lines.find(([, controllers]) => controllers?.split(',').includes('cpu'))?.[2];
  const quotas: number[] = [];
  if (readText(join(root, 'cgroup.controllers')) !== undefined) {
    for (const directory of ancestors(root, v2Path)) {
      const [quota, period] = (readText(join(directory, 'cpu.max')) ?? '').trim().split(/\s+/);
      const cpus = Number(quota) / Number(period);
      if (quota !== 'max' && Number.isFinite(cpus) && cpus > 0) quotas.push(cpus);
    }
  } else {
    for (const directory of ancestors(join(root, 'cpu'), v1Path)) {
      const quota = Number(readText(join(directory, 'cpu.cfs_quota_us')));
      const period = Number(readText(join(directory, 'cpu.cfs_period_us')));
      if (quota > 0 && period > 0) quotas.push(quota / period);
    }
  }
  return quotas.length === 0 ? undefined : Math.min(...quotas);
}

/** The process's cgroup directory under `mount` and each of its ancestors up to `mount`. */
function ancestors(mount: string, path: string | undefined): string[] {
  const directories = [mount];
  let current = posix.normalize(path ?? '/');
  while (current !== '/' && current !== '.') {
    directories.push(join(mount, current));
    current = posix.dirname(current);
  }
  return directories;
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** This process's capacity, read once at start-up. */
export function detectCapacity(): HostCapacity {
  return deriveCapacity({
    hostCpus: availableParallelism(),
    hostMemoryBytes: totalmem(),
    constrainedMemoryBytes: process.constrainedMemory(),
    cpuQuota: cgroupCpuQuota(),
  });
}
