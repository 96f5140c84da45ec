import { readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AnnexBWriter } from '../../../src/media/annexBWriter.ts';
import { FrameIndex, INDEX_RECORD_BYTES, type FrameStamp, type IndexRecord } from '../../../src/media/frameIndex.ts';
import { WAV_HEADER_BYTES, WavWriter } from '../../../src/media/wavWriter.ts';
import { readWavData } from '../../support/wavReader.ts';
import { tempDir } from './mediaTools.ts';

let dir: Awaited<ReturnType<typeof tempDir>>;
beforeEach(async () => {
  dir = await tempDir();
});
afterEach(async () => {
  await dir.remove();
});

async function readIndex(path: string): Promise<IndexRecord[]> {
  const text = await readFile(path, 'utf8');
  expect(text === '' || text.endsWith('\n')).toBe(true);
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as IndexRecord);
}

/** Every frame the records stand for, as (timestamp, offset, bytes, user). */
function expand(records: readonly IndexRecord[], byteRate: number | undefined): Array<[number, number, number, string, string | undefined]> {
  return records.flatMap((record) => {
    const frameBytes = record.bytes / record.frames;
    return Array.from({ length: record.frames }, (_, i): [number, number, number, string, string | undefined] => [
      record.ts + (byteRate === undefined ? 0 : (i * frameBytes * 1000) / byteRate),
      record.offset + i * frameBytes,
      frameBytes,
      record.userId,
      record.userName,
    ]);
  });
}

const alice = (timestamp: number): FrameStamp => ({ timestamp, userId: '16778240', userName: 'Alice' });
const pcm = (bytes: number, fill: number): Buffer => Buffer.alloc(bytes, fill);

