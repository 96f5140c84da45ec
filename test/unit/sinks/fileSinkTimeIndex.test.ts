import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileSink } from '../../../src/sinks/fileSink.ts';
import { ffprobe, makeH264Clip, pcmFrame, splitAccessUnits, tempDir } from '../media/mediaTools.ts';
import { indexedFrames, readIndex } from '../../support/timeIndex.ts';
import { MIXED_16K, frame } from './sinkFrames.ts';

let dir: Awaited<ReturnType<typeof tempDir>>;
const sinks: FileSink[] = [];
beforeEach(async () => {
  dir = await tempDir('rtms-sink-');
});
afterEach(async () => {
  await Promise.all(sinks.splice(0).map((sink) => sink.destroy()));
  await dir.remove();
});

function createSink(options: Partial<ConstructorParameters<typeof FileSink>[0]> = {}): FileSink {
  const sink = new FileSink({ directory: join(dir.path, 'stream-1'), frameIndex: true, captions: true, ...options });
  sinks.push(sink);
  return sink;
}

const T0 = 1_765_000_000_000;
const line = (text: string, start: number, end: number, fields: Record<string, unknown> = {}) =>
  frame('transcript', text, { userId: '16778240', userName: 'Alice', timestamp: T0 + start, startTime: T0 + start, endTime: T0 + end, ...fields });

describe('FileSink time index and captions', () => {
  it('an index beside the WAV and the H.264 file, listed in files(); captions valid after every flush', async () => {
    const sink = createSink();
    sink.setFormats(MIXED_16K);
    for (let i = 0; i < 10; i++) sink.write(frame('audio', pcmFrame(i, 640), { timestamp: T0 + 20 * i }));
    sink.write(line('Hello there', 40, 900));
    await sink.flush();
    // Mid-stream: both caption files parse, with one cue each.
    for (const name of ['transcript.vtt', 'transcript.srt']) {
      const probe = (await ffprobe(join(sink.directory, name), ['-show_packets'])) as unknown as { packets: Array<{ pts: number }> };
      expect(probe.packets.map((packet) => packet.pts)).toEqual([40]);
    }
    expect(await readFile(join(sink.directory, 'transcript.srt'), 'utf8')).toBe('1\n00:00:00,040 --> 00:00:00,900\nAlice: Hello there\n\n');

    const clip = splitAccessUnits(await makeH264Clip(dir.path));
    for (const [i, unit] of clip.slice(0, 5).entries()) sink.write(frame('video', unit, { userId: '7', userName: 'Bob', timestamp: T0 + 200 + 40 * i }));
    sink.write(line('withdrawn', 950, 990, { attribute: 3 }));
    sink.write(line('Second', 1000, 1500, { userName: undefined }));
    await sink.close();

    expect(sink.files()).toEqual(['stream.json', 'audio.wav', 'audio.wav.index.jsonl', 'transcript.jsonl', 'transcript.vtt', 'transcript.srt', 'video.h264', 'video.h264.index.jsonl']);
    const audio = indexedFrames(await readIndex(join(sink.directory, 'audio.wav.index.jsonl')), 32000);
    expect(audio.map((entry) => entry.timestamp)).toEqual(Array.from({ length: 10 }, (_, i) => T0 + 20 * i));
    const video = await readIndex(join(sink.directory, 'video.h264.index.jsonl'));
    expect(video.map((record) => [record.ts, record.bytes, record.userName])).toEqual(clip.slice(0, 5).map((unit, i) => [T0 + 200 + 40 * i, unit.length, 'Bob']));
    // Time zero is the first frame the sink wrote (the first audio packet); the DELETE made no cue.
    expect(await readFile(join(sink.directory, 'transcript.vtt'), 'utf8')).toBe(
      `WEBVTT - 00:00:00.000 is Zoom time ${new Date(T0).toISOString()} (${T0})\n\n` +
        '00:00:00.040 --> 00:00:00.900\n<v Alice>Hello there\n\n' +
        '00:00:01.000 --> 00:00:01.500\n<v user 16778240>Second\n\n',
    );
    // Cues are not frames: transcript counts stay those of transcript.jsonl.
    expect(sink.counters().transcript).toMatchObject({ framesWritten: 3 });
  });

  it("a previous run's captions are never continued: this run writes the next part, with its own time zero", async () => {
    const directory = join(dir.path, 'stream-1');
    const sink1 = createSink();
    sink1.write(line('first run', 0, 500));
    await sink1.close();
    await writeFile(join(directory, 'transcript.part2.srt'), 'left by someone\n');
    const sink2 = createSink({ previousFiles: sink1.files() });
    sink2.write(line('second run', 60_000, 61_000));
    await sink2.close();
    expect(sink2.files()).toEqual(expect.arrayContaining(['transcript.vtt', 'transcript.srt', 'transcript.part2.vtt', 'transcript.part3.srt']));
    expect(await readFile(join(directory, 'transcript.part2.vtt'), 'utf8')).toContain('00:00:00.000 --> 00:00:01.000\n<v Alice>second run');
    expect(await readFile(join(directory, 'transcript.vtt'), 'utf8')).toContain('<v Alice>first run');
    expect(await readFile(join(directory, 'transcript.part2.srt'), 'utf8')).toBe('left by someone\n');
  });

  it('without the options: no index and no captions', async () => {
    const sink = createSink({ frameIndex: false, captions: false });
    sink.setFormats(MIXED_16K);
    sink.write(frame('audio', pcmFrame(0, 640)));
    sink.write(line('Hello', 0, 500));
    await sink.close();
    expect(sink.files()).toEqual(['stream.json', 'audio.wav', 'transcript.jsonl']);
  });
});
