import { describe, expect, it } from 'vitest';
import { CAPTION_FALLBACK_MS, clockTime, srtCue, transcriptCue, vttCue, vttHeader } from '../../../src/media/captionCues.ts';

const ORIGIN = 1_765_000_000_000;
const line = (fields: Partial<Parameters<typeof transcriptCue>[0]> = {}): Parameters<typeof transcriptCue>[0] => ({
  userId: '16778240',
  userName: 'Alice Example',
  timestamp: ORIGIN + 1500,
  startTime: ORIGIN + 1500,
  endTime: ORIGIN + 4250,
  text: 'Hello there',
  ...fields,
});

describe('caption cues', () => {
  it('times a line from the origin with its speaker, in both formats', () => {
    const cue = transcriptCue(line(), ORIGIN);
    expect(cue).toEqual({ startMs: 1500, endMs: 4250, speaker: 'Alice Example', lines: ['Hello there'] });
    expect(vttCue(cue!)).toBe('00:00:01.500 --> 00:00:04.250\n<v Alice Example>Hello there\n\n');
    expect(srtCue(cue!, 3)).toBe('3\n00:00:01,500 --> 00:00:04,250\nAlice Example: Hello there\n\n');
  });

  it('clock times past an hour and past 99 hours', () => {
    expect(clockTime(3_723_004, 'vtt')).toBe('01:02:03.004');
    expect(clockTime(100 * 3_600_000 + 1, 'srt')).toBe('100:00:00,001');
  });

  it('no end, or an end not after the start: shown for the fallback time; before the origin: clamped to 0', () => {
    expect(transcriptCue(line({ endTime: undefined }), ORIGIN)).toMatchObject({ startMs: 1500, endMs: 1500 + CAPTION_FALLBACK_MS });
    expect(transcriptCue(line({ endTime: ORIGIN + 1500 }), ORIGIN)).toMatchObject({ endMs: 1500 + CAPTION_FALLBACK_MS });
    expect(transcriptCue(line({ startTime: ORIGIN - 900, endTime: ORIGIN + 100 }), ORIGIN)).toMatchObject({ startMs: 0, endMs: 100 });
    expect(transcriptCue(line({ startTime: undefined, timestamp: ORIGIN + 10 }), ORIGIN)).toMatchObject({ startMs: 10 });
  });

  it('text that would break a cue cannot: blank lines, markup, arrows; a nameless speaker gets its id', () => {
    const cue = transcriptCue(line({ userName: ' Eve\n<b>', text: 'a < b && c > d\n\n--> next\r\n' }), ORIGIN)!;
    expect(cue.lines).toEqual(['a < b && c > d', '--> next']);
    expect(vttCue(cue)).toBe('00:00:01.500 --> 00:00:04.250\n<v Eve &lt;b&gt;>a &lt; b &amp;&amp; c &gt; d\n--&gt; next\n\n');
    expect(srtCue(cue, 1)).toBe('1\n00:00:01,500 --> 00:00:04,250\nEve <b>: a < b && c > d\n-> next\n\n');
    expect(transcriptCue(line({ userName: undefined }), ORIGIN)?.speaker).toBe('user 16778240');
  });

  it('an empty line or a DELETE is no cue', () => {
    expect(transcriptCue(line({ text: ' \n ' }), ORIGIN)).toBeUndefined();
    expect(transcriptCue(line({ attribute: 3 }), ORIGIN)).toBeUndefined();
    expect(transcriptCue(line({ attribute: 2 }), ORIGIN)).toBeDefined();
  });

  it('the WebVTT header names the origin and has one length for any 13-digit epoch', () => {
    expect(vttHeader(ORIGIN)).toBe(`WEBVTT - 00:00:00.000 is Zoom time ${new Date(ORIGIN).toISOString()} (${ORIGIN})\n\n`);
    expect(vttHeader(1_000_000_000_000).length).toBe(vttHeader(9_999_999_999_999).length);
  });
});