describe('FrameIndex beside a WAV', () => {
  it('one record per contiguous run: a new one at a gap, a user change, a size change, silence and each flush', async () => {
    const path = join(dir.path, 'audio.wav');
    // 16 kHz mono: 640 bytes = 20 ms.
    const writer = new WavWriter({ path, sampleRateHz: 16000, channels: 1, index: true });
    const expected: Array<[number, number, number, string, string | undefined]> = [];
    let offset = WAV_HEADER_BYTES;
    const add = (bytes: number, stamp: FrameStamp): void => {
      writer.append(pcm(bytes, expected.length), stamp);
      expected.push([stamp.timestamp, offset, bytes, stamp.userId, stamp.userName]);
      offset += bytes;
    };
    for (let i = 0; i < 5; i++) add(640, alice(1000 + i * 20)); // run 1
    add(640, alice(5000)); // gap: timestamps jump
    add(640, alice(5020));
    add(640, { timestamp: 5040, userId: '0', userName: undefined }); // another user
    add(320, { timestamp: 5060, userId: '0', userName: undefined }); // another size
    writer.appendSilence(100); // gap filled: 3200 bytes of no frame
    offset += 3200;
    add(640, alice(5200));
    await writer.flush();
    add(640, alice(5220)); // contiguous, but after a flush: a new record
    await writer.close();

    const records = await readIndex(`${path}.index.jsonl`);
    expect(records.map((record) => [record.ts, record.frames])).toEqual([
      [1000, 5],
      [5000, 2],
      [5040, 1],
      [5060, 1],
      [5200, 1],
      [5220, 1],
    ]);
    expect(records[2]).not.toHaveProperty('userName');
    expect(expand(records, 32000)).toEqual(expected);
    // The index describes exactly the frames' bytes: the rest of the data is the silence.
    const wav = await readWavData(path);
    expect(records.reduce((sum, record) => sum + record.bytes, 0)).toBe(wav.data.length - 3200);
    expect(writer.pendingBytes).toBe(0);
  });

  it('nothing is indexed before its data is on disk, and pending records count in the pending bytes', async () => {
    const path = join(dir.path, 'audio.wav');
    const writer = new WavWriter({ path, sampleRateHz: 16000, channels: 1, index: true });
    writer.append(pcm(640, 1), alice(1000));
    writer.append(pcm(640, 1), alice(2000));
    expect(writer.pendingBytes).toBe(1280 + 2 * INDEX_RECORD_BYTES);
    await expect(stat(`${path}.index.jsonl`)).rejects.toMatchObject({ code: 'ENOENT' });
    await writer.flush();
    expect(await readIndex(`${path}.index.jsonl`)).toHaveLength(2);
    expect(writer.pendingBytes).toBe(0);
    await writer.close();
  });

  it('a record spanning a batch boundary is split at a frame: frames appended during a write wait for the next commit', async () => {
    const index = new FrameIndex({ path: join(dir.path, 'x.index.jsonl'), baseOffset: 44, byteRate: 32000 });
    for (let i = 0; i < 4; i++) index.note(640, alice(1000 + i * 20));
    index.commit(1280);
    index.commit(2560);
    const records = await readIndex(join(dir.path, 'x.index.jsonl'));
    expect(records.map((record) => [record.ts, record.offset, record.bytes, record.frames])).toEqual([
      [1000, 44, 1280, 2],
      [1040, 44 + 1280, 1280, 2],
    ]);
    expect(index.pendingBytes).toBe(0);
  });

  it('rollback puts a commit back (its batch was cut back): the index is written again once, never twice', async () => {
    const path = join(dir.path, 'x.index.jsonl');
    const index = new FrameIndex({ path, baseOffset: 0, byteRate: 32000 });
    index.note(640, alice(1000));
    index.commit(640);
    index.note(640, alice(2000));
    index.commit(1280);
    index.rollback();
    expect((await readIndex(path)).map((record) => record.ts)).toEqual([1000]);
    index.commit(1280);
    expect((await readIndex(path)).map((record) => record.ts)).toEqual([1000, 2000]);
    expect(index.recordsWritten).toBe(2);
  });

  it('discarded data takes its records along; what follows is indexed where it really lands', async () => {
    const path = join(dir.path, 'x.index.jsonl');
    const index = new FrameIndex({ path, baseOffset: 44, byteRate: 32000 });
    index.note(640, alice(1000));
    index.commit(640);
    index.note(640, alice(1020));
    index.discard(640);
    index.note(640, alice(3000));
    index.commit(1280);
    expect((await readIndex(path)).map((record) => [record.ts, record.offset])).toEqual([
      [1000, 44],
      [3000, 44 + 640],
    ]);
  });

  it('an index deleted behind its back starts again rather than failing the media file', async () => {
    const path = join(dir.path, 'x.index.jsonl');
    const index = new FrameIndex({ path, baseOffset: 0, byteRate: 32000 });
    index.note(640, alice(1000));
    index.commit(640);
    await rm(path);
    index.note(640, alice(5000));
    index.commit(1280);
    expect((await readIndex(path)).map((record) => record.ts)).toEqual([5000]);
  });
});

describe('FrameIndex beside an H.264 file', () => {
  it('one record per access unit, repair bytes included in its range', async () => {
    const path = join(dir.path, 'video.h264');
    const writer = new AnnexBWriter({ path, index: true });
    const annexB = Buffer.from([0, 0, 0, 1, 0x65, 1, 2, 3]);
    const bare = Buffer.from([0x41, 9, 9]); // no start code: 4 bytes are prepended
    const who = (timestamp: number): FrameStamp => ({ timestamp, userId: '7', userName: 'Bob' });
    writer.append(annexB, who(1000));
    writer.append(annexB, who(1000)); // the same timestamp twice stays two records
    writer.append(bare, who(1033));
    await writer.close();
    const records = await readIndex(`${path}.index.jsonl`);
    expect(records).toEqual([
      { ts: 1000, offset: 0, bytes: 8, frames: 1, userId: '7', userName: 'Bob' },
      { ts: 1000, offset: 8, bytes: 8, frames: 1, userId: '7', userName: 'Bob' },
      { ts: 1033, offset: 16, bytes: 7, frames: 1, userId: '7', userName: 'Bob' },
    ]);
    const file = await readFile(path);
    expect(file.length).toBe(23);
    expect(file.subarray(16, 23)).toEqual(Buffer.concat([Buffer.from([0, 0, 0, 1]), bare]));
  });
});
