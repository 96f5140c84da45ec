import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeDirectory } from '../../../src/media/makeDirectory.ts';

describe('makeDirectory', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'rtms-mkdir-'));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('creates every missing level and accepts one that exists', async () => {
    const deep = join(root, 'a', 'b', 'c');
    await makeDirectory(deep);
    expect((await stat(deep)).isDirectory()).toBe(true);
    await makeDirectory(deep);
    await makeDirectory(root);
  });

  it('two callers making the same tree at once both succeed', async () => {
    const deep = join(root, 'x', 'y', 'z');
    await Promise.all([makeDirectory(deep), makeDirectory(deep), makeDirectory(join(deep, 'w'))]);
    expect((await stat(join(deep, 'w'))).isDirectory()).toBe(true);
  });

  it('a file at the path is EEXIST (as mkdir -p says); a file among its parents is ENOTDIR', async () => {
    await writeFile(join(root, 'file'), 'x');
    await expect(makeDirectory(join(root, 'file'))).rejects.toMatchObject({ code: 'EEXIST' });
    await expect(makeDirectory(join(root, 'file', 'below'))).rejects.toMatchObject({ code: 'ENOTDIR' });
  });

  // Node's recursive mkdir never settles here (its libuv thread spins); this one answers.
  it('rejects under procfs instead of spinning', async () => {
    await expect(makeDirectory('/proc/rtms-nope/deeper')).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
