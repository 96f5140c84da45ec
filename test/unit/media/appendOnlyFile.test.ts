import { readFile, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AppendOnlyFile } from '../../../src/media/appendOnlyFile.ts';
import { tempDir } from './mediaTools.ts';

let dir: Awaited<ReturnType<typeof tempDir>>;
beforeEach(async () => {
  dir = await tempDir();
});
afterEach(async () => {
  await dir.remove();
});

describe('AppendOnlyFile', () => {
  it('queues appends in memory and writes them all, in order, at flush', async () => {
    const path = join(dir.path, 'nested', 'log.bin');
    const file = new AppendOnlyFile({ path });
    const chunks = Array.from({ length: 5000 }, (_, i) => Buffer.from(`${i},`));
    for (const chunk of chunks) file.append(chunk);
    const total = chunks.reduce((sum, chunk) => sum + chunk.length, 0);
    // Synchronous and syscall-free until flush: the file (and its directory) do not exist yet.
    await expect(stat(path)).rejects.toMatchObject({ code: 'ENOENT' });
    expect(file.stats()).toMatchObject({ pendingBytes: total, pendingRecords: 5000, bytesWritten: 0, recordsWritten: 0 });

    await file.flush();
    expect(file.stats()).toMatchObject({ pendingBytes: 0, pendingRecords: 0, bytesWritten: total, recordsWritten: 5000 });
    file.append(Buffer.from('late,'));
    expect(file.stats()).toMatchObject({ pendingBytes: 5, pendingRecords: 1 });
    await file.close();
    expect(await readFile(path, 'utf8')).toBe(`${chunks.join('')}late,`);
    expect(file.stats()).toMatchObject({ pendingBytes: 0, recordsWritten: 5001 });
  });

  it('copies small chunks at append (the caller may reuse them) and queues large ones by reference', async () => {
    const path = join(dir.path, 'staged.bin');
    const file = new AppendOnlyFile({ path });
    const small = Buffer.from('small-');
    const large = Buffer.alloc(100 * 1024, 0x41);
    // Mixed sizes, several flush intervals, and a staging buffer that fills up mid-interval.
    const expected: Buffer[] = [];
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 2000; i++) {
        small.write(String(i % 10), 5);
        file.append(small);
        expected.push(Buffer.from(small));
        if (i % 700 === 0) {
          file.append(large, 0);
          expected.push(large);
        }
      }
      small.fill(0x2e); // the copy already taken is unaffected
      await file.flush();
    }
    await file.close();
    const content = await readFile(path);
    expect(content.equals(Buffer.concat(expected))).toBe(true);
    expect(file.stats()).toMatchObject({ pendingBytes: 0, pendingRecords: 0, recordsWritten: 6000, bytesWritten: content.length });
  });

  it('continues an existing header-less file (formats that concatenate)', async () => {
    const path = join(dir.path, 'lines.txt');
    await writeFile(path, 'old\n');
    const file = new AppendOnlyFile({ path });
    file.append(Buffer.from('new\n'));
    await file.close();
    expect(await readFile(path, 'utf8')).toBe('old\nnew\n');
  });

  it('keeps a header in front that always describes the content on disk', async () => {
    const path = join(dir.path, 'with-header.bin');
    const rendered: number[] = [];
    const file = new AppendOnlyFile({
      path,
      header: {
        bytes: 4,
        render: (contentBytes) => {
          rendered.push(contentBytes);
          const header = Buffer.alloc(4);
          header.writeUInt32LE(contentBytes);
          return header;
        },
      },
    });
    file.append(Buffer.from('abc'));
    file.append(Buffer.from('de'), 0);
    await file.flush();
    let bytes = await readFile(path);
    expect(bytes.readUInt32LE(0)).toBe(5);
    expect(bytes.subarray(4).toString()).toBe('abcde');
    await file.flush(); // nothing new: no header rewrite
    file.appendPadding(Buffer.from('!'));
    await file.close();
    bytes = await readFile(path);
    expect(bytes.readUInt32LE(0)).toBe(6);
    expect(rendered).toEqual([0, 5, 6]);
    // Padding is file format, not content: not accounted.
    expect(file.stats()).toMatchObject({ bytesWritten: 5, recordsWritten: 1 });
    expect(file.contentBytes).toBe(6);
  });

  it('keeps a batch it could not write for a retry, counts it as failed if still failing at close, and never rejects', async () => {
    const blocker = join(dir.path, 'not-a-directory');
    await writeFile(blocker, 'x');
    const errors: Error[] = [];
    const retries: Error[] = [];
    const file = new AppendOnlyFile({
      path: join(blocker, 'sub', 'file.bin'),
      onError: (error) => errors.push(error),
      onRetry: (error) => retries.push(error),
    });
    file.append(Buffer.from('one'));
    file.append(Buffer.from('two'));
    await file.flush();
    expect(file.stats()).toMatchObject({ recordsFailed: 0, pendingRecords: 2 });
    file.append(Buffer.from('three'));
    await file.flush();
    await file.close();
    expect(errors).toEqual([]);
    expect(retries.map((error) => (error as NodeJS.ErrnoException).code)).toEqual(['ENOTDIR', 'ENOTDIR', 'ENOTDIR']);
    expect(file.stats()).toMatchObject({ recordsFailed: 3, recordsWritten: 0, pendingBytes: 0, pendingRecords: 0 });
    expect(file.stats().retryError).toBe(retries.at(-1));
  });

  it('reports a write failure on a full disk (/dev/full) as ENOSPC', async () => {
    const path = join(dir.path, 'full.bin');
    await symlink('/dev/full', path);
    const errors: Error[] = [];
    const file = new AppendOnlyFile({ path, onError: (error) => errors.push(error) });
    file.append(Buffer.alloc(1024));
    await file.close();
    expect(errors.map((error) => (error as NodeJS.ErrnoException).code)).toEqual(['ENOSPC']);
    expect(file.stats()).toMatchObject({ recordsFailed: 1, recordsWritten: 0 });
  });

  it('destroy() abandons queued data but leaves what was flushed', async () => {
    const path = join(dir.path, 'destroyed.bin');
    const file = new AppendOnlyFile({ path });
    file.append(Buffer.from('kept'));
    await file.flush();
    file.append(Buffer.from('lost'));
    file.append(Buffer.from('lost'));
    await file.destroy();
    file.append(Buffer.from('after'));
    await file.close(); // idempotent with destroy, no reopen
    expect(await readFile(path, 'utf8')).toBe('kept');
    expect(file.stats()).toMatchObject({ recordsWritten: 1, recordsAbandoned: 3, pendingBytes: 0 });
  });
});
