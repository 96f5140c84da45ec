import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { StreamCheckpoint } from '../../../src/sinks/streamCheckpoint.ts';
import { mountSmallTmpfs, type SmallTmpfs } from '../../support/smallTmpfs.ts';

// A real full disk (tmpfs) under the stream directory.
let disk: SmallTmpfs;
beforeAll(async () => {
  disk = await mountSmallTmpfs(256 * 1024);
});
afterAll(async () => {
  await disk.unmount();
});
beforeEach(async () => {
  await disk.free();
  for (const name of await readdir(disk.path)) await rm(join(disk.path, name), { recursive: true, force: true });
});

const DOCUMENT = { state: 'ended', padding: 'x'.repeat(20_000) };

describe('StreamCheckpoint', () => {
  it('a failed write keeps the previous stream.json, leaves no temp file, and says why', async () => {
    const directory = join(disk.path, 'stream-1');
    const checkpoint = new StreamCheckpoint({ directory });
    expect(await checkpoint.write({ state: 'live' })).toBe(true);
    await disk.fill();
    expect(await checkpoint.write(DOCUMENT)).toBe(false);
    expect(checkpoint.lastError).toBe('ENOSPC');
    expect(JSON.parse(await readFile(join(directory, 'stream.json'), 'utf8'))).toEqual({ state: 'live' });
    expect(await readdir(directory)).toEqual(['stream.json']);
    await disk.free();
    expect(await checkpoint.write(DOCUMENT)).toBe(true);
    expect(checkpoint.lastError).toBeUndefined();
  });

  it('recreates a deleted stream directory', async () => {
    const directory = join(disk.path, 'stream-1');
    const checkpoint = new StreamCheckpoint({ directory });
    expect(await checkpoint.write({ state: 'live' })).toBe(true);
    await rm(directory, { recursive: true });
    expect(await checkpoint.write({ state: 'ended' })).toBe(true);
    expect(JSON.parse(await readFile(join(directory, 'stream.json'), 'utf8'))).toEqual({ state: 'ended' });
  });

  it('the final write is retried until it succeeds', async () => {
    const directory = join(disk.path, 'stream-1');
    const checkpoint = new StreamCheckpoint({ directory });
    await disk.fill();
    let attempts = 0;
    const final = checkpoint.writeFinal(() => {
      attempts += 1;
      return { ...DOCUMENT, attempts };
    }, Date.now() + 60_000);
    // Space comes back once a few attempts have failed.
    while (attempts < 3) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(checkpoint.lastError).toBe('ENOSPC');
    await disk.free();
    expect(await final).toBe(true);
    const written = JSON.parse(await readFile(join(directory, 'stream.json'), 'utf8')) as { attempts: number };
    expect(written.attempts).toBe(attempts);
    expect(await readdir(directory)).toEqual(['stream.json']);
  });

  it('the final write gives up at its deadline, leaving no temp file', async () => {
    const directory = join(disk.path, 'stream-1');
    const checkpoint = new StreamCheckpoint({ directory });
    await checkpoint.write({ state: 'live' });
    await disk.fill();
    expect(await checkpoint.writeFinal(() => DOCUMENT, Date.now() + 300)).toBe(false);
    expect(await readdir(directory)).toEqual(['stream.json']);
    expect(JSON.parse(await readFile(join(directory, 'stream.json'), 'utf8'))).toEqual({ state: 'live' });
  });
});
