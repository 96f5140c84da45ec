import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../../src/clock.ts';
import type { MediaKind } from '../../../src/vocabulary/mediaKind.ts';
import { eventually } from '../../support/eventually.ts';
import { readWavData } from '../../support/wavReader.ts';
import type { SinkCounters } from '../../../src/sinks/streamSink.ts';
import { RETIRING_PART_BYTES } from '../../../src/sinks/audioParts.ts';
import { StreamFiles, type FileFault } from '../../../src/sinks/streamFiles.ts';
import { pcmFrame, tempDir } from '../media/mediaTools.ts';
import { MULTI_16K, frame } from './sinkFrames.ts';

/**
 * A finalized part (closed to bound descriptors, or rolled over) leaves the live writers once
 * its counts are folded into per-kind totals: the writers held stay bounded while the counts,
 * the file list and the files on disk stay exact.
 */

let dir: Awaited<ReturnType<typeof tempDir>>;
beforeEach(async () => {
  dir = await tempDir('rtms-totals-');
});
afterEach(async () => {
  await dir.remove();
});

const MAX_OPEN = 4;

function streamFiles(directory: string, faults: FileFault[]): StreamFiles {
  const files = new StreamFiles({
    directory,
    // Two 640-byte frames per part: the mixed stream rolls over.
    maxWavDataBytes: 1280,
    highWaterBytes: 64 * 1024 * 1024,
    fillAudioGaps: true,
    maxOpenSpeakerFiles: MAX_OPEN,
    onSpeakerFileClosedEarly: undefined,
    previousFiles: [],
    clock: systemClock,
    logger: undefined,
    onFault: (fault) => faults.push(fault),
    onEvent: () => {},
  });
  files.setFormats(MULTI_16K);
  return files;
}

function counters(files: StreamFiles): Partial<Record<MediaKind, SinkCounters>> {
  const result: Partial<Record<MediaKind, SinkCounters>> = {};
  files.addCounters(result);
  return result;
}

/** Data bytes in the WAVs listed, as read back from disk (silence that fills gaps included). */
async function wavData(directory: string, names: readonly string[]): Promise<number> {
  let bytes = 0;
  for (const name of names.filter((name) => name.endsWith('.wav'))) bytes += (await readWavData(join(directory, name))).data.length;
  return bytes;
}

/** Flushes until the parts closed in the background are finalized (real file I/O, no clock). */
/** Flushes until the finalized parts have left (their closes run on libuv's pool, slower on a busy machine). */
async function settle(files: StreamFiles, bound: number): Promise<void> {
  await eventually(
    async () => {
      await files.flush();
      return files.writers <= bound;
    },
    { what: `at most ${bound} writers held`, timeoutMs: 4_000, intervalMs: 1, state: () => files.writers },
  );
}

describe('StreamFiles totals of finalized parts', () => {
  it('300 speakers and a rolling mixed stream: writers held stay bounded, counts and files exact', async () => {
    const faults: FileFault[] = [];
    const directory = join(dir.path, 's');
    const files = streamFiles(directory, faults);
    const sent: Array<[string, Buffer]> = [];
    const speakers = [...Array.from({ length: 300 }, (_, i) => String(1000 + i)), ...['1000', '1001', '1299'], '0', '0', '0', '0', '0'];
    for (const [index, userId] of speakers.entries()) {
      const data = pcmFrame(index, 640);
      expect(
        files.append(frame('audio', data, { userId, timestamp: 1_700_000_000_000 + index * 20, receivedAt: 1_700_000_000_005 + index * 20 })),
      ).toBeUndefined();
      sent.push([userId, data]);
      if (index % 25 === 24) await files.flush();
    }
    for (let i = 0; i < 7; i++) files.appendEvent({ type: 'test.event', timestamp: i, data: {} } as never);
    await files.flush();
    // Open speaker files, the mixed stream's current part and events.jsonl.
    await settle(files, MAX_OPEN + 2);
    expect(files.writers).toBeLessThanOrEqual(MAX_OPEN + 2);
    expect(files.pendingBytes).toBe(0);
    const names = files.names();
    // WAV headers are rewritten after every flush: what is on disk is what was counted.
    const written = await wavData(directory, names);
    expect(written).toBeGreaterThan(speakers.length * 640);
    expect(counters(files)).toEqual({ audio: { framesWritten: speakers.length, bytesWritten: written, framesDropped: {} } });
    expect(files.eventsWritten()).toBe(7);

    // 300 speakers, 2 second parts (1299's file was still open), 3 mixed parts, events.jsonl.
    expect(names).toHaveLength(300 + 2 + 3 + 1);
    expect(names).toContain('audio-1000.part2.wav');
    expect(names).not.toContain('audio-1299.part2.wav');
    expect(names).toContain('audio.part3.wav');
    expect([...names].sort()).toEqual((await readdir(directory)).sort());

    await files.close();
    expect(counters(files)).toEqual({ audio: { framesWritten: speakers.length, bytesWritten: written, framesDropped: {} } });
    expect(await wavData(directory, names)).toBe(written);
    expect(files.eventsWritten()).toBe(7);
    expect(faults).toEqual([]);
    const expectedMixed = Buffer.concat(sent.filter(([userId]) => userId === '0').map(([, data]) => data));
    const mixed = await Promise.all(['audio.wav', 'audio.part2.wav', 'audio.part3.wav'].map(async (name) => (await readWavData(join(directory, name))).data));
    expect(Buffer.concat(mixed).equals(expectedMixed)).toBe(true);
    const first = (await readWavData(join(directory, 'audio-1000.wav'))).data;
    expect(first.equals(sent[0]![1])).toBe(true);
  });

  it('a part waiting to be finalized counts its memory in the buffer, not only its data', async () => {
    const faults: FileFault[] = [];
    const files = streamFiles(join(dir.path, 's'), faults);
    for (let i = 0; i < 10; i++)
      files.append(frame('audio', pcmFrame(i, 640), { userId: String(2000 + i), timestamp: 1_700_000_000_000, receivedAt: 1_700_000_000_005 }));
    // Six speaker files were closed early to keep four open; none was written yet.
    expect(files.pendingBytes).toBe(10 * 640 + 6 * RETIRING_PART_BYTES);
    await files.close();
    expect(files.pendingBytes).toBe(0);
    expect(files.writers).toBe(4);
    expect(counters(files).audio?.framesWritten).toBe(10);
  });
});
