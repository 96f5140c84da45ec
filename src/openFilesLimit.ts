import { readFileSync } from 'node:fs';

/**
 * The process's open-files limit (soft `RLIMIT_NOFILE`, which Node raises to the hard limit
 * at start-up), read from `/proc/self/limits`; undefined where that file does not exist
 * (not Linux) or says `unlimited`. Node has no getrlimit of its own.
 */
export function openFilesLimit(limitsText: string | undefined = readLimits()): number | undefined {
  const line = limitsText?.split('\n').find((row) => row.startsWith('Max open files'));
  const soft = line === undefined ? undefined : /^Max open files\s+(\d+)/.exec(line)?.[1];
  return soft === undefined ? undefined : Number(soft);
}

function readLimits(): string | undefined {
  try {
    return readFileSync('/proc/self/limits', 'utf8');
  } catch {
    return undefined;
  }
}
