import { describe, expect, it } from 'vitest';
import { type AudioItem, MediaBacklog } from '../../src/mediaBacklog.ts';
import { Deque } from '../../src/deque.ts';

const audio = (mediaMs: number, bytes = 640): AudioItem => ({ kind: 'audio', participant: undefined, data: Buffer.alloc(bytes), timestamp: mediaMs, mediaMs });

describe('MediaBacklog', () => {
  it('keeps at most audioMaxMs of audio, dropping and counting the oldest', () => {
    const backlog = new MediaBacklog({ audioMaxMs: 1000 });
    for (let t = 0; t < 3000; t += 20) backlog.push(audio(t));
    expect(backlog.size('audio')).toBe(50);
    expect(backlog.dropped.audioPackets).toBe(100);
    expect(backlog.shift('audio')).toMatchObject({ mediaMs: 2000 });
  });

  it('bounds audio bytes too', () => {
    const backlog = new MediaBacklog({ audioMaxBytes: 6400 });
    for (let t = 0; t < 400; t += 20) backlog.push(audio(t));
    expect(backlog.audioBytes).toBeLessThanOrEqual(6400);
    expect(backlog.size('audio')).toBe(10);
  });

  it('requeues undelivered items in front, in their original order', () => {
    const backlog = new MediaBacklog();
    backlog.push(audio(100));
    backlog.requeueFront([audio(40), audio(60), audio(80)]);
    const order: number[] = [];
    for (let item = backlog.shift('audio'); item !== undefined; item = backlog.shift('audio')) order.push((item as AudioItem).mediaMs);
    expect(order).toEqual([40, 60, 80, 100]);
    expect(backlog.audioBytes).toBe(0);
  });
});

describe('Deque', () => {
  it('behaves as a FIFO with unshift across growth', () => {
    const deque = new Deque<number>(4);
    for (let i = 0; i < 10; i += 1) deque.push(i);
    deque.unshift(-1);
    expect(deque.shift()).toBe(-1);
    const out: number[] = [];
    for (let value = deque.shift(); value !== undefined; value = deque.shift()) out.push(value);
    expect(out).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(deque.size).toBe(0);
  });
});
