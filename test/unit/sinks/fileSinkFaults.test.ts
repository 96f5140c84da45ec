import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { MediaKind } from '../../../src/vocabulary/mediaKind.ts';
import { lifecycleEvent } from '../../../src/vocabulary/frame.ts';
import { readWavData } from '../../support/wavReader.ts';
import { FileSink, type FileFault } from '../../../src/sinks/fileSink.ts';
import { countVideoFrames, makeH264Clip, makeJpegs, pcmFrame, splitAccessUnits, tempDir } from '../media/mediaTools.ts';
import { mountSmallTmpfs, type SmallTmpfs } from '../../support/smallTmpfs.ts';
import { MIXED_16K, frame } from './sinkFrames.ts';
import { indexedFrames, readIndex } from '../../support/timeIndex.ts';
import { ManualClock } from '../../support/clock.ts';

// Real faults against real files: a small tmpfs filled to ENOSPC, a stream directory deleted
// or blocked while its sink writes.
let disk: SmallTmpfs;
let clip: Buffer;
const sinks: FileSink[] = [];
beforeAll(async () => {
  disk = await mountSmallTmpfs(2 * 1024 * 1024);
  const scratch = await tempDir();
  clip = await makeH264Clip(scratch.path);
  await scratch.remove();
});
afterAll(async () => {
  await disk.unmount();
});
beforeEach(async () => {
  await disk.free();
  for (const name of await readdir(disk.path)) await rm(join(disk.path, name), { recursive: true, force: true });
});
afterEach(async () => {
  await Promise.all(sinks.splice(0).map((sink) => sink.destroy()));
});

function createSink(directory: string, options: Partial<ConstructorParameters<typeof FileSink>[0]> = {}): FileSink {
  const sink = new FileSink({ directory, flushIntervalMs: 2000, ...options });
  sinks.push(sink);
  return sink;
}

async function readJson(path: string): Promise<Record<string, unknown>> {
  return JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
}

function accounted(sink: FileSink, kind: MediaKind): { written: number; dropped: Record<string, number> } {
  const counters = sink.counters()[kind];
  return { written: counters?.framesWritten ?? 0, dropped: counters?.framesDropped ?? {} };
}

