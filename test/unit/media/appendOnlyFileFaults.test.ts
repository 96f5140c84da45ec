import { readdir, readFile, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AppendOnlyFile } from '../../../src/media/appendOnlyFile.ts';
import { JsonLinesWriter } from '../../../src/media/jsonLinesWriter.ts';
import { readWavData } from '../../support/wavReader.ts';
import { WavWriter } from '../../../src/media/wavWriter.ts';
import { mountSmallTmpfs, type SmallTmpfs } from '../../support/smallTmpfs.ts';
import { probeAudio } from './mediaTools.ts';

// Real faults on real files: a 512 KiB tmpfs filled to ENOSPC, and files unlinked while open.
let disk: SmallTmpfs;
beforeAll(async () => {
  disk = await mountSmallTmpfs(512 * 1024);
});
afterAll(async () => {
  await disk.unmount();
});
beforeEach(async () => {
  await disk.free();
  for (const name of await readdir(disk.path)) await unlink(join(disk.path, name)).catch(() => undefined);
});

function codes(errors: Error[]): string[] {
  return errors.map((error) => (error as NodeJS.ErrnoException).code ?? error.name);
}

describe('AppendOnlyFile on a full disk', () => {
  it('cuts a batch that failed half way back to the last complete batch, keeps it, and writes it once space is back', async () => {
    const path = join(disk.path, 'data.bin');
    const retries: Error[] = [];
    const errors: Error[] = [];
    const file = new AppendOnlyFile({ path, onRetry: (error) => retries.push(error), onError: (error) => errors.push(error) });
    const first = Buffer.alloc(10_000, 0x61);
    file.append(first);
    await file.flush();
    await disk.fill();
    // Larger than any page the file system still had: the write stops part way, then ENOSPC.
    const big = Array.from({ length: 40 }, (_, i) => Buffer.alloc(3000, 0x30 + (i % 10)));
    for (const chunk of big) file.append(chunk);
    await file.flush();
    expect(codes(retries)).toEqual(['ENOSPC']);
    expect(errors).toEqual([]);
    // No part of the failed batch stays on disk.
    expect((await stat(path)).size).toBe(first.length);
    expect(file.stats()).toMatchObject({ recordsWritten: 1, recordsFailed: 0, pendingRecords: 40, pendingBytes: 120_000 });
    expect(file.stats().retryError).toBe(retries[0]);

    // Still full: the retry fails the same way, and nothing is lost or duplicated.
    file.append(Buffer.from('tail'));
    await file.flush();
    expect((await stat(path)).size).toBe(first.length);

    await disk.free();
    await file.flush();
    expect(file.stats()).toMatchObject({ recordsWritten: 42, recordsFailed: 0, pendingRecords: 0, retryError: undefined });
    await file.close();
    expect((await readFile(path)).equals(Buffer.concat([first, ...big, Buffer.from('tail')]))).toBe(true);
  });

  it('leaves no torn JSON line', async () => {
    const path = join(disk.path, 'lines.jsonl');
    const writer = new JsonLinesWriter({ path });
    writer.append({ n: 0 });
    await writer.flush();
    await disk.fill();
    for (let n = 1; n <= 2000; n++) writer.append({ n, text: 'x'.repeat(40) });
    await writer.flush();
    const lines = (await readFile(path, 'utf8')).split('\n').filter((line) => line !== '');
    expect(lines.map((line) => JSON.parse(line) as unknown)).toEqual([{ n: 0 }]);
    await disk.free();
    await writer.close();
    const after = (await readFile(path, 'utf8')).split('\n').filter((line) => line !== '');
    expect(after).toHaveLength(2001);
    expect(writer.stats()).toMatchObject({ recordsWritten: 2001, recordsFailed: 0 });
  });

  it('a WAV exists only with a valid header: none while the disk is full, a playable one after', async () => {
    await disk.fill();
    const path = join(disk.path, 'audio.wav');
    const retries: Error[] = [];
    const wav = new WavWriter({ path, sampleRateHz: 16000, channels: 1, onRetry: (error) => retries.push(error) });
    const pcm = Array.from({ length: 20 }, (_, i) => Buffer.alloc(640, i));
    for (const frame of pcm) wav.append(frame);
    await wav.flush();
    expect(codes(retries)).toEqual(['ENOSPC']);
    // Not even a 0-byte file.
    await expect(stat(path)).rejects.toMatchObject({ code: 'ENOENT' });
    await disk.free();
    await wav.flush();
    // Valid mid-stream (before close): the header describes exactly the data on disk.
    expect((await readWavData(path)).data.equals(Buffer.concat(pcm))).toBe(true);
    await wav.close();
    expect(await probeAudio(path)).toMatchObject({ sampleRate: 16000, channels: 1 });
  });

  it('a WAV that fills the disk mid-stream keeps a header matching its data, and continues in place', async () => {
    const path = join(disk.path, 'audio.wav');
    const wav = new WavWriter({ path, sampleRateHz: 16000, channels: 1 });
    const before = Array.from({ length: 10 }, (_, i) => Buffer.alloc(640, i + 1));
    for (const frame of before) wav.append(frame);
    await wav.flush();
    await disk.fill();
    const during = Array.from({ length: 200 }, (_, i) => Buffer.alloc(640, (i % 200) + 1));
    for (const frame of during) wav.append(frame);
    await wav.flush();
    expect((await readWavData(path)).data.equals(Buffer.concat(before))).toBe(true);
    await disk.free();
    await wav.close();
    expect((await readWavData(path)).data.equals(Buffer.concat([...before, ...during]))).toBe(true);
  });

  it('what still waits when it is closed on a full disk is counted as failed, never pending', async () => {
    const path = join(disk.path, 'closing.bin');
    const file = new AppendOnlyFile({ path });
    file.append(Buffer.alloc(1000, 1));
    await file.flush();
    await disk.fill();
    file.append(Buffer.alloc(200_000, 2));
    file.append(Buffer.alloc(10, 3));
    await file.close();
    expect(file.stats()).toMatchObject({ recordsWritten: 1, recordsFailed: 2, pendingRecords: 0, pendingBytes: 0 });
    expect((await stat(path)).size).toBe(1000);
  });
});

