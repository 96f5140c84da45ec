import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readWavData } from '../../support/wavReader.ts';
import { WAV_HEADER_BYTES, WAV_MAX_DATA_BYTES, WavWriter } from '../../../src/media/wavWriter.ts';
import { pcmFrame, probeAudio, tempDir } from './mediaTools.ts';

let dir: Awaited<ReturnType<typeof tempDir>>;
beforeEach(async () => {
  dir = await tempDir();
});
afterEach(async () => {
  await dir.remove();
});

/** RIFF size and data size fields of the canonical 44-byte header. */
async function headerSizes(path: string): Promise<{ riff: number; data: number; fileBytes: number }> {
  const file = await readFile(path);
  return { riff: file.readUInt32LE(4), data: file.readUInt32LE(40), fileBytes: file.length };
}

describe('WavWriter', () => {
  it('stores exactly the PCM given, in order, and ffprobe reads rate, channels and duration', async () => {
    const path = join(dir.path, 'audio.wav');
    const writer = new WavWriter({ path, sampleRateHz: 16000, channels: 1 });
    // 2 s of 20 ms frames (640 bytes) with a few odd-sized-but-even frames in between.
    const frames = Array.from({ length: 100 }, (_, i) => pcmFrame(i, i % 10 === 9 ? 320 : 640));
    const total = frames.reduce((sum, frame) => sum + frame.length, 0);
    for (const frame of frames) writer.append(frame);
    await writer.close();

    const wav = await readWavData(path);
    expect(wav).toMatchObject({ format: 1, sampleRateHz: 16000, channels: 1, bitsPerSample: 16, trailingBytes: 0 });
    expect(wav.data.equals(Buffer.concat(frames))).toBe(true);
    expect(writer.stats()).toMatchObject({ recordsWritten: 100, bytesWritten: total, pendingBytes: 0, pendingRecords: 0 });

    const probe = await probeAudio(path);
    expect(probe).toMatchObject({ sampleRate: 16000, channels: 1, codec: 'pcm_s16le' });
    expect(probe.durationS).toBeCloseTo(total / 32000, 3);
  });

  it('writes stereo 48 kHz headers that ffprobe accepts', async () => {
    const path = join(dir.path, 'stereo.wav');
    const writer = new WavWriter({ path, sampleRateHz: 48000, channels: 2 });
    const frames = Array.from({ length: 50 }, (_, i) => pcmFrame(i, 3840)); // 20 ms each
    for (const frame of frames) writer.append(frame);
    await writer.close();
    const probe = await probeAudio(path);
    expect(probe).toMatchObject({ sampleRate: 48000, channels: 2, codec: 'pcm_s16le' });
    expect(probe.durationS).toBeCloseTo(1, 3);
    expect((await readWavData(path)).data.equals(Buffer.concat(frames))).toBe(true);
  });

  it('is a valid WAV mid-stream: after each flush the header matches the bytes on disk', async () => {
    const path = join(dir.path, 'live.wav');
    const writer = new WavWriter({ path, sampleRateHz: 16000, channels: 1 });
    const first = Array.from({ length: 25 }, (_, i) => pcmFrame(i, 640));
    for (const frame of first) writer.append(frame);
    // Appending is synchronous and writes nothing: no file before the first flush.
    await expect(stat(path)).rejects.toMatchObject({ code: 'ENOENT' });
    expect(writer.stats().pendingBytes).toBe(16000);

    await writer.flush();
    let sizes = await headerSizes(path);
    expect(sizes).toEqual({ riff: 36 + 16000, data: 16000, fileBytes: WAV_HEADER_BYTES + 16000 });
    expect((await probeAudio(path)).durationS).toBeCloseTo(0.5, 3);
    expect((await readWavData(path)).data.equals(Buffer.concat(first))).toBe(true);

    const second = Array.from({ length: 25 }, (_, i) => pcmFrame(100 + i, 640));
    for (const frame of second) writer.append(frame);
    await writer.flush();
    sizes = await headerSizes(path);
    expect(sizes).toEqual({ riff: 36 + 32000, data: 32000, fileBytes: WAV_HEADER_BYTES + 32000 });
    expect((await probeAudio(path)).durationS).toBeCloseTo(1, 3);

    await writer.close();
    expect((await readWavData(path)).data.equals(Buffer.concat([...first, ...second]))).toBe(true);
  });

  it('creates a valid empty WAV when closed without data', async () => {
    const path = join(dir.path, 'empty.wav');
    const writer = new WavWriter({ path, sampleRateHz: 8000, channels: 1 });
    await writer.close();
    expect(await headerSizes(path)).toEqual({ riff: 36, data: 0, fileBytes: 44 });
    expect((await readWavData(path)).data.length).toBe(0);
  });

  it('appends silence as whole zero samples, counted as data but not as frames', async () => {
    const path = join(dir.path, 'gap.wav');
    const writer = new WavWriter({ path, sampleRateHz: 16000, channels: 2 });
    const frame = pcmFrame(1, 1280);
    writer.append(frame);
    writer.appendSilence(2500); // 2.5 s × 16000 × 4 bytes = 160000 bytes, more than one shared zero buffer
    writer.appendSilence(0.03); // rounds to 0 samples
    writer.appendSilence(0.1); // rounds to 2 samples
    writer.append(frame);
    await writer.close();
    const wav = await readWavData(path);
    expect(wav.data.length).toBe(1280 + 160000 + 8 + 1280);
    expect(wav.data.subarray(0, 1280).equals(frame)).toBe(true);
    expect(wav.data.subarray(1280, 1280 + 160008).every((byte) => byte === 0)).toBe(true);
    expect(wav.data.subarray(1280 + 160008).equals(frame)).toBe(true);
    expect(writer.stats()).toMatchObject({ recordsWritten: 2, bytesWritten: wav.data.length });
    expect(() => writer.appendSilence(-1)).toThrow(RangeError);
  });

  it('keeps an odd byte count as given and adds the RIFF pad byte on close', async () => {
    const path = join(dir.path, 'odd.wav');
    const writer = new WavWriter({ path, sampleRateHz: 16000, channels: 1 });
    writer.append(Buffer.from([1, 2, 3]));
    await writer.flush();
    // Before close: no pad yet, header describes the 3 bytes.
    expect(await headerSizes(path)).toEqual({ riff: 36 + 3, data: 3, fileBytes: 47 });
    await writer.close();
    expect(await headerSizes(path)).toEqual({ riff: 36 + 4, data: 3, fileBytes: 48 });
    const wav = await readWavData(path);
    expect([...wav.data]).toEqual([1, 2, 3]);
    expect(wav.trailingBytes).toBe(1);
    expect(writer.stats().bytesWritten).toBe(3);
    await probeAudio(path);
  });

  it('refuses data beyond maxDataBytes and documents the 4 GiB limit', async () => {
    expect(WAV_MAX_DATA_BYTES).toBe(2 ** 32 - 1 - 37);
    const writer = new WavWriter({ path: join(dir.path, 'small.wav'), sampleRateHz: 16000, channels: 1, maxDataBytes: 1000 });
    writer.append(pcmFrame(0, 640));
    expect(writer.remainingBytes).toBe(360);
    expect(() => writer.append(pcmFrame(1, 640))).toThrow(RangeError);
    expect(() => writer.appendSilence(20)).toThrow(RangeError);
    await writer.close();
    expect((await readWavData(join(dir.path, 'small.wav'))).data.length).toBe(640);
    expect(() => new WavWriter({ path: 'x', sampleRateHz: 16000, channels: 1, maxDataBytes: WAV_MAX_DATA_BYTES + 1 })).toThrow(RangeError);
    expect(() => new WavWriter({ path: 'x', sampleRateHz: 0, channels: 1 })).toThrow(RangeError);
    expect(() => new WavWriter({ path: 'x', sampleRateHz: 16000, channels: 0 })).toThrow(RangeError);
  });

  it('never overwrites an existing file: the error is reported once and the data counted as failed', async () => {
    const path = join(dir.path, 'taken.wav');
    await writeFile(path, 'previous recording');
    const errors: Error[] = [];
    const writer = new WavWriter({ path, sampleRateHz: 16000, channels: 1, onError: (error) => errors.push(error) });
    writer.append(pcmFrame(0, 640));
    await writer.flush();
    writer.append(pcmFrame(1, 640));
    await writer.flush();
    await writer.close();
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ code: 'EEXIST' });
    expect(writer.stats()).toMatchObject({ recordsWritten: 0, recordsFailed: 2, pendingBytes: 0 });
    expect(await readFile(path, 'utf8')).toBe('previous recording');
  });
});
