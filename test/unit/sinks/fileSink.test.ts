import { once } from 'node:events';
import { mkdir, readdir, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { MediaKind } from '../../../src/vocabulary/mediaKind.ts';
import { lifecycleEvent } from '../../../src/vocabulary/frame.ts';
import { readWavData } from '../../support/wavReader.ts';
import { FileSink, type FileFault } from '../../../src/sinks/fileSink.ts';
import { fileSafeId } from '../../../src/sinks/fileSafeId.ts';
import type { StreamSink } from '../../../src/sinks/streamSink.ts';
import { countVideoFrames, ffprobe, makeH264Clip, makeJpegs, pcmFrame, probeAudio, splitAccessUnits, tempDir } from '../media/mediaTools.ts';
import { indexedFrames, readIndex } from '../../support/timeIndex.ts';
import { MIXED_16K, MULTI_16K, frame } from './sinkFrames.ts';
import { ManualClock } from '../../support/clock.ts';
import { readJsonLines } from '../../support/jsonLines.ts';

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
  const sink = new FileSink({ directory: join(dir.path, 'stream-1'), ...options });
  sinks.push(sink);
  return sink;
}

async function readJson(path: string): Promise<Record<string, unknown>> {
  return JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
}

/** Frames the sink accounted for: written + every drop reason. */
function accounted(sink: StreamSink, kind: MediaKind): number {
  const counters = sink.counters()[kind];
  if (counters === undefined) return 0;
  return counters.framesWritten + Object.values(counters.framesDropped).reduce((sum, count) => sum + count, 0);
}

