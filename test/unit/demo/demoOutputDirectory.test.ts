import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DemoDirectoryNotOwnedError, prepareDemoOutputDirectory } from '../../../demo/demoOutputDirectory.ts';
import { tempDir } from '../media/mediaTools.ts';

let dir: Awaited<ReturnType<typeof tempDir>>;
beforeEach(async () => {
  dir = await tempDir('rtms-demo-dir-');
});
afterEach(async () => {
  await dir.remove();
});

describe('prepareDemoOutputDirectory', () => {
  it('creates demo-output and ignores OUTPUT_DIR, so a recording there is never touched', async () => {
    const recordings = join(dir.path, 'recordings');
    await mkdir(recordings);
    await writeFile(join(recordings, 'audio.wav'), 'precious');
    const saved = process.env['OUTPUT_DIR'];
    process.env['OUTPUT_DIR'] = recordings;
    try {
      const directory = await prepareDemoOutputDirectory(dir.path);
      expect(directory).toBe(join(dir.path, 'demo-output'));
    } finally {
      if (saved === undefined) delete process.env['OUTPUT_DIR'];
      else process.env['OUTPUT_DIR'] = saved;
    }
    expect(await readFile(join(recordings, 'audio.wav'), 'utf8')).toBe('precious');
  });

  it('empties a directory an earlier demo made', async () => {
    const first = await prepareDemoOutputDirectory(dir.path);
    await writeFile(join(first, 'old.wav'), 'x');
    await prepareDemoOutputDirectory(dir.path);
    expect(await readdir(first)).toEqual(['.rtms-connector-demo']);
  });

  it('refuses, and deletes nothing, when demo-output holds files the demo did not make', async () => {
    const foreign = join(dir.path, 'demo-output');
    await mkdir(foreign);
    await writeFile(join(foreign, 'mine.txt'), 'keep');
    await expect(prepareDemoOutputDirectory(dir.path)).rejects.toBeInstanceOf(DemoDirectoryNotOwnedError);
    expect(await readFile(join(foreign, 'mine.txt'), 'utf8')).toBe('keep');
  });
});
