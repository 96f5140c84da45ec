import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ImageFrameWriter } from '../../../src/media/imageFrameWriter.ts';
import { makeJpegs, tempDir } from './mediaTools.ts';

let dir: Awaited<ReturnType<typeof tempDir>>;
beforeEach(async () => {
  dir = await tempDir();
});
afterEach(async () => {
  await dir.remove();
});

describe('ImageFrameWriter', () => {
  it('writes each frame to <timestamp>.jpg, suffixing same-timestamp frames, byte for byte', async () => {
    const jpegs = await makeJpegs(dir.path, 4);
    const directory = join(dir.path, 'video');
    const writer = new ImageFrameWriter({ directory, extension: 'jpg' });
    writer.append(1_700_000_000_000, jpegs[0]!);
    writer.append(1_700_000_000_200, jpegs[1]!);
    writer.append(1_700_000_000_200, jpegs[2]!);
    writer.append(1_700_000_000_200, jpegs[3]!);
    expect(writer.stats().pendingRecords).toBe(4);
    await writer.close();
    expect((await readdir(directory)).sort()).toEqual(['1700000000000.jpg', '1700000000200-1.jpg', '1700000000200-2.jpg', '1700000000200.jpg']);
    expect((await readFile(join(directory, '1700000000200.jpg'))).equals(jpegs[1]!)).toBe(true);
    expect((await readFile(join(directory, '1700000000200-2.jpg'))).equals(jpegs[3]!)).toBe(true);
    const total = jpegs.reduce((sum, jpeg) => sum + jpeg.length, 0);
    expect(writer.stats()).toMatchObject({ recordsWritten: 4, bytesWritten: total, pendingBytes: 0 });
  });

  it('never overwrites a file already on disk: moves on to the next free suffix', async () => {
    const directory = join(dir.path, 'deskshare');
    await mkdir(directory);
    await writeFile(join(directory, '5000.png'), 'earlier run');
    await writeFile(join(directory, '5000-1.png'), 'earlier run');
    const writer = new ImageFrameWriter({ directory, extension: 'png' });
    writer.append(5000, Buffer.from('new'));
    writer.append(5000.7, Buffer.from('newer'));
    await writer.close();
    expect((await readdir(directory)).sort()).toEqual(['5000-1.png', '5000-2.png', '5000-3.png', '5000.png']);
    expect(await readFile(join(directory, '5000.png'), 'utf8')).toBe('earlier run');
    expect(await readFile(join(directory, '5000-2.png'), 'utf8')).toBe('new');
    expect(await readFile(join(directory, '5000-3.png'), 'utf8')).toBe('newer');
  });

  it('keeps images it cannot write for a retry, and counts them as failed only when closed still failing', async () => {
    const directory = join(dir.path, 'video');
    const retries: Error[] = [];
    const errors: Error[] = [];
    const writer = new ImageFrameWriter({ directory, extension: 'jpg', onRetry: (error) => retries.push(error), onError: (error) => errors.push(error) });
    writer.append(1, Buffer.from('a'));
    await writer.flush();
    // The directory disappears and a regular file takes its place.
    await rm(directory, { recursive: true });
    await writeFile(directory, 'not a directory');
    writer.append(2, Buffer.from('b'));
    writer.append(3, Buffer.from('c'));
    await writer.flush();
    expect(retries.map((error) => (error as NodeJS.ErrnoException).code)).toEqual(['EEXIST']);
    expect(writer.stats()).toMatchObject({ recordsWritten: 1, recordsFailed: 0, pendingRecords: 2 });
    writer.append(4, Buffer.from('d'));
    await writer.close();
    expect(errors).toEqual([]);
    expect(writer.stats()).toMatchObject({ recordsWritten: 1, recordsFailed: 3, pendingRecords: 0, pendingBytes: 0 });
  });

  it('writes what waited once the directory can be made again', async () => {
    const directory = join(dir.path, 'video');
    const writer = new ImageFrameWriter({ directory, extension: 'jpg' });
    writer.append(1, Buffer.from('a'));
    await writer.flush();
    await rm(directory, { recursive: true });
    await writeFile(directory, 'not a directory');
    writer.append(2, Buffer.from('b'));
    await writer.flush();
    await rm(directory);
    await writer.close();
    // The deleted directory is made again; the image that waited is in it.
    expect(await readdir(directory)).toEqual(['2.jpg']);
    expect(writer.stats()).toMatchObject({ recordsWritten: 2, recordsFailed: 0, pendingRecords: 0 });
  });
});