describe('FileSink audio', () => {
  it('mixed mode: one audio.wav holding exactly the PCM received', async () => {
    const sink = createSink();
    sink.setFormats(MIXED_16K);
    const frames = Array.from({ length: 150 }, (_, i) => pcmFrame(i, 640));
    for (const [i, pcm] of frames.entries()) expect(sink.write(frame('audio', pcm, { timestamp: 1000 + 20 * i }))).toBe(true);
    await sink.close();

    const path = join(sink.directory, 'audio.wav');
    expect((await readWavData(path)).data.equals(Buffer.concat(frames))).toBe(true);
    const probe = await probeAudio(path);
    expect(probe).toMatchObject({ sampleRate: 16000, channels: 1, codec: 'pcm_s16le' });
    expect(probe.durationS).toBeCloseTo(3, 3);
    expect(sink.counters().audio).toEqual({ framesWritten: 150, bytesWritten: 96000, framesDropped: {} });
    expect(sink.files()).toEqual(['stream.json', 'audio.wav']);
    expect(sink.pendingBytes).toBe(0);
  });

  it('multi mode: audio-<userId>.wav per speaker, ids made safe for the file system', async () => {
    const sink = createSink();
    sink.setFormats(MULTI_16K);
    const speakers = ['16778240', '16779264', 'cc/../../escape', 'chan:1'];
    const sent = new Map<string, Buffer[]>(speakers.map((id) => [id, []]));
    for (let i = 0; i < 40; i++) {
      for (const userId of speakers) {
        const pcm = pcmFrame(i * 10 + speakers.indexOf(userId), 640);
        sent.get(userId)!.push(pcm);
        sink.write(frame('audio', pcm, { userId, userName: `user ${userId}`, timestamp: 20 * i }));
      }
    }
    await sink.close();

    const names = speakers.map((id) => `audio-${fileSafeId(id)}.wav`);
    expect(names.slice(0, 2)).toEqual(['audio-16778240.wav', 'audio-16779264.wav']);
    expect(names[2]).toMatch(/^audio-cc_______escape~[0-9a-f]{32}\.wav$/);
    expect((await readdir(sink.directory)).sort()).toEqual([...names, 'stream.json'].sort());
    // Nothing escaped the stream directory.
    expect((await readdir(dir.path)).sort()).toEqual(['stream-1']);
    for (const [index, userId] of speakers.entries()) {
      const wav = await readWavData(join(sink.directory, names[index]!));
      expect(wav.data.equals(Buffer.concat(sent.get(userId)!))).toBe(true);
    }
    expect(sink.counters().audio?.framesWritten).toBe(160);
  });

  it('mixed mode with identified speakers (Contact Center channels) still gives each its own file', async () => {
    const sink = createSink();
    sink.setFormats(MIXED_16K);
    const agent = [pcmFrame(1, 640), pcmFrame(2, 640)];
    const customer = [pcmFrame(3, 640), pcmFrame(4, 640)];
    for (const i of [0, 1]) {
      sink.write(frame('audio', agent[i]!, { userId: 'agent-channel' }));
      sink.write(frame('audio', customer[i]!, { userId: 'customer-channel' }));
    }
    await sink.close();
    expect((await readdir(sink.directory)).sort()).toEqual(['audio-agent-channel.wav', 'audio-customer-channel.wav', 'stream.json']);
    expect((await readWavData(join(sink.directory, 'audio-agent-channel.wav'))).data.equals(Buffer.concat(agent))).toBe(true);
    expect((await readWavData(join(sink.directory, 'audio-customer-channel.wav'))).data.equals(Buffer.concat(customer))).toBe(true);
  });

  it('counts audio and video frames before setFormats() as format_unknown', async () => {
    const sink = createSink();
    sink.write(frame('audio', pcmFrame(0, 640)));
    sink.write(frame('video', Buffer.from([0, 0, 0, 1, 0x65])));
    sink.write(frame('transcript', 'text needs no format'));
    sink.setFormats(MIXED_16K);
    sink.write(frame('audio', pcmFrame(1, 640)));
    await sink.close();
    expect(sink.counters()).toEqual({
      audio: { framesWritten: 1, bytesWritten: 640, framesDropped: { format_unknown: 1 } },
      video: { framesWritten: 0, bytesWritten: 0, framesDropped: { format_unknown: 1 } },
      transcript: expect.objectContaining({ framesWritten: 1, framesDropped: {} }),
    });
    expect((await readWavData(join(sink.directory, 'audio.wav'))).data.equals(pcmFrame(1, 640))).toBe(true);
  });

  it('starts a new WAV part when a file is full, when the format changes, or when a previous run left one', async () => {
    await mkdir(join(dir.path, 'stream-1'));
    await writeFile(join(dir.path, 'stream-1', 'audio.wav'), 'from an earlier run');
    const sink = createSink({ maxWavDataBytes: 640 * 10 });
    sink.setFormats(MIXED_16K);
    const first = Array.from({ length: 25 }, (_, i) => pcmFrame(i, 640));
    for (const pcm of first) sink.write(frame('audio', pcm));
    await sink.flush();
    sink.setFormats({ ...MIXED_16K, audio: { sampleRateHz: 48000, channels: 2, mode: 'mixed' } });
    const stereo = pcmFrame(99, 3840);
    sink.write(frame('audio', stereo));
    await sink.close();

    expect(await readFile(join(sink.directory, 'audio.wav'), 'utf8')).toBe('from an earlier run');
    expect(sink.files()).toEqual(['stream.json', 'audio.part2.wav', 'audio.part3.wav', 'audio.part4.wav', 'audio.part5.wav']);
    const parts = await Promise.all(['audio.part2.wav', 'audio.part3.wav', 'audio.part4.wav'].map((name) => readWavData(join(sink.directory, name))));
    expect(parts.map((part) => part.data.length)).toEqual([6400, 6400, 3200]);
    expect(Buffer.concat(parts.map((part) => part.data)).equals(Buffer.concat(first))).toBe(true);
    const last = await readWavData(join(sink.directory, 'audio.part5.wav'));
    expect(last).toMatchObject({ sampleRateHz: 48000, channels: 2 });
    expect(last.data.equals(stereo)).toBe(true);
    expect(sink.counters().audio?.framesWritten).toBe(26);
  });
});

