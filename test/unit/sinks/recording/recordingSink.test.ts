import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { lifecycleEvent } from '../../../../src/vocabulary/frame.ts';
import { FileSink } from '../../../../src/sinks/fileSink.ts';
import { RecordingSink } from '../../../../src/sinks/recording/recordingSink.ts';
import { tempDir, type TempDir } from '../../../support/tempDir.ts';
import { splitAccessUnits } from '../../media/mediaTools.ts';
import { MIXED_16K, frame } from '../sinkFrames.ts';

const units = splitAccessUnits(readFileSync(new URL('../../../../packages/rtms-simulator/fixtures/camera.h264', import.meta.url)));
const T0 = 1_700_000_000_000;

let dir: TempDir | undefined;
afterEach(async () => {
  await dir?.remove();
  dir = undefined;
});

describe('RecordingSink', () => {
  it('passes every frame to the file sink, ends a part at a rejoin, and puts its own counts in stream.json', async () => {
    dir = await tempDir('rtms-recording-sink-');
    const directory = join(dir.path, 'stream-1');
    const inner = new FileSink({ directory });
    const sink = new RecordingSink({ inner, directory, previousFiles: [], fillAudioGaps: false, flushIntervalMs: 1000 });
    sink.setFormats(MIXED_16K);
    sink.setMetadata({ rtmsStreamId: 'stream-1' });
    const feed = (fromMs: number, toMs: number): void => {
      for (let ms = fromMs, v = 0; ms < toMs; ms += 20) {
        sink.write(frame('audio', Buffer.alloc(640, ms % 251), { timestamp: T0 + ms, receivedAt: T0 + ms }));
        if (ms % 40 === 0) sink.write(frame('video', units[v++ % units.length]!, { timestamp: T0 + ms, receivedAt: T0 + ms }));
      }
    };
    feed(0, 2000);
    sink.writeEvent(lifecycleEvent('stream.rejoin', { scope: 'media' }, T0 + 2000));
    feed(2000, 4000);
    await sink.close();

    // The file sink wrote every frame, as without the recording.
    expect(sink.counters()['audio']).toMatchObject({ framesWritten: 200, framesDropped: {} });
    expect(sink.counters()['video']).toMatchObject({ framesWritten: 100, framesDropped: {} });
    expect(sink.files()).toEqual(expect.arrayContaining(['audio.wav', 'video.h264', 'recording.mkv', 'recording.part2.mkv']));
    const streamJson = JSON.parse(await readFile(join(directory, 'stream.json'), 'utf8')) as Record<string, unknown>;
    expect(streamJson['recording']).toEqual({
      parts: [
        { file: 'recording.mkv', zoomStartMs: T0, tracks: ['audio', 'video'] },
        { file: 'recording.part2.mkv', zoomStartMs: T0 + 2000, tracks: ['audio', 'video'] },
      ],
      frames: { audio: { written: 200, dropped: {} }, video: { written: 100, dropped: {} } },
      failures: {},
    });
    const events = (await readFile(join(directory, 'events.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { eventType: string; data: Record<string, unknown> });
    expect(
      events.filter((event) => event.eventType.startsWith('recording.')).map((event) => [event.eventType, event.data['file'], event.data['rtmsStreamId']]),
    ).toEqual([
      ['recording.part_started', 'recording.mkv', 'stream-1'],
      ['recording.part_ended', 'recording.mkv', 'stream-1'],
      ['recording.part_started', 'recording.part2.mkv', 'stream-1'],
      ['recording.part_ended', 'recording.part2.mkv', 'stream-1'],
    ]);
  });
});
