import { readFile } from 'node:fs/promises';

/** The PCM content of a WAV file, as its header describes it. */
export interface WavData {
  /** WAVE format tag: 1 = integer PCM. */
  readonly format: number;
  readonly sampleRateHz: number;
  readonly channels: number;
  readonly bitsPerSample: number;
  /** Exactly the bytes of the `data` chunk, as many as the header declares. */
  readonly data: Buffer;
  /** Bytes on disk after the declared data chunk (pad byte, later chunks, or data a header refresh has not covered yet). */
  readonly trailingBytes: number;
}

/**
 * Reads a WAV file's data chunk, for byte-for-byte comparisons in tests and the demo.
 * Throws if the file is not RIFF/WAVE, lacks `fmt ` or `data`, or declares more data than
 * it holds.
 */
export async function readWavData(path: string): Promise<WavData> {
  return parseWav(await readFile(path));
}

/** {@link readWavData} on bytes already in memory. */
export function parseWav(file: Buffer): WavData {
  if (file.length < 12 || file.toString('ascii', 0, 4) !== 'RIFF' || file.toString('ascii', 8, 12) !== 'WAVE') {
    throw new Error('not a RIFF/WAVE file');
  }
  let format: Omit<WavData, 'data' | 'trailingBytes'> | undefined;
  let offset = 12;
  while (offset + 8 <= file.length) {
    const id = file.toString('ascii', offset, offset + 4);
    const size = file.readUInt32LE(offset + 4);
    const body = offset + 8;
    if (id === 'fmt ') {
      if (size < 16 || body + 16 > file.length) throw new Error('truncated fmt chunk');
      format = {
        format: file.readUInt16LE(body),
        channels: file.readUInt16LE(body + 2),
        sampleRateHz: file.readUInt32LE(body + 4),
        bitsPerSample: file.readUInt16LE(body + 14),
      };
    } else if (id === 'data') {
      if (format === undefined) throw new Error('data chunk before fmt chunk');
      if (body + size > file.length) throw new Error(`data chunk declares ${size} bytes, file holds ${file.length - body}`);
      return { ...format, data: file.subarray(body, body + size), trailingBytes: file.length - body - size };
    }
    // Chunks are word-aligned: an odd-sized chunk is followed by a pad byte.
    offset = body + size + (size % 2);
  }
  throw new Error('no data chunk');
}

/** A 16-bit PCM WAV file holding `pcm` (s16le, interleaved), for tests that hand audio to ffmpeg. */
export function wavFile(pcm: Buffer, sampleRateHz: number, channels: number): Buffer {
  const header = Buffer.alloc(44);
  header.write('RIFF', 0, 'ascii');
  header.writeUInt32LE(36 + pcm.length, 4);
  header.write('WAVEfmt ', 8, 'ascii');
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20);
  header.writeUInt16LE(channels, 22);
  header.writeUInt32LE(sampleRateHz, 24);
  header.writeUInt32LE(sampleRateHz * channels * 2, 28);
  header.writeUInt16LE(channels * 2, 32);
  header.writeUInt16LE(16, 34);
  header.write('data', 36, 'ascii');
  header.writeUInt32LE(pcm.length, 40);
  return Buffer.concat([header, pcm]);
}