describe('FileSink video', () => {
  it('h264: access units land in video.h264, which ffprobe decodes frame for frame', async () => {
    const clip = await makeH264Clip(dir.path);
    const units = splitAccessUnits(clip);
    const sink = createSink();
    sink.setFormats(MIXED_16K);
    for (const [i, unit] of units.entries()) sink.write(frame('video', unit, { timestamp: 40 * i, userId: '16778240' }));
    await sink.close();
    const path = join(sink.directory, 'video.h264');
    expect((await readFile(path)).equals(clip)).toBe(true);
    expect(await countVideoFrames(path)).toEqual({ codec: 'h264', frames: 25, width: 160, height: 90 });
    expect(sink.counters().video).toEqual({ framesWritten: 25, bytesWritten: clip.length, framesDropped: {} });
  });

  it('jpg: video/<timestamp>.jpg and deskshare/<timestamp>.jpg, collisions suffixed', async () => {
    const jpegs = await makeJpegs(dir.path, 3);
    const sink = createSink();
    sink.setFormats({ ...MIXED_16K, video: { codec: 'jpg' }, deskshare: { codec: 'jpg' } });
    sink.write(frame('video', jpegs[0]!, { timestamp: 1000 }));
    sink.write(frame('video', jpegs[1]!, { timestamp: 1200 }));
    sink.write(frame('video', jpegs[2]!, { timestamp: 1200 }));
    sink.write(frame('deskshare', jpegs[0]!, { timestamp: 1000 }));
    await sink.close();
    expect((await readdir(join(sink.directory, 'video'))).sort()).toEqual(['1000.jpg', '1200-1.jpg', '1200.jpg']);
    expect(await readdir(join(sink.directory, 'deskshare'))).toEqual(['1000.jpg']);
    expect((await readFile(join(sink.directory, 'video', '1200-1.jpg'))).equals(jpegs[2]!)).toBe(true);
    expect(sink.files()).toEqual(['stream.json', 'video/', 'deskshare/']);
    expect(sink.counters().video?.framesWritten).toBe(3);
    expect(sink.counters().deskshare?.framesWritten).toBe(1);
  });
});

describe('FileSink text', () => {
  it('writes transcript, chat and events as JSON lines', async () => {
    const sink = createSink();
    sink.write(
      frame('transcript', 'Hello, world.', {
        userId: '16778240',
        userName: 'Ada',
        timestamp: 1000,
        startTime: 1000,
        endTime: 2500,
        language: 9,
        attribute: 1,
      }),
    );
    sink.write(frame('transcript', 'Second line\nwith newline', { userId: '16779264', userName: undefined, timestamp: 3000 }));
    sink.write(frame('chat', 'plain text {not json', { userId: '16778240', userName: 'Ada', timestamp: 4000 }));
    const payload = JSON.stringify({ sender: { user_id: 16779264 }, message_id: 'm-1', operation_type: 1, text: 'hi' });
    sink.write(frame('chat', payload, { userId: '16779264', userName: 'Bob', timestamp: 5000 }));
    const started = lifecycleEvent('stream.state', { from: 'connecting', to: 'live' }, 1_700_000_000_000);
    sink.writeEvent(started);
    await sink.close();

    expect(await readJsonLines(join(sink.directory, 'transcript.jsonl'))).toEqual([
      { userId: '16778240', userName: 'Ada', timestamp: 1000, startTime: 1000, endTime: 2500, language: 9, attribute: 1, text: 'Hello, world.' },
      { userId: '16779264', userName: null, timestamp: 3000, startTime: null, endTime: null, language: null, text: 'Second line\nwith newline' },
    ]);
    expect(await readJsonLines(join(sink.directory, 'chat.jsonl'))).toEqual([
      { userId: '16778240', userName: 'Ada', timestamp: 4000, text: 'plain text {not json' },
      { userId: '16779264', userName: 'Bob', timestamp: 5000, text: payload, message: JSON.parse(payload) as unknown },
    ]);
    expect(await readJsonLines(join(sink.directory, 'events.jsonl'))).toEqual([started]);
    expect(sink.counters().transcript?.framesWritten).toBe(2);
    expect(sink.counters().chat?.framesWritten).toBe(2);
    expect(sink.files()).toEqual(['stream.json', 'transcript.jsonl', 'chat.jsonl', 'events.jsonl']);
  });
});

