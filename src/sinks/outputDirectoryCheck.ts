import { randomBytes } from 'node:crypto';
import { open, stat, statfs, unlink } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { makeDirectory } from '../media/makeDirectory.ts';

/**
 * Is `OUTPUT_DIR` usable? It must exist or be creatable, be a directory on a regular
 * filesystem, and take a file: a probe file is really written and removed, since mode bits
 * say nothing about read-only mounts, ACLs or a full disk. Run at start-up (an unusable one
 * stops the process) and periodically for `/readyz` (`OutputDirectoryMonitor`).
 */

export const OUTPUT_DIR_PROBLEMS = ['pseudo_filesystem', 'cannot_create', 'not_a_directory', 'not_writable'] as const;
export type OutputDirProblem = (typeof OUTPUT_DIR_PROBLEMS)[number];

export type OutputDirCheck =
  | { readonly usable: true }
  | {
      readonly usable: false;
      readonly problem: OutputDirProblem;
      /** errno code (`EACCES`, `EROFS`, `ENOSPC`, …) or the pseudo filesystem's name. */
      readonly code: string;
    };

/**
 * Kernel filesystems that hold no files (statfs `f_type`, from linux/magic.h). A directory
 * there cannot be created or written, and Node's recursive mkdir spins on some of them.
 */
const PSEUDO_FILESYSTEMS: ReadonlyMap<number, string> = new Map([
  [0x9fa0, 'proc'],
  [0x62656572, 'sysfs'],
  [0x1cd1, 'devpts'],
  [0x27e0eb, 'cgroup'],
  [0x63677270, 'cgroup2'],
  [0x64626720, 'debugfs'],
  [0x74726163, 'tracefs'],
  [0x73636673, 'securityfs'],
  [0x6165676c, 'pstore'],
  [0xcafe4a11, 'bpf'],
  [0x62656570, 'configfs'],
  [0x65735543, 'fusectl'],
  [0x42494e4d, 'binfmt_misc'],
  [0x19800202, 'mqueue'],
  [0xf97cff8c, 'selinuxfs'],
  [0xde5e81e4, 'efivarfs'],
  [0x6e736673, 'nsfs'],
]);

/** The pseudo filesystem `path` (or its nearest existing ancestor) lives on, if any. */
async function pseudoFilesystemOf(path: string): Promise<string | undefined> {
  let current = path;
  for (;;) {
    try {
      return PSEUDO_FILESYSTEMS.get((await statfs(current)).type);
    } catch (error) {
      const parent = dirname(current);
      if (errorCode(error) !== 'ENOENT' || parent === current) return undefined;
      current = parent;
    }
  }
}

export async function checkOutputDirectory(directory: string): Promise<OutputDirCheck> {
  const path = resolve(directory);
  const pseudo = await pseudoFilesystemOf(path);
  if (pseudo !== undefined) return { usable: false, problem: 'pseudo_filesystem', code: pseudo };
  try {
    await makeDirectory(path);
  } catch (error) {
    const code = errorCode(error) ?? 'UNEXPECTED';
    const notADirectory = code === 'ENOTDIR' || code === 'EEXIST';
    return { usable: false, problem: notADirectory ? 'not_a_directory' : 'cannot_create', code: notADirectory ? 'ENOTDIR' : code };
  }
  try {
    if (!(await stat(path)).isDirectory()) return { usable: false, problem: 'not_a_directory', code: 'ENOTDIR' };
  } catch (error) {
    return { usable: false, problem: 'cannot_create', code: errorCode(error) ?? 'UNEXPECTED' };
  }
  const probe = join(path, `.rtms-write-probe-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    const handle = await open(probe, 'wx');
    try {
      await handle.write('probe\n');
    } finally {
      await handle.close();
    }
    await unlink(probe);
  } catch (error) {
    await unlink(probe).catch(() => undefined);
    return { usable: false, problem: 'not_writable', code: errorCode(error) ?? 'UNEXPECTED' };
  }
  return { usable: true };
}

/** One line for the start-up error and logs: what `OUTPUT_DIR` must be, and what it is. */
export function describeOutputDirProblem(directory: string, check: Exclude<OutputDirCheck, { usable: true }>): string {
  const path = JSON.stringify(resolve(directory));
  const uid = typeof process.getuid === 'function' ? ` by uid ${process.getuid()}` : '';
  switch (check.problem) {
    case 'pseudo_filesystem':
      return `OUTPUT_DIR: expected a directory on a regular filesystem, got ${path} on ${check.code}`;
    case 'cannot_create':
      return `OUTPUT_DIR: expected a directory that exists or can be created${uid}, got ${path} (${check.code})`;
    case 'not_a_directory':
      return `OUTPUT_DIR: expected a directory, got ${path}, which is not one (${check.code})`;
    case 'not_writable':
      return `OUTPUT_DIR: expected a directory writable${uid}, got ${path} (${check.code})`;
  }
}

function errorCode(error: unknown): string | undefined {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}