describe('FileSink on a full disk (real tmpfs)', () => {
  it('frames wait while the disk is full and go on into the same files after: nothing lost, nothing torn', async () => {
    const directory = join(disk.path, 'stream-1');
    // Its own clock: no retry fires by itself while the test reads the files mid-fault (a retry
    // that gets half a batch onto the disk shows it until its cut-back, like any write in flight).
    const clock = new ManualClock(Date.now());
    const sink = createSink(directory, { clock });
    const faults: FileFault[] = [];
    sink.on('fault', (fault: FileFault) => faults.push(fault));
    sink.setFormats(MIXED_16K);
    const units = splitAccessUnits(clip);
    const pcm = Array.from({ length: 60 }, (_, i) => pcmFrame(i, 640));
    const write = (i: number): void => {
      sink.write(frame('audio', pcm[i]!));
      if (i < units.length) sink.write(frame('video', units[i]!, { userId: '16778240' }));
      sink.write(frame('transcript', `line ${i}`));
    };
    for (let i = 0; i < 10; i++) write(i);
    await sink.flush();
    await disk.fill();
    for (let i = 10; i < 40; i++) write(i);
    await sink.flush();

    // Mid-fault: every file valid, holding what was written before the disk filled.
    expect(new Set(faults.map((fault) => fault.code))).toEqual(new Set(['ENOSPC']));
    expect(faults.every((fault) => !fault.lost)).toBe(true);
    expect(sink.health()).toMatchObject({ state: 'failing', lastError: { code: 'ENOSPC' } });
    expect((await readWavData(join(directory, 'audio.wav'))).data.equals(Buffer.concat(pcm.slice(0, 10)))).toBe(true);
    expect((await countVideoFrames(join(directory, 'video.h264'))).frames).toBe(10);
    const lines = (await readFile(join(directory, 'transcript.jsonl'), 'utf8')).split('\n').filter(Boolean);
    expect(lines.map((line) => (JSON.parse(line) as { text: string }).text)).toEqual(Array.from({ length: 10 }, (_, i) => `line ${i}`));

    await disk.free();
    for (let i = 40; i < 60; i++) write(i);
    await clock.advance(60_000); // every failing file is due again
    await sink.flush();
    expect(sink.health().state).toBe('ok');
    await sink.close();

    expect((await readWavData(join(directory, 'audio.wav'))).data.equals(Buffer.concat(pcm))).toBe(true);
    expect((await readFile(join(directory, 'video.h264'))).equals(clip)).toBe(true);
    // No stray temp file from the stream.json refreshes that could not be written.
    expect((await readdir(directory)).filter((name) => name.startsWith('.'))).toEqual([]);
    expect(accounted(sink, 'audio')).toEqual({ written: 60, dropped: {} });
    expect(accounted(sink, 'video')).toEqual({ written: units.length, dropped: {} });
    const streamJson = await readJson(join(directory, 'stream.json'));
    expect(streamJson).toMatchObject({
      files: ['stream.json', 'audio.wav', 'video.h264', 'transcript.jsonl', 'events.jsonl'],
      sink: { state: 'closed', health: 'ok', error: { code: 'ENOSPC' }, files: { 'audio.wav': { state: 'ok', lastError: 'ENOSPC' } } },
    });
    const events = (await readFile(join(directory, 'events.jsonl'), 'utf8'))
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as { eventType: string });
    expect(events.filter((event) => event.eventType === 'sink.file_failing').length).toBeGreaterThan(0);
    expect(events.filter((event) => event.eventType === 'sink.file_recovered').length).toBeGreaterThan(0);
  });

  it('a failing file holding more than half the buffer sheds what waits (sink_error, media.gap); H.264 resumes at an IDR', async () => {
    const directory = join(disk.path, 'stream-2');
    const sink = createSink(directory, { highWaterBytes: 64 * 1024, lowWaterBytes: 1024 });
    sink.setFormats(MIXED_16K);
    const units = splitAccessUnits(clip);
    for (let i = 0; i < 5; i++) sink.write(frame('video', units[i]!));
    await sink.flush();
    await disk.fill();
    // More than half of 64 KiB of video waits: the next flush sheds it.
    const big = Buffer.concat([units[5]!, Buffer.alloc(40 * 1024)]);
    sink.write(frame('video', big));
    await sink.flush();
    await disk.free();
    // Not a decode start: dropped until the IDR that starts the clip.
    sink.write(frame('video', units[6]!));
    for (const unit of units) sink.write(frame('video', unit));
    await sink.close();
    expect(accounted(sink, 'video')).toEqual({ written: 5 + units.length, dropped: { sink_error: 2 } });
    expect((await countVideoFrames(join(directory, 'video.h264'))).frames).toBe(5 + units.length);
    const events = (await readFile(join(directory, 'events.jsonl'), 'utf8'))
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as { eventType: string; data: Record<string, unknown> });
    expect(events.filter((event) => event.eventType === 'media.gap').map((event) => event.data)).toMatchObject([
      { kind: 'video', reason: 'sink_error', file: 'video.h264', frames: 1 },
      { kind: 'video', reason: 'sink_error', frames: 1, awaitingKeyframe: true },
    ]);
  });
});