describe('FileSink stream.json', () => {
  it('is replaced atomically and holds the metadata, files and counters', async () => {
    const clock = new ManualClock();
    const sink = createSink({ clock });
    const path = join(sink.directory, 'stream.json');
    sink.setMetadata({ rtmsStreamId: 'stream-1', product: 'meeting', state: 'live' });
    sink.setFormats(MIXED_16K);

    // A reader polling while many flushes replace the file never sees a partial document.
    let reading = true;
    let reads = 0;
    const reader = (async () => {
      while (reading) {
        try {
          const text = await readFile(path, 'utf8');
          JSON.parse(text);
          reads += 1;
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
        }
      }
    })();
    for (let i = 0; i < 60; i++) {
      sink.write(frame('audio', pcmFrame(i, 640)));
      sink.write(frame('transcript', `line ${i}`));
      void clock.tick(); // the periodic flush
      await sink.flush();
    }
    reading = false;
    await reader;
    expect(reads).toBeGreaterThan(0);

    const current = await readJson(path);
    expect(current).toMatchObject({
      rtmsStreamId: 'stream-1',
      product: 'meeting',
      state: 'live',
      files: ['stream.json', 'audio.wav', 'transcript.jsonl'],
      counters: {
        audio: { framesWritten: 60, bytesWritten: 38400, framesDropped: {} },
        transcript: { framesWritten: 60, framesDropped: {} },
      },
      sink: { state: 'open', updatedAt: '2023-11-14T22:13:20.000Z' },
    });
    expect(await readdir(sink.directory)).not.toContain('.stream.json.tmp');

    sink.setMetadata({ rtmsStreamId: 'stream-1', state: 'ended' });
    await sink.close();
    expect(await readJson(path)).toMatchObject({ state: 'ended', sink: { state: 'closed' }, counters: { audio: { framesWritten: 60 } } });
    expect((await readdir(sink.directory)).sort()).toEqual(['audio.wav', 'stream.json', 'transcript.jsonl']);
  });

  it('takes counters at most every streamJsonIntervalMs, anything else at the next flush', async () => {
    const clock = new ManualClock();
    const sink = createSink({ clock, streamJsonIntervalMs: 5000 });
    const path = join(sink.directory, 'stream.json');
    sink.setMetadata({ rtmsStreamId: 'stream-1', state: 'live' });
    sink.setFormats(MIXED_16K);
    sink.write(frame('audio', pcmFrame(0, 640)));
    await clock.tick();
    expect(await readJson(path)).toMatchObject({ state: 'live', files: ['stream.json', 'audio.wav'], counters: { audio: { framesWritten: 1 } } });
    const firstWrite = (await stat(path)).ino;

    // Counters only: the periodic flush writes the audio but leaves stream.json alone ...
    clock.jump(4000);
    sink.write(frame('audio', pcmFrame(1, 640)));
    sink.setMetadata({ rtmsStreamId: 'stream-1', state: 'live', media: { audio: { framesReceived: 2 } } }, { countersOnly: true });
    await clock.tick();
    expect((await readWavData(join(sink.directory, 'audio.wav'))).data.length).toBe(1280);
    expect((await stat(path)).ino).toBe(firstWrite);
    expect(await readJson(path)).toMatchObject({ counters: { audio: { framesWritten: 1 } } });

    // ... until the interval has passed since the last write.
    clock.jump(1000);
    await clock.tick();
    expect(await readJson(path)).toMatchObject({ media: { audio: { framesReceived: 2 } }, counters: { audio: { framesWritten: 2 } } });

    // A state change is written at the very next flush.
    sink.setMetadata({ rtmsStreamId: 'stream-1', state: 'waitingReconnect' });
    await clock.tick();
    expect(await readJson(path)).toMatchObject({ state: 'waitingReconnect' });

    // An explicit flush is a checkpoint: counters are current afterwards.
    sink.write(frame('audio', pcmFrame(2, 640)));
    await sink.flush();
    expect(await readJson(path)).toMatchObject({ counters: { audio: { framesWritten: 3 } } });
  });

  it('the periodic flush refreshes the WAV header before close', async () => {
    const clock = new ManualClock();
    const sink = createSink({ clock });
    sink.setFormats(MIXED_16K);
    for (let i = 0; i < 50; i++) sink.write(frame('audio', pcmFrame(i, 640)));
    void clock.tick();
    await sink.flush(); // joins the flush the tick started
    const wav = await readWavData(join(sink.directory, 'audio.wav'));
    expect(wav.data.length).toBe(32000);
    expect(wav.trailingBytes).toBe(0);
    expect((await probeAudio(join(sink.directory, 'audio.wav'))).durationS).toBeCloseTo(1, 3);
    expect(sink.counters().audio?.framesWritten).toBe(50);
  });
});

