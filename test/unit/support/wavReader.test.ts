import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseWav, readWavData } from '../../support/wavReader.ts';
import { tempDir } from '../media/mediaTools.ts';

const run = promisify(execFile);

let dir: Awaited<ReturnType<typeof tempDir>>;
beforeEach(async () => {
  dir = await tempDir();
});
afterEach(async () => {
  await dir.remove();
});

describe('readWavData', () => {
  it("reads ffmpeg's WAV (with a LIST chunk before data) to the same PCM as ffmpeg's raw output", async () => {
    const wavPath = join(dir.path, 'tone.wav');
    const rawPath = join(dir.path, 'tone.raw');
    const source = ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=8000:duration=0.5', '-ac', '2'];
    await run('ffmpeg', [...source, '-c:a', 'pcm_s16le', wavPath]);
    await run('ffmpeg', [...source, '-f', 's16le', '-c:a', 'pcm_s16le', rawPath]);
    const wav = await readWavData(wavPath);
    expect(wav).toMatchObject({ format: 1, sampleRateHz: 8000, channels: 2, bitsPerSample: 16, trailingBytes: 0 });
    expect(wav.data.equals(await readFile(rawPath))).toBe(true);
  });

  it('rejects files that are not WAV or declare more data than they hold', () => {
    expect(() => parseWav(Buffer.from('not a wav file at all'))).toThrow(/RIFF/);
    const header = Buffer.alloc(44);
    header.write('RIFF', 0, 'ascii');
    header.write('WAVE', 8, 'ascii');
    header.write('fmt ', 12, 'ascii');
    header.writeUInt32LE(16, 16);
    header.writeUInt16LE(1, 20);
    header.writeUInt16LE(1, 22);
    header.writeUInt32LE(16000, 24);
    header.writeUInt16LE(16, 34);
    header.write('data', 36, 'ascii');
    header.writeUInt32LE(100, 40);
    expect(() => parseWav(header)).toThrow(/declares 100 bytes/);
  });
});