describe('FileSink time index and captions on a full disk (real tmpfs)', () => {
  it('index and captions wait with their data and go on after: every frame indexed once, no index ahead of its data', async () => {
    const directory = join(disk.path, 'stream-1');
    const sink = createSink(directory, { frameIndex: true, captions: true });
    sink.setFormats(MIXED_16K);
    const units = splitAccessUnits(clip);
    const T0 = 1_765_000_000_000;
    const write = (i: number): void => {
      sink.write(frame('audio', pcmFrame(i, 640), { timestamp: T0 + 20 * i }));
      if (i < units.length) sink.write(frame('video', units[i]!, { userId: '7', timestamp: T0 + 40 * i }));
      sink.write(frame('transcript', `line ${i}`, { userName: 'Alice', timestamp: T0 + 20 * i, startTime: T0 + 20 * i, endTime: T0 + 20 * i + 15 }));
    };
    const audioIndex = async (): Promise<number[]> =>
      indexedFrames(await readIndex(join(directory, 'audio.wav.index.jsonl')), 32000).map((entry) => entry.timestamp);
    for (let i = 0; i < 10; i++) write(i);
    await sink.flush();
    await disk.fill();
    for (let i = 10; i < 40; i++) write(i);
    await sink.flush();
    // Mid-fault: the index describes exactly the audio on disk; the captions hold whole cues.
    expect(sink.health().state).toBe('failing');
    const onDisk = (await readWavData(join(directory, 'audio.wav'))).data.length / 640;
    expect(onDisk).toBeLessThan(40);
    expect(await audioIndex()).toEqual(Array.from({ length: onDisk }, (_, i) => T0 + 20 * i));
    const cues = (await readFile(join(directory, 'transcript.srt'), 'utf8')).split('\n\n').filter(Boolean);
    expect(cues.every((cue, i) => cue.startsWith(`${i + 1}\n`) && cue.endsWith(`Alice: line ${i}`))).toBe(true);

    await disk.free();
    for (let i = 40; i < 60; i++) write(i);
    await sink.flush();
    await sink.close();
    expect(await audioIndex()).toEqual(Array.from({ length: 60 }, (_, i) => T0 + 20 * i));
    const video = await readIndex(join(directory, 'video.h264.index.jsonl'));
    expect(video.map((record) => [record.ts, record.bytes])).toEqual(units.map((unit, i) => [T0 + 40 * i, unit.length]));
    expect((await readFile(join(directory, 'transcript.vtt'), 'utf8')).match(/<v Alice>line \d+/g)).toEqual(
      Array.from({ length: 60 }, (_, i) => `<v Alice>line ${i}`),
    );
  });
});

