import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readWavData } from '../../support/wavReader.ts';
import { pcmFrame, probeAudio, tempDir } from '../media/mediaTools.ts';

const CHILD = fileURLToPath(new URL('./fixtures/killedSinkChild.ts', import.meta.url));

let dir: Awaited<ReturnType<typeof tempDir>>;
beforeEach(async () => {
  dir = await tempDir('rtms-kill-');
});
afterEach(async () => {
  await dir.remove();
});

describe('FileSink under SIGKILL', () => {
  it('leaves a playable audio.wav whose header never claims more than is on disk, and a parseable stream.json', async () => {
    const child = spawn(process.execPath, [CHILD, dir.path], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = once(child, 'exit');
    // Wait for three flushes that put audio on disk, then kill mid-stream.
    let flushes = 0;
    for await (const line of createInterface({ input: child.stdout })) {
      if (line.startsWith('written ')) flushes += 1;
      if (flushes >= 3) break;
    }
    expect(flushes, stderr).toBe(3);
    child.kill('SIGKILL');
    const [code, signal] = await exited;
    expect({ code, signal }).toEqual({ code: null, signal: 'SIGKILL' });

    const path = join(dir.path, 'audio.wav');
    const file = await readFile(path);
    const wav = await readWavData(path);
    expect(wav).toMatchObject({ format: 1, sampleRateHz: 16000, channels: 1, bitsPerSample: 16 });
    // Header: RIFF size consistent with the data size; data is whole frames, all on disk.
    expect(file.readUInt32LE(4)).toBe(36 + wav.data.length);
    expect(wav.data.length).toBeGreaterThan(0);
    expect(wav.data.length % 640).toBe(0);
    // Normally equal; a kill between the data write and the header rewrite leaves the header
    // one flush behind, never ahead.
    expect(wav.trailingBytes % 640).toBe(0);
    const frames = wav.data.length / 640;
    expect(wav.data.equals(Buffer.concat(Array.from({ length: frames }, (_, i) => pcmFrame(i, 640))))).toBe(true);

    const probe = await probeAudio(path);
    expect(probe).toMatchObject({ sampleRate: 16000, channels: 1, codec: 'pcm_s16le' });
    expect(probe.durationS).toBeCloseTo(wav.data.length / 32000, 3);

    const streamJson = JSON.parse(await readFile(join(dir.path, 'stream.json'), 'utf8')) as {
      rtmsStreamId: string;
      counters: { audio: { framesWritten: number } };
    };
    expect(streamJson.rtmsStreamId).toBe('killed');
    expect(streamJson.counters.audio.framesWritten).toBeLessThanOrEqual(frames);
  });
});
