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

describe('MediaBacklog across interruptions (Zoom buffers audio only)', () => {
  const participant = { index: 0, userId: 1, userName: 'A', key: '1', channelId: undefined, role: undefined, voice: 0, gain: 1, pan: 0 };
  const transcript = (startTime: number) => ({ kind: 'transcript' as const, participant, text: 'hi', startTime, endTime: startTime + 500, language: 9 });
  const chat = (timestamp: number) => ({ kind: 'chat' as const, participant, text: 'yo', timestamp });

  it('keeps audio but loses and counts text produced while no socket can carry it', () => {
    let reachable = false;
    const backlog = new MediaBacklog({}, () => reachable);
    backlog.push(audio(0));
    backlog.push(transcript(0));
    backlog.push(chat(0));
    expect([backlog.size('audio'), backlog.size('transcript'), backlog.size('chat')]).toEqual([1, 0, 0]);
    expect(backlog.dropped).toMatchObject({ transcriptsWhileAway: 1, chatsWhileAway: 1, transcripts: 0, chats: 0 });
    reachable = true;
    backlog.push(transcript(1));
    backlog.push(chat(1));
    expect([backlog.size('transcript'), backlog.size('chat')]).toEqual([1, 1]);
  });

  it('requeues the audio a dead socket never wrote and counts its text as lost', () => {
    const backlog = new MediaBacklog();
    backlog.push(audio(100));
    backlog.requeueUndelivered([audio(40), transcript(40), audio(60), chat(50)]);
    expect(backlog.size('transcript') + backlog.size('chat')).toBe(0);
    expect(backlog.dropped).toMatchObject({ transcriptsWhileAway: 1, chatsWhileAway: 1 });
    const order: number[] = [];
    for (let item = backlog.shift('audio'); item !== undefined; item = backlog.shift('audio')) order.push((item as AudioItem).mediaMs);
    expect(order).toEqual([40, 60, 100]);
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