describe('FileSink when its directory is deleted or blocked', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  beforeEach(async () => {
    dir = await tempDir('rtms-sink-faults-');
  });
  afterEach(async () => {
    await dir.remove();
  });

  it('rm -rf of the live directory: noticed at the next flush, not counted as written, directory and stream.json come back', async () => {
    const directory = join(dir.path, 'stream-1');
    const sink = createSink(directory);
    const faults: FileFault[] = [];
    sink.on('fault', (fault: FileFault) => faults.push(fault));
    sink.setFormats(MIXED_16K);
    sink.setMetadata({ rtmsStreamId: 'stream-1', state: 'live' });
    const pcm = Array.from({ length: 30 }, (_, i) => pcmFrame(i, 640));
    for (let i = 0; i < 10; i++) sink.write(frame('audio', pcm[i]!));
    sink.writeEvent(lifecycleEvent('stream.live', {}));
    await sink.flush();
    await rm(directory, { recursive: true });
    // Written into the unlinked files, then noticed: lost, not written.
    for (let i = 10; i < 20; i++) sink.write(frame('audio', pcm[i]!));
    sink.writeEvent(lifecycleEvent('stream.note', {}));
    await sink.flush();
    expect(faults.map(({ file, code, lost }) => ({ file, code, lost })).sort((a, b) => a.file.localeCompare(b.file))).toEqual([
      { file: 'audio.wav', code: 'ENOENT', lost: true },
      { file: 'events.jsonl', code: 'ENOENT', lost: true },
    ]);
    for (let i = 20; i < 30; i++) sink.write(frame('audio', pcm[i]!));
    await sink.close();

    expect((await readWavData(join(directory, 'audio.wav'))).data.equals(Buffer.concat(pcm.slice(20)))).toBe(true);
    expect(accounted(sink, 'audio')).toEqual({ written: 20, dropped: { sink_error: 10 } });
    const streamJson = await readJson(join(directory, 'stream.json'));
    expect(streamJson).toMatchObject({
      files: ['stream.json', 'events.jsonl', 'audio.wav'],
      sink: { files: { 'audio.wav': { state: 'ok', lastError: 'ENOENT' } } },
    });
    const events = (await readFile(join(directory, 'events.jsonl'), 'utf8'))
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as { eventType: string; data: Record<string, unknown> });
    expect(events.find((event) => event.eventType === 'media.gap')?.data).toMatchObject({ kind: 'audio', reason: 'sink_error', file: 'audio.wav', frames: 10 });
  });

  it('stream.json is refreshed while a media file fails, with that file state; the media recovers when unblocked', async () => {
    const directory = join(dir.path, 'stream-1');
    await mkdir(directory);
    // A regular file where the image directory goes: image writes fail until it is removed.
    await writeFile(join(directory, 'deskshare'), 'blocker');
    const sink = createSink(directory);
    sink.setFormats(MIXED_16K);
    const jpegs = await makeJpegs(dir.path, 2);
    sink.write(frame('deskshare', jpegs[0]!, { timestamp: 1000 }));
    sink.write(frame('audio', pcmFrame(0, 640)));
    await sink.flush();
    const during = await readJson(join(directory, 'stream.json'));
    expect(during).toMatchObject({ sink: { state: 'open', health: 'failing', files: { 'deskshare/': { state: 'retrying', lastError: 'EEXIST' } } } });
    expect((await readWavData(join(directory, 'audio.wav'))).data.length).toBe(640);

    await rm(join(directory, 'deskshare'));
    sink.write(frame('deskshare', jpegs[1]!, { timestamp: 2000 }));
    await sink.close();
    expect((await readdir(join(directory, 'deskshare'))).sort()).toEqual(['1000.jpg', '2000.jpg']);
    expect(await readJson(join(directory, 'stream.json'))).toMatchObject({
      sink: { health: 'ok', files: { 'deskshare/': { state: 'ok', lastError: 'EEXIST' } } },
    });
    expect(accounted(sink, 'deskshare')).toEqual({ written: 2, dropped: {} });
  });

  it('continues a directory an earlier run left: its files stay listed, new parts never reuse their names', async () => {
    const directory = join(dir.path, 'stream-1');
    await mkdir(directory);
    await writeFile(join(directory, 'audio.wav'), 'earlier run');
    // Killed mid-write: its H.264 ends in a torn access unit.
    const units = splitAccessUnits(clip);
    await writeFile(join(directory, 'video.h264'), Buffer.concat([units[0]!, units[1]!.subarray(0, 100)]));
    const sink = createSink(directory, { previousFiles: ['stream.json', 'events.jsonl', 'audio.wav', 'video.h264', 'missing.wav'] });
    sink.setFormats(MIXED_16K);
    sink.write(frame('audio', pcmFrame(0, 640)));
    // The new H.264 part starts at an IDR: the picture before it is dropped, counted.
    sink.write(frame('video', units[3]!));
    for (const unit of units) sink.write(frame('video', unit));
    await sink.close();
    expect(await readJson(join(directory, 'stream.json'))).toMatchObject({
      files: ['stream.json', 'audio.wav', 'video.h264', 'audio.part2.wav', 'events.jsonl', 'video.part2.h264'],
    });
    expect((await readFile(join(directory, 'video.part2.h264'))).equals(clip)).toBe(true);
    expect(accounted(sink, 'video')).toEqual({ written: units.length, dropped: { sink_error: 1 } });
  });
});
