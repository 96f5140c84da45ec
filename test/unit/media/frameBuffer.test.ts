import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { MediaKind } from '../../../src/vocabulary/mediaKind.ts';
import { AnnexBWriter } from '../../../src/media/annexBWriter.ts';
import type { Frame } from '../../../src/vocabulary/frame.ts';
import { FrameBuffer } from '../../../src/media/frameBuffer.ts';
import { isIdrAccessUnit } from '../../../src/media/h264.ts';
import { countVideoFrames, splitAccessUnits, tempDir } from './mediaTools.ts';

const fixturePath = new URL('../../../packages/rtms-simulator/fixtures/camera.h264', import.meta.url);

function frame(kind: MediaKind, data: Buffer, timestamp: number): Frame {
  return { kind, userId: '1', userName: undefined, timestamp, data, receivedAt: timestamp };
}

const isDecodeStart = (item: Frame): boolean => item.kind !== 'video' || isIdrAccessUnit(item.data);

describe('FrameBuffer eviction', () => {
  const dirs: Array<{ remove: () => Promise<void> }> = [];
  afterAll(async () => {
    await Promise.all(dirs.map((dir) => dir.remove()));
  });

  it('evicts video first, whole groups of pictures, and what stays still decodes', async () => {
    // The committed clip: 50 pictures, an IDR every 10. 20 ms of audio between pictures.
    const units = splitAccessUnits(await readFile(fixturePath));
    const buffer = new FrameBuffer();
    units.forEach((unit, index) => {
      buffer.push(frame('video', unit, index * 40));
      buffer.push(frame('audio', Buffer.alloc(640), index * 40 + 20));
    });
    const videoBytes = units.reduce((sum, unit) => sum + unit.length, 0);
    const audioBytes = 640 * units.length;
    // Room for the audio and about a third of the video: the oldest pictures must go.
    const softLimit = audioBytes + Math.floor(videoBytes / 3);
    const { evicted, cutKinds } = buffer.evict(softLimit, 10 * (audioBytes + videoBytes), isDecodeStart);

    expect(evicted).not.toHaveLength(0);
    expect(evicted.every((item) => item.kind === 'video')).toBe(true);
    expect(buffer.bytes).toBeLessThanOrEqual(softLimit);
    expect(cutKinds.size).toBe(0);
    // Oldest first, and always up to an IDR: the first picture left is a keyframe.
    const kept = buffer.drain();
    const keptVideo = kept.filter((item) => item.kind === 'video');
    expect(evicted.map((item) => item.timestamp)).toEqual(units.slice(0, evicted.length).map((_, index) => index * 40));
    expect(evicted.length % 10).toBe(0);
    expect(isIdrAccessUnit(keptVideo[0]!.data)).toBe(true);
    expect(kept.filter((item) => item.kind === 'audio')).toHaveLength(units.length);

    // A real decoder takes what is left without complaint.
    const dir = await tempDir();
    dirs.push(dir);
    const writer = new AnnexBWriter({ path: join(dir.path, 'video.h264') });
    for (const item of keptVideo) writer.append(item.data);
    await writer.close();
    expect((await countVideoFrames(join(dir.path, 'video.h264'))).frames).toBe(keptVideo.length);
  });

  it('reports a kind whose group runs past the newest frame, so later frames wait for a keyframe', async () => {
    const units = splitAccessUnits(await readFile(fixturePath));
    const buffer = new FrameBuffer();
    // Pictures 0–4: an IDR and four pictures that depend on it.
    units.slice(0, 5).forEach((unit, index) => buffer.push(frame('video', unit, index * 40)));
    const { evicted, cutKinds } = buffer.evict(buffer.bytes - 1, 10 * buffer.bytes, isDecodeStart);
    expect(evicted).toHaveLength(5);
    expect([...cutKinds]).toEqual(['video']);
    expect(buffer.length).toBe(0);
  });

  it('evicts audio and text only past the hard limit, oldest first', () => {
    const buffer = new FrameBuffer();
    for (let index = 0; index < 10; index++) buffer.push(frame(index % 2 === 0 ? 'audio' : 'transcript', Buffer.alloc(100), index));
    const { evicted } = buffer.evict(100, 500, isDecodeStart);
    expect(evicted.map((item) => item.timestamp)).toEqual([0, 1, 2, 3, 4]);
    expect(buffer.bytes).toBe(500);
  });
});
