import { describe, expect, it } from 'vitest';
import { AudioTimeline, FUTURE_TOLERANCE_MS, MAX_SPEAKERS, REDELIVERY_WINDOW_MS } from '../../../src/media/audioTimeline.ts';

/**
 * A fake stream: 20 ms packets whose server timestamps and local arrival times are chosen
 * by the test (the local clock is just the `arrivedAt` argument, no real time passes).
 */
class Feed {
  readonly timeline = new AudioTimeline();
  /** Local clock, ms. */
  now = 1_000_000;
  /** Server clock minus local clock, ms (Zoom's clock is not ours). */
  skew = -240_000;
  #serial = 0;

  /** The next live packet, `stepMs` off the server clock. */
  live(stepMs = 0): { timestamp: number; data: Buffer } {
    return { timestamp: this.now + this.skew + stepMs, data: this.payload() };
  }

  payload(): Buffer {
    this.#serial += 1;
    const data = Buffer.alloc(640);
    data.writeUInt32LE(this.#serial);
    return data;
  }

  place(userId: string, packet: { timestamp: number; data: Buffer }, arrivedAt = this.now) {
    return this.timeline.place(userId, packet.timestamp, 20, arrivedAt, packet.data);
  }

  /** Sends `count` live packets 20 ms apart; returns how many were duplicates and the silence the gaps would fill. */
  run(count: number, stepMs = 0, userId = '0') {
    let duplicates = 0;
    let gapMs = 0;
    const jumps: number[] = [];
    for (let i = 0; i < count; i++) {
      const placement = this.place(userId, this.live(stepMs));
      if (placement.duplicate) duplicates += 1;
      gapMs += placement.gapMs;
      if (placement.jump) jumps.push(placement.jump.jumpMs);
      this.now += 20;
    }
    return { duplicates, gapMs, jumps };
  }
}

describe('AudioTimeline', () => {
  it('accepts contiguous packets without gaps', () => {
    const timeline = new AudioTimeline();
    for (let i = 0; i < 5; i++) {
      expect(timeline.place('0', 1000 + 20 * i, 20, 50 + 20 * i)).toEqual({ duplicate: false, gapMs: 0, gapFrom: 1000 + 20 * i, jump: undefined });
    }
  });

  it('reports the missing time when a speaker resumes later', () => {
    const timeline = new AudioTimeline();
    timeline.place('0', 1000, 20, 0);
    expect(timeline.place('0', 1100, 20, 100)).toEqual({ duplicate: false, gapMs: 80, gapFrom: 1020, jump: undefined });
  });

  it("measures a speaker's first packet from the stream's first audio, and keeps speakers apart", () => {
    const timeline = new AudioTimeline();
    timeline.place('16778240', 5000, 20, 0);
    expect(timeline.place('16779264', 7000, 20, 2000)).toMatchObject({ duplicate: false, gapMs: 2000, gapFrom: 5000 });
    expect(timeline.place('16778240', 5020, 20, 2001).gapMs).toBe(0);
  });

  it('ignores timestamp jitter below 5 ms', () => {
    const timeline = new AudioTimeline();
    timeline.place('0', 1000, 20, 0);
    expect(timeline.place('0', 1023, 20, 23).gapMs).toBe(0);
    expect(timeline.place('0', 1050, 20, 50).gapMs).toBe(7);
  });

  it('drops what a rejoin redelivers (same timestamp, same audio), and only that', () => {
    const feed = new Feed();
    const sent: Array<{ timestamp: number; data: Buffer }> = [];
    for (let i = 0; i < 50; i++) {
      const packet = feed.live();
      sent.push(packet);
      expect(feed.place('0', packet).duplicate).toBe(false);
      feed.now += 20;
    }
    // Without a rejoin, even an exact repeat is written: nothing says Zoom redelivered it.
    expect(feed.place('0', sent[49]!).duplicate).toBe(false);
    feed.timeline.rejoined(feed.now);
    // Zoom redelivers the last 10 packets, then continues.
    for (const packet of sent.slice(40)) expect(feed.place('0', packet).duplicate).toBe(true);
    const next = feed.run(10);
    expect(next).toEqual({ duplicates: 0, gapMs: 0, jumps: [] });
  });

  it('after a rejoin, audio at an old timestamp with new content is not a duplicate (failover to another clock)', () => {
    const feed = new Feed();
    feed.run(500);
    feed.timeline.rejoined(feed.now);
    // The new server's clock is 3 s behind: its first packets reuse timestamps we had.
    const after = feed.run(300, -3000);
    expect(after.duplicates).toBe(0);
    expect(after.jumps).toEqual([-3000]);
    expect(after.gapMs).toBe(0);
  });

  it('stops looking for redelivery once the window after a rejoin has passed', () => {
    const feed = new Feed();
    const old = feed.live();
    feed.place('0', old);
    feed.now += 20;
    feed.timeline.rejoined(feed.now);
    feed.now += REDELIVERY_WINDOW_MS + 1;
    expect(feed.place('0', old).duplicate).toBe(false);
  });

  for (const backMs of [3000, 30_000]) {
    it(`a ${backMs / 1000} s backward clock step on a steady connection drops nothing and is reported once`, () => {
      const feed = new Feed();
      feed.run(400);
      const after = feed.run(2000, -backMs);
      expect(after.duplicates).toBe(0);
      expect(after.gapMs).toBe(0);
      expect(after.jumps).toEqual([-backMs]);
    });
  }

  it('one packet dated 10 h ahead: no duplicates after it, no silence for it, two jumps reported', () => {
    const feed = new Feed();
    feed.run(250);
    const bad = feed.place('0', feed.live(10 * 3600_000));
    expect(bad).toMatchObject({ duplicate: false, gapMs: 0 });
    expect(bad.jump?.jumpMs).toBe(10 * 3600_000);
    feed.now += 20;
    const after = feed.run(500);
    expect(after.duplicates).toBe(0);
    expect(after.gapMs).toBe(0);
    expect(after.jumps).toEqual([-10 * 3600_000]);
  });

  it('a forward clock step fills no silence; a real pause still does, up to the time that passed', () => {
    const feed = new Feed();
    feed.run(100);
    const stepped = feed.run(100, 30_000);
    expect(stepped.jumps).toEqual([30_000]);
    expect(stepped.gapMs).toBe(0);
    // Muted for 4 s (nothing sent, 4 s pass): a gap of 4 s, not a jump.
    feed.now += 4000;
    const resumed = feed.run(10, 30_000);
    expect(resumed.jumps).toEqual([]);
    expect(resumed.gapMs).toBe(4000);
  });

  it('gap fill is bounded by local elapsed time: a gap beyond it is cut to what the clock allows', () => {
    const feed = new Feed();
    feed.run(100);
    // 2 s pass locally, but the server says 12 s did.
    feed.now += 2000;
    const placement = feed.place('0', feed.live(10_000));
    expect(placement.jump?.jumpMs).toBeGreaterThanOrEqual(10_000 - FUTURE_TOLERANCE_MS);
    expect(placement.gapMs).toBeLessThanOrEqual(2000 + FUTURE_TOLERANCE_MS);
    expect(placement.gapMs).toBeGreaterThanOrEqual(2000);
  });

  it('audio Zoom buffered during an interruption arrives in a burst: its gaps and its catch-up are not jumps', () => {
    const feed = new Feed();
    feed.run(100);
    // 5 s interruption; the server produced 5 s of audio meanwhile (with a 1 s pause in it),
    // delivered in a burst right after the rejoin.
    const produced: Array<{ timestamp: number; data: Buffer }> = [];
    for (let t = 0; t < 5000; t += 20) if (t < 2000 || t >= 3000) produced.push({ timestamp: feed.now + feed.skew + t, data: feed.payload() });
    feed.now += 5000;
    feed.timeline.rejoined(feed.now);
    let gapMs = 0;
    for (const packet of produced) {
      const placement = feed.place('0', packet);
      expect(placement).toMatchObject({ duplicate: false, jump: undefined });
      gapMs += placement.gapMs;
    }
    expect(gapMs).toBe(1000);
    expect(feed.run(50)).toEqual({ duplicates: 0, gapMs: 0, jumps: [] });
  });

  it('a clock step is corrected once for every speaker (multi-stream audio)', () => {
    const feed = new Feed();
    for (let i = 0; i < 100; i++) {
      for (const user of ['1', '2']) feed.place(user, feed.live());
      feed.now += 20;
    }
    const jumps: number[] = [];
    for (let i = 0; i < 100; i++) {
      for (const user of ['1', '2']) {
        const placement = feed.place(user, feed.live(-30_000));
        expect(placement.duplicate).toBe(false);
        expect(placement.gapMs).toBe(0);
        if (placement.jump) jumps.push(placement.jump.jumpMs);
      }
      feed.now += 20;
    }
    expect(jumps).toEqual([-30_000]);
  });

  it('without payloads (the file sink placing for gap fill) nothing is a duplicate', () => {
    const timeline = new AudioTimeline();
    timeline.place('0', 1000, 20, 0);
    timeline.rejoined(20);
    expect(timeline.place('0', 1000, 20, 20).duplicate).toBe(false);
  });

  it('remembers at most maxSpeakers: the one heard longest ago is forgotten and placed afresh', () => {
    const timeline = new AudioTimeline(3);
    expect(() => new AudioTimeline(0)).toThrow(RangeError);
    // a, b, c speak; a again (now the most recent); d makes b, heard longest ago, forgotten.
    for (const [i, userId] of ['a', 'b', 'c', 'a'].entries()) timeline.place(userId, 1000 + 20 * i, 20, 20 * i);
    expect(timeline.place('d', 1080, 20, 80).gapMs).toBe(80);
    expect(timeline.speakers).toBe(3);
    // a is remembered: its gap runs from where its audio ended.
    expect(timeline.place('a', 1200, 20, 200)).toMatchObject({ gapMs: 120, gapFrom: 1080 });
    // b was forgotten (c was then heard longest ago): measured like a new speaker, from the stream's first audio.
    expect(timeline.place('b', 1220, 20, 220)).toMatchObject({ gapMs: 220, gapFrom: 1000 });
    expect(timeline.speakers).toBe(3);
  });

  it('20,000 speakers: the timeline keeps MAX_SPEAKERS', () => {
    const timeline = new AudioTimeline();
    for (let i = 0; i < 20_000; i++) timeline.place(String(i), 1000 + i, 20, i, Buffer.alloc(8, i));
    expect(timeline.speakers).toBe(MAX_SPEAKERS);
  });
});