describe('FileSink backpressure', () => {
  it('write() returns false above high water and drain follows once pending falls to low water', async () => {
    const sink = createSink({ highWaterBytes: 64 * 1024, lowWaterBytes: 16 * 1024, flushIntervalMs: 2000 });
    sink.setFormats(MIXED_16K);
    let written = 0;
    let accepted = true;
    while (accepted) {
      accepted = sink.write(frame('audio', pcmFrame(written, 1920)));
      written += 1;
    }
    expect(sink.pendingBytes).toBeGreaterThan(64 * 1024);
    expect(written).toBe(Math.floor((64 * 1024) / 1920) + 1);
    await once(sink, 'drain');
    expect(sink.pendingBytes).toBeLessThanOrEqual(16 * 1024);
    expect(sink.write(frame('audio', pcmFrame(written, 1920)))).toBe(true);
    await sink.close();
    expect(sink.counters().audio?.framesWritten).toBe(written + 1);
  });
});

describe('FileSink failures', () => {
  it('a file that cannot be created is retried with backoff; close gives up at its deadline and counts what waited', async () => {
    const blocker = join(dir.path, 'regular-file');
    await writeFile(blocker, 'not a directory');
    const sink = createSink({ directory: join(blocker, 'stream-1'), finalWriteTimeoutMs: 300 });
    const faults: FileFault[] = [];
    sink.on('fault', (fault: FileFault) => faults.push(fault));
    sink.setFormats(MIXED_16K);
    sink.write(frame('audio', pcmFrame(0, 640)));
    sink.write(frame('transcript', 'CONFIDENTIAL words someone said'));
    sink.writeEvent(lifecycleEvent('stream.state', { to: 'live' }));
    await sink.flush();
    // One fault per file and incident, naming the file and the code only.
    expect(faults.map(({ file, code, lost }) => ({ file, code, lost })).sort((a, b) => a.file.localeCompare(b.file))).toEqual([
      { file: 'audio.wav', code: 'ENOTDIR', lost: false },
      { file: 'events.jsonl', code: 'ENOTDIR', lost: false },
      { file: 'stream.json', code: 'ENOTDIR', lost: false },
      { file: 'transcript.jsonl', code: 'ENOTDIR', lost: false },
    ]);
    for (const fault of faults) expect(fault.error.message).not.toContain('CONFIDENTIAL');
    expect(sink.error).toMatchObject({ code: 'SINK_WRITE_FAILED' });
    expect(sink.health()).toMatchObject({ state: 'failing', lastError: { code: 'ENOTDIR' } });
    // Nothing is dropped yet: the frames wait for the file.
    expect(sink.counters()).toEqual({
      audio: { framesWritten: 0, bytesWritten: 0, framesDropped: {} },
      transcript: { framesWritten: 0, bytesWritten: 0, framesDropped: {} },
    });
    for (let i = 1; i <= 10; i++) expect(typeof sink.write(frame('audio', pcmFrame(i, 640)))).toBe('boolean');
    sink.write(frame('transcript', 'CONFIDENTIAL more'));
    await sink.close();
    expect(faults).toHaveLength(4);
    expect(sink.counters()).toEqual({
      audio: { framesWritten: 0, bytesWritten: 0, framesDropped: { sink_error: 11 } },
      transcript: { framesWritten: 0, bytesWritten: 0, framesDropped: { sink_error: 2 } },
    });
    expect(sink.pendingBytes).toBe(0);
  });

  it('a file that cannot be continued (/dev/full) is lost: its stream goes on in a new part, the others never stop', async () => {
    const directory = join(dir.path, 'stream-1');
    await mkdir(directory);
    await symlink('/dev/full', join(directory, 'transcript.jsonl'));
    const sink = createSink();
    const faults: FileFault[] = [];
    sink.on('fault', (fault: FileFault) => faults.push(fault));
    sink.setFormats(MIXED_16K);
    for (let i = 0; i < 10; i++) sink.write(frame('audio', pcmFrame(i, 640)));
    await sink.flush();
    sink.write(frame('audio', pcmFrame(10, 640)));
    sink.write(frame('transcript', 'will not fit'));
    await sink.flush();
    expect(faults.map(({ file, code, lost }) => ({ file, code, lost }))).toEqual([{ file: 'transcript.jsonl', code: 'ENOSPC', lost: true }]);
    for (let i = 11; i < 15; i++) sink.write(frame('audio', pcmFrame(i, 640)));
    sink.write(frame('transcript', 'fits in the next part'));
    await sink.close();

    const wav = await readWavData(join(directory, 'audio.wav'));
    expect(wav.data.equals(Buffer.concat(Array.from({ length: 15 }, (_, i) => pcmFrame(i, 640))))).toBe(true);
    expect(await readJsonLines(join(directory, 'transcript.part2.jsonl'))).toMatchObject([{ text: 'fits in the next part' }]);
    expect(sink.counters()).toEqual({
      audio: { framesWritten: 15, bytesWritten: 9600, framesDropped: {} },
      transcript: { framesWritten: 1, bytesWritten: expect.any(Number), framesDropped: { sink_error: 1 } },
    });
    const streamJson = await readJson(join(directory, 'stream.json'));
    expect(streamJson).toMatchObject({
      files: ['stream.json', 'audio.wav', 'transcript.jsonl', 'events.jsonl', 'transcript.part2.jsonl'],
      sink: {
        state: 'closed',
        health: 'ok',
        error: { file: 'transcript.jsonl', code: 'ENOSPC' },
        files: { 'transcript.jsonl': { state: 'lost', lastError: 'ENOSPC' } },
      },
    });
    const events = (await readJsonLines(join(directory, 'events.jsonl'))) as Array<{ eventType: string; data: Record<string, unknown> }>;
    expect(events.map((event) => event.eventType)).toEqual(['sink.file_lost', 'media.gap']);
    expect(events[1]!.data).toMatchObject({ kind: 'transcript', reason: 'sink_error', file: 'transcript.jsonl', frames: 1 });
  });

  it('received = written + dropped + pending, at every step', async () => {
    const sink = createSink({ highWaterBytes: 8 * 1024, lowWaterBytes: 1024 });
    sink.on('error', () => {});
    let received = 0;
    const pendingFrames = (): number => received - accounted(sink, 'audio');
    sink.write(frame('audio', pcmFrame(0, 640))); // before formats
    received += 1;
    sink.setFormats(MIXED_16K);
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < 20; i++) {
        sink.write(frame('audio', pcmFrame(round * 20 + i, 640)));
        received += 1;
      }
      expect(pendingFrames()).toBeGreaterThanOrEqual(0);
      expect(pendingFrames() * 640).toBeLessThanOrEqual(sink.pendingBytes);
      await sink.flush();
      expect(pendingFrames()).toBe(0);
      expect(sink.pendingBytes).toBe(0);
    }
    for (let i = 0; i < 7; i++) {
      sink.write(frame('audio', pcmFrame(i, 640)));
      received += 1;
    }
    await sink.destroy();
    sink.write(frame('audio', pcmFrame(0, 640)));
    received += 1;
    await sink.close(); // after destroy: nothing more happens
    expect(accounted(sink, 'audio')).toBe(received);
    expect(sink.counters().audio?.framesDropped).toEqual({ format_unknown: 1, sink_destroyed: 8 });
    // Destroyed, not closed: the file is still a valid WAV holding everything that was flushed.
    const wav = await readWavData(join(sink.directory, 'audio.wav'));
    expect(wav.data.length).toBe(100 * 640);
    expect(wav.trailingBytes).toBe(0);
  });
});

