import { readFileSync, readdirSync } from 'node:fs';

/**
 * Readers for `/proc/<pid>` (Linux): CPU time of a whole process (every thread), resident
 * memory, and per-thread CPU. The benchmark measures other processes from the outside, so
 * what it reports is what `top` or a container's cgroup would charge for them.
 */

/** Clock ticks per second of `/proc/<pid>/stat` times (`getconf CLK_TCK`; 100 on every Linux we target). */
export const CLOCK_TICKS_PER_SECOND = 100;

/** Fields 14 (utime) and 15 (stime) of a `stat` file, seconds; undefined when unreadable. */
function statCpu(path: string): { user: number; system: number } | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) is in parentheses and may contain spaces: parse after the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state), so utime (field 14) is fields[11] and stime (15) fields[12].
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) return undefined;
  return { user: utime / CLOCK_TICKS_PER_SECOND, system: stime / CLOCK_TICKS_PER_SECOND };
}

export interface CpuTimes {
  /** User-mode CPU, seconds. */
  readonly user: number;
  /** Kernel-mode CPU (syscalls: sockets, files), seconds. */
  readonly system: number;
}

/** utime and stime of the whole process (all threads, including exited ones), seconds. */
export function processCpu(pid: number): CpuTimes | undefined {
  return statCpu(`/proc/${pid}/stat`);
}

/** utime + stime of the whole process, seconds. */
export function processCpuSeconds(pid: number): number | undefined {
  const cpu = statCpu(`/proc/${pid}/stat`);
  return cpu === undefined ? undefined : cpu.user + cpu.system;
}

/**
 * utime and stime per thread name, seconds, summed over live threads of the same name (e.g.
 * the four `libuv-worker` threads of the file-system pool count as one entry).
 */
export function threadCpu(pid: number): Record<string, CpuTimes> {
  const result: Record<string, { user: number; system: number }> = {};
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return result;
  }
  for (const tid of tids) {
    const cpu = statCpu(`/proc/${pid}/task/${tid}/stat`);
    let name = '?';
    try {
      name = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
    } catch {
      // thread exited
    }
    if (cpu === undefined) continue;
    const entry = (result[name] ??= { user: 0, system: 0 });
    entry.user += cpu.user;
    entry.system += cpu.system;
  }
  return result;
}

/** VmRSS of a process, bytes; undefined when unreadable. */
export function processRssBytes(pid: number): number | undefined {
  try {
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match?.[1] === undefined ? undefined : Number(match[1]) * 1024;
  } catch {
    return undefined;
  }
}

/** 1-, 5- and 15-minute load averages of the machine. */
export function loadAverage(): [number, number, number] {
  try {
    const [one, five, fifteen] = readFileSync('/proc/loadavg', 'utf8').split(' ').map(Number);
    return [one ?? Number.NaN, five ?? Number.NaN, fifteen ?? Number.NaN];
  } catch {
    return [Number.NaN, Number.NaN, Number.NaN];
  }
}

/** Busy and total jiffies of the whole machine (`/proc/stat` line `cpu`), to compute machine utilisation over a window. */
export function machineCpuTicks(): { busy: number; total: number } {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
    const values = line.trim().split(/\s+/).slice(1).map(Number);
    const total = values.reduce((sum, value) => sum + value, 0);
    const idle = (values[3] ?? 0) + (values[4] ?? 0);
    return { busy: total - idle, total };
  } catch {
    return { busy: 0, total: 0 };
  }
}