describe('AppendOnlyFile deleted while open', () => {
  it('notices the unlinked file at the next flush: that batch is not counted as written, and the file is given up', async () => {
    const path = join(disk.path, 'deleted.bin');
    const errors: Error[] = [];
    const file = new AppendOnlyFile({ path, onError: (error) => errors.push(error) });
    file.append(Buffer.from('kept'));
    await file.flush();
    await unlink(path);
    file.append(Buffer.from('into the void'));
    await file.flush();
    expect(codes(errors)).toEqual(['ENOENT']);
    expect(file.stats()).toMatchObject({ recordsWritten: 1, recordsFailed: 1, pendingRecords: 0 });
    file.append(Buffer.from('later'));
    await file.close();
    expect(file.stats()).toMatchObject({ recordsWritten: 1, recordsFailed: 2 });
    // It is not recreated behind the owner's back: the owner opens a new part.
    await expect(stat(path)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('JSON lines continued after a killed process', () => {
  it('cuts a torn last line off before appending', async () => {
    const path = join(disk.path, 'torn.jsonl');
    await writeFile(path, '{"n":1}\n{"n":2}\n{"n":3,"te');
    const writer = new JsonLinesWriter({ path });
    writer.append({ n: 4 });
    await writer.close();
    expect(await readFile(path, 'utf8')).toBe('{"n":1}\n{"n":2}\n{"n":4}\n');
  });

  it('finds the last complete line however far back it is, and drops a file that is one torn line', async () => {
    const long = `{"text":"${'x'.repeat(200_000)}"}\n`;
    const path = join(disk.path, 'long.jsonl');
    await writeFile(path, `${long}{"torn":"${'y'.repeat(150_000)}`);
    const writer = new JsonLinesWriter({ path });
    writer.append({ n: 1 });
    await writer.close();
    expect(await readFile(path, 'utf8')).toBe(`${long}{"n":1}\n`);

    const onlyTorn = join(disk.path, 'only-torn.jsonl');
    await writeFile(onlyTorn, '{"half":');
    const second = new JsonLinesWriter({ path: onlyTorn });
    second.append({ n: 2 });
    await second.close();
    expect(await readFile(onlyTorn, 'utf8')).toBe('{"n":2}\n');
  });
});