describe('FileSink lifecycle', () => {
  it('close() is idempotent and awaitable; later frames and events are counted, not written', async () => {
    const sink = createSink();
    sink.setFormats(MIXED_16K);
    sink.write(frame('audio', pcmFrame(0, 640)));
    const first = sink.close();
    expect(sink.close()).toBe(first);
    sink.write(frame('audio', pcmFrame(1, 640)));
    sink.writeEvent(lifecycleEvent('late', {}));
    await first;
    await sink.destroy();
    expect(sink.counters().audio).toEqual({ framesWritten: 1, bytesWritten: 640, framesDropped: { sink_closed: 1 } });
    const streamJson = await readJson(join(sink.directory, 'stream.json'));
    expect(streamJson).toMatchObject({ events: { written: 0, dropped: 1 }, sink: { state: 'closed' } });
  });

  it('write() only queues: nothing touches the disk until the flush timer fires', async () => {
    const clock = new ManualClock();
    const sink = createSink({ clock });
    sink.setFormats(MIXED_16K);
    for (let i = 0; i < 500; i++) sink.write(frame('audio', pcmFrame(i, 640)));
    sink.write(frame('transcript', 'hello'));
    await new Promise((resolve) => setImmediate(resolve));
    await expect(stat(sink.directory)).rejects.toMatchObject({ code: 'ENOENT' });
    const line = { userId: '0', userName: null, timestamp: 1_700_000_000_000, startTime: null, endTime: null, language: null, text: 'hello' };
    expect(sink.pendingBytes).toBe(500 * 640 + Buffer.byteLength(`${JSON.stringify(line)}\n`));
    expect(sink.files()).toEqual(['audio.wav', 'transcript.jsonl']);
    void clock.tick();
    await sink.flush();
    expect(sink.pendingBytes).toBe(0);
    expect((await readWavData(join(sink.directory, 'audio.wav'))).data.length).toBe(500 * 640);
  });

  it('creates nothing before the first frame, and only stream.json on close without frames', async () => {
    const sink = createSink();
    await sink.flush();
    expect(sink.files()).toEqual(['stream.json']);
    await sink.close();
    expect(await readdir(sink.directory)).toEqual(['stream.json']);
  });

  it('validates its options', () => {
    expect(() => new FileSink({ directory: dir.path, flushIntervalMs: 2001 })).toThrow(RangeError);
    expect(() => new FileSink({ directory: dir.path, flushIntervalMs: 0 })).toThrow(RangeError);
    expect(() => new FileSink({ directory: dir.path, highWaterBytes: 1000, lowWaterBytes: 1000 })).toThrow(RangeError);
    expect(() => new FileSink({ directory: dir.path, maxWavDataBytes: 2 ** 32 })).toThrow(RangeError);
  });
});

