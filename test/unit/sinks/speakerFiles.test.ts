import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readWavData } from '../../support/wavReader.ts';
import { FileSink } from '../../../src/sinks/fileSink.ts';
import { SpeakerFiles } from '../../../src/sinks/speakerFiles.ts';
import { pcmFrame, tempDir } from '../media/mediaTools.ts';
import { MULTI_16K, frame } from './sinkFrames.ts';

let dir: Awaited<ReturnType<typeof tempDir>>;
beforeEach(async () => {
  dir = await tempDir('rtms-speakers-');
});
afterEach(async () => {
  await dir.remove();
});

describe('SpeakerFiles', () => {
  it('closes the file written longest ago once more than max are open', () => {
    const files = new SpeakerFiles(2);
    expect(files.opening('a')).toEqual([]);
    expect(files.opening('b')).toEqual([]);
    files.written('a');
    expect(files.opening('c')).toEqual(['b']);
    expect(files.opening('b')).toEqual(['a']);
    files.closed('c');
    expect(files.opening('d')).toEqual([]);
    expect(files.closedEarly).toBe(2);
  });
});

describe('FileSink with maxOpenSpeakerFiles', () => {
  it('closes idle speaker WAVs and continues a returning speaker in a new part: every byte kept', async () => {
    let closedEarly = 0;
    const sink = new FileSink({ directory: join(dir.path, 's'), maxOpenSpeakerFiles: 2, onSpeakerFileClosedEarly: () => (closedEarly += 1) });
    sink.setFormats(MULTI_16K);
    const sent = new Map<string, Buffer[]>();
    const order = ['1', '2', '1', '3', '2', '1', '0'];
    for (const [index, userId] of order.entries()) {
      const data = pcmFrame(index, 640);
      sink.write(frame('audio', data, { userId, timestamp: 1_700_000_000_000 + index * 20 }));
      sent.set(userId, [...(sent.get(userId) ?? []), data]);
      await sink.flush();
    }
    await sink.close();
    const names = (await readdir(join(dir.path, 's'))).filter((name) => name.endsWith('.wav')).sort();
    expect(names).toEqual(['audio-1.part2.wav', 'audio-1.wav', 'audio-2.part2.wav', 'audio-2.wav', 'audio-3.wav', 'audio.wav']);
    // 3 closes 2 (1 was written since), 2 closes 1, 1 closes 3.
    expect(closedEarly).toBe(3);
    for (const userId of ['1', '2', '3']) {
      const parts = names.filter((name) => name.startsWith(`audio-${userId}.`)).sort((a, b) => a.length - b.length);
      const written = Buffer.concat(await Promise.all(parts.map(async (name) => (await readWavData(join(dir.path, 's', name))).data)));
      expect({ userId, bytes: written.length, same: written.equals(Buffer.concat(sent.get(userId) ?? [])) }).toEqual({
        userId,
        bytes: 640 * (sent.get(userId)?.length ?? 0),
        same: true,
      });
    }
    expect(sink.counters().audio?.framesWritten).toBe(order.length);
  });
});
