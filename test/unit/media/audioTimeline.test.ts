import { describe, expect, it } from 'vitest';
import { AudioTimeline } from '../../../src/media/audioTimeline.ts';

describe('AudioTimeline', () => {
  it('accepts contiguous packets without gaps', () => {
    const timeline = new AudioTimeline();
    for (let i = 0; i < 5; i++) expect(timeline.place('0', 1000 + 20 * i, 20)).toEqual({ duplicate: false, gapMs: 0, gapFrom: 1000 + 20 * i });
  });

  it('reports the missing time when a speaker resumes later', () => {
    const timeline = new AudioTimeline();
    timeline.place('0', 1000, 20);
    expect(timeline.place('0', 1100, 20)).toEqual({ duplicate: false, gapMs: 80, gapFrom: 1020 });
  });

  it('treats a packet that does not move the speaker forward as a duplicate (redelivery after a rejoin)', () => {
    const timeline = new AudioTimeline();
    for (let i = 0; i < 3; i++) timeline.place('0', 1000 + 20 * i, 20);
    expect(timeline.place('0', 1020, 20).duplicate).toBe(true);
    expect(timeline.place('0', 1040, 20).duplicate).toBe(true);
    expect(timeline.place('0', 1060, 20)).toEqual({ duplicate: false, gapMs: 0, gapFrom: 1060 });
  });

  it("measures a speaker's first packet from the stream's first audio, and keeps speakers apart", () => {
    const timeline = new AudioTimeline();
    timeline.place('16778240', 5000, 20);
    expect(timeline.place('16779264', 7000, 20)).toEqual({ duplicate: false, gapMs: 2000, gapFrom: 5000 });
    expect(timeline.place('16778240', 5020, 20).gapMs).toBe(0);
  });

  it('ignores timestamp jitter below 5 ms', () => {
    const timeline = new AudioTimeline();
    timeline.place('0', 1000, 20);
    expect(timeline.place('0', 1023, 20).gapMs).toBe(0);
    expect(timeline.place('0', 1050, 20).gapMs).toBe(7);
  });
});