const T0 = 1_765_000_000_000;
const line = (text: string, start: number, end: number, fields: Record<string, unknown> = {}) =>
  frame('transcript', text, { userId: '16778240', userName: 'Alice', timestamp: T0 + start, startTime: T0 + start, endTime: T0 + end, ...fields });

describe('FileSink time index and captions', () => {
  it('an index beside the WAV and the H.264 file, listed in files(); captions valid after every flush', async () => {
    const sink = createSink({ frameIndex: true, captions: true });
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

    expect(sink.files()).toEqual([
      'stream.json',
      'audio.wav',
      'audio.wav.index.jsonl',
      'transcript.jsonl',
      'transcript.vtt',
      'transcript.srt',
      'video.h264',
      'video.h264.index.jsonl',
    ]);
    const audio = indexedFrames(await readIndex(join(sink.directory, 'audio.wav.index.jsonl')), 32000);
    expect(audio.map((entry) => entry.timestamp)).toEqual(Array.from({ length: 10 }, (_, i) => T0 + 20 * i));
    const video = await readIndex(join(sink.directory, 'video.h264.index.jsonl'));
    expect(video.map((record) => [record.ts, record.bytes, record.userName])).toEqual(
      clip.slice(0, 5).map((unit, i) => [T0 + 200 + 40 * i, unit.length, 'Bob']),
    );
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
    const sink1 = createSink({ frameIndex: true, captions: true });
    sink1.write(line('first run', 0, 500));
    await sink1.close();
    await writeFile(join(directory, 'transcript.part2.srt'), 'left by someone\n');
    const sink2 = createSink({ frameIndex: true, captions: true, previousFiles: sink1.files() });
    sink2.write(line('second run', 60_000, 61_000));
    await sink2.close();
    expect(sink2.files()).toEqual(expect.arrayContaining(['transcript.vtt', 'transcript.srt', 'transcript.part2.vtt', 'transcript.part3.srt']));
    expect(await readFile(join(directory, 'transcript.part2.vtt'), 'utf8')).toContain('00:00:00.000 --> 00:00:01.000\n<v Alice>second run');
    expect(await readFile(join(directory, 'transcript.vtt'), 'utf8')).toContain('<v Alice>first run');
    expect(await readFile(join(directory, 'transcript.part2.srt'), 'utf8')).toBe('left by someone\n');
  });

  it('an H.264 file on disk that no stream.json listed (killed before it did) is never continued: the index starts at byte 0 of a new part', async () => {
    const directory = join(dir.path, 'stream-1');
    await mkdir(directory, { recursive: true });
    await writeFile(join(directory, 'video.h264'), Buffer.from([0, 0, 0, 1, 0x65, 1]));
    const sink = createSink({ frameIndex: true });
    sink.setFormats(MIXED_16K);
    const unit = splitAccessUnits(await makeH264Clip(dir.path))[0]!;
    sink.write(frame('video', unit, { userId: '7', timestamp: T0 }));
    await sink.close();
    expect(sink.files()).toEqual(['stream.json', 'video.part2.h264', 'video.part2.h264.index.jsonl']);
    expect(await readIndex(join(directory, 'video.part2.h264.index.jsonl'))).toEqual([{ ts: T0, offset: 0, bytes: unit.length, frames: 1, userId: '7' }]);
  });

  it('without the options: no index and no captions', async () => {
    const sink = createSink();
    sink.setFormats(MIXED_16K);
    sink.write(frame('audio', pcmFrame(0, 640)));
    sink.write(line('Hello', 0, 500));
    await sink.close();
    expect(sink.files()).toEqual(['stream.json', 'audio.wav', 'transcript.jsonl']);
  });
});
