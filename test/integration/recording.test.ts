import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { measureAvOffset } from '../support/avOffset.ts';
import { transcriptCue, vttCue, type TranscriptLine } from '../../src/media/captionCues.ts';
import { eventually } from '../support/eventually.ts';
import { audioGaps, probeRecording, recordingAudioBytes } from '../support/recordingProbe.ts';
import { startRig, untilAudioSent, waitUntilEnded, type Rig } from './connectorHarness.ts';

/** The synced recording (docs/output.md "Recording") against the stand-in, read back by ffprobe and ffmpeg. */

let rig: Rig;
beforeAll(async () => {
  rig = await startRig({ RTMS_MEDIA: 'audio,video,transcript', RECORDING_CAPTION_DELAY_MS: String(CAPTION_DELAY_MS) });
});
afterAll(async () => {
  await rig?.close();
});

const BYTES_PER_SECOND = 16_000 * 2;
/** Shorter than the default 10 s, so a mid-stream file has media sooner. */
const CAPTION_DELAY_MS = 5000;

// The tests run at once (describe.concurrent): each has its own stream or rig, and their time is
// spent waiting on real-time streams, so the file takes about as long as its longest test.
describe.concurrent('recording', () => {
  it("is readable while the meeting runs and at its end; its audio is the PCM sent, byte for byte, and its span the stream's", async () => {
    const stream = await rig.simulator.startStream({ product: 'meeting', participants: 3 });
    await stream.whenReady();
    const path = join(rig.streamDir(stream), 'recording.mkv');
    await untilAudioSent(stream, 3 * BYTES_PER_SECOND);
    // Mid-stream: a player can open what is on disk now.
    const live = await eventually(
      async () => {
        if (!existsSync(path)) return undefined;
        const probe = await probeRecording(path);
        return probe.tracks.length === 2 && probe.tracks.every((track) => track.packets.length > 0) ? probe : undefined;
      },
      { what: 'a readable recording.mkv with audio and video packets', timeoutMs: 15_000 },
    );
    expect(live.tracks.map((track) => [track.type, track.codec])).toEqual([
      ['audio', 'pcm_s16le'],
      ['video', 'h264'],
    ]);
    await untilAudioSent(stream, 6 * BYTES_PER_SECOND);
    await stream.stop();
    await waitUntilEnded(rig, stream);

    const probe = await probeRecording(path);
    const sent = stream.sent.audio('0');
    const audio = await recordingAudioBytes(path);
    expect(audio.length).toBe(sent.length);
    expect(audio.equals(sent)).toBe(true);
    // No gap in this stream: the file spans the audio sent.
    expect(Math.abs(probe.spanS - sent.length / BYTES_PER_SECOND)).toBeLessThan(0.1);
    const video = probe.tracks.find((track) => track.type === 'video')!;
    expect(video.packets.length).toBe(stream.sent.videoFrameCount());
    expect(probe.zoomStartMs).toBeGreaterThan(1_600_000_000_000);
    const streamJson = JSON.parse(await readFile(join(rig.streamDir(stream), 'stream.json'), 'utf8')) as { recording?: unknown };
    expect(streamJson.recording).toMatchObject({ parts: [{ file: 'recording.mkv', tracks: ['audio', 'video'] }], failures: {} });
  }, 60_000);

  it('carries the transcript as a subtitle track: each line of transcript.jsonl that came within the delay, at its start, with its speaker', async () => {
    const stream = await rig.simulator.startStream({ product: 'meeting', participants: 3 });
    await stream.whenReady();
    // Three lines give the two cues asserted below a margin; 10 s is twice the delay, so the caption
    // clock passes the first lines while the stream runs and releases them mid-stream, not only at the close.
    await untilAudioSent(stream, 10 * BYTES_PER_SECOND, { transcripts: 3 });
    await stream.stop();
    await waitUntilEnded(rig, stream);

    const directory = rig.streamDir(stream);
    const probe = await probeRecording(join(directory, 'recording.mkv'));
    expect(probe.tracks.map((track) => track.codec)).toEqual(['pcm_s16le', 'h264']);
    const lines = (await readFile(join(directory, 'transcript.jsonl'), 'utf8'))
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as TranscriptLine & { startTime: number; endTime: number });
    // Each line as the recording should carry it: part time, ms, and `<v Speaker>text`.
    const expected = lines.map((line) => {
      const cue = transcriptCue({ ...line, userName: line.userName ?? undefined }, probe.zoomStartMs!)!;
      return { startMs: cue.startMs, durationMs: cue.endMs - cue.startMs, text: vttCue(cue).split('\n').slice(1).join('\n').trimEnd() };
    });
    const captions = probe.captions!;
    expect(captions.length).toBeGreaterThanOrEqual(2);
    for (const caption of captions) expect(expected).toContainEqual(caption);
    // Every line is muxed or counted; a line shorter than the delay (less a flush and some slack) is muxed.
    const streamJson = JSON.parse(await readFile(join(directory, 'stream.json'), 'utf8')) as {
      recording: { captions: { muxed: number; dropped: Record<string, number> } };
    };
    const counted = streamJson.recording.captions;
    process.stdout.write(`subtitle track: ${lines.length} transcript lines, ${counted.muxed} muxed, dropped ${JSON.stringify(counted.dropped)}\n`);
    expect(counted.muxed).toBe(captions.length);
    expect(counted.muxed + Object.values(counted.dropped).reduce((sum, n) => sum + n, 0)).toBe(lines.length);
    const timely = lines.filter((line) => line.startTime >= probe.zoomStartMs! && line.endTime - line.startTime <= CAPTION_DELAY_MS - 2000);
    expect(timely.length).toBeGreaterThanOrEqual(1);
    for (const line of timely) expect(captions.map((caption) => caption.startMs)).toContain(line.startTime - probe.zoomStartMs!);
  }, 60_000);

  it("a reconnect ends a part: each part is a valid file, and the parts' audio together is the PCM sent", async () => {
    const stream = await rig.simulator.startStream({ product: 'meeting', participants: 2 });
    await stream.whenReady();
    await untilAudioSent(stream, 3 * BYTES_PER_SECOND);
    await stream.dropMedia();
    await stream.whenReady(2);
    await untilAudioSent(stream, 6 * BYTES_PER_SECOND);
    await stream.stop();
    await waitUntilEnded(rig, stream);

    const directory = rig.streamDir(stream);
    const streamJson = JSON.parse(await readFile(join(directory, 'stream.json'), 'utf8')) as { recording: { parts: Array<{ file: string }> } };
    const files = streamJson.recording.parts.map((part) => part.file);
    expect(files).toEqual(['recording.mkv', 'recording.part2.mkv']);
    const audio: Buffer[] = [];
    for (const file of files) {
      const probe = await probeRecording(join(directory, file));
      expect(probe.tracks.map((track) => track.codec)).toEqual(['pcm_s16le', 'h264']);
      audio.push(await recordingAudioBytes(join(directory, file)));
    }
    expect(Buffer.concat(audio).equals(stream.sent.audio('0'))).toBe(true);
    const events = (await readFile(join(directory, 'events.jsonl'), 'utf8')).split('\n').filter((line) => line.includes('recording.part_ended'));
    expect(events.map((line) => (JSON.parse(line) as { data: { reason: string } }).data.reason)).toEqual(['rejoin', 'closed']);
  }, 60_000);

  it("a gap in Zoom's timestamps stays a gap in time in the file", async () => {
    const stream = await rig.simulator.startStream({ product: 'meeting', participants: 2 });
    await stream.whenReady();
    await untilAudioSent(stream, 2 * BYTES_PER_SECOND);
    const before = stream.sent.audioBytes();
    expect(stream.jumpTimestamps(2000)).toBe(true);
    await untilAudioSent(stream, before + 2 * BYTES_PER_SECOND);
    await stream.stop();
    await waitUntilEnded(rig, stream);

    const path = join(rig.streamDir(stream), 'recording.mkv');
    const probe = await probeRecording(path);
    const gaps = audioGaps(probe);
    expect(gaps).toHaveLength(1);
    expect(Math.abs(gaps[0]![1] - gaps[0]![0] - 2000)).toBeLessThan(100);
    // Every byte is still there, and the file is that much longer than its audio.
    const sent = stream.sent.audio('0');
    expect((await recordingAudioBytes(path)).equals(sent)).toBe(true);
    expect(Math.abs(probe.spanS - (sent.length / BYTES_PER_SECOND + 2))).toBeLessThan(0.1);
  }, 60_000);
});

/**
 * Every sync mark of the file seen in both media, at most 40 ms apart. A mark may have one
 * half only at an edge: of the part (after a reconnect the stand-in delivers the audio it held
 * back on the new connection, so a tone can be in the next part and its picture in this one),
 * or of a gap (the stand-in's clock step applies to the next packet of each kind, so a mark
 * can straddle it). Returns the pairs' times, ms on the file's timeline, and the gaps.
 */
async function expectInSync(path: string): Promise<{ marks: number[]; gaps: Array<[number, number]> }> {
  const result = await measureAvOffset(path);
  const probe = await probeRecording(path);
  const gaps = audioGaps(probe, 100);
  const edges = [0, probe.spanS * 1000, ...gaps.flat()];
  const inside = (ms: number): boolean => edges.every((edge) => Math.abs(ms - edge) > 600);
  expect({ unpairedAudio: result.unpairedAudioMs.filter(inside), unpairedVideo: result.unpairedVideoMs.filter(inside) }).toEqual({
    unpairedAudio: [],
    unpairedVideo: [],
  });
  for (const pair of result.pairs) expect(Math.abs(pair.offsetMs)).toBeLessThan(40);
  return { marks: result.pairs.map((pair) => pair.audioMs), gaps };
}

describe.concurrent("recording in sync (the stand-in's sync marks)", () => {
  it('audio and video within 40 ms at every mark, across a gap and in each part after a reconnect', async () => {
    const stream = await rig.simulator.startStream({ product: 'meeting', participants: 2, syncMarks: { everyMs: 1000 } });
    await stream.whenReady();
    await untilAudioSent(stream, 3 * BYTES_PER_SECOND);
    let before = stream.sent.audioBytes();
    expect(stream.jumpTimestamps(1500)).toBe(true);
    await untilAudioSent(stream, before + 3 * BYTES_PER_SECOND);
    await stream.dropMedia();
    await stream.whenReady(2);
    before = stream.sent.audioBytes();
    await untilAudioSent(stream, before + 3 * BYTES_PER_SECOND);
    await stream.stop();
    await waitUntilEnded(rig, stream);

    const directory = rig.streamDir(stream);
    // Part 1 holds the gap, with marks in sync on both sides of it; part 2 follows the reconnect.
    const first = await expectInSync(join(directory, 'recording.mkv'));
    expect(first.gaps).toHaveLength(1);
    const [gapStart, gapEnd] = first.gaps[0]!;
    expect(gapEnd - gapStart).toBeGreaterThan(1400);
    expect(first.marks.filter((ms) => ms < gapStart).length).toBeGreaterThanOrEqual(1);
    expect(first.marks.filter((ms) => ms > gapEnd).length).toBeGreaterThanOrEqual(1);
    expect((await expectInSync(join(directory, 'recording.part2.mkv'))).marks.length).toBeGreaterThanOrEqual(2);
  }, 60_000);
});

describe.concurrent('recording with screen share', () => {
  it('has a third track for the H.264 screen share, in sync with the audio at every mark', async () => {
    const shared = await startRig({ RTMS_MEDIA: 'audio,video,deskshare', RTMS_DESKSHARE_CODEC: 'h264' });
    try {
      const stream = await shared.simulator.startStream({ product: 'meeting', participants: 2, syncMarks: { everyMs: 1000 } });
      await stream.whenReady();
      await untilAudioSent(stream, 4 * BYTES_PER_SECOND);
      await stream.stop();
      await waitUntilEnded(shared, stream);
      const path = join(shared.streamDir(stream), 'recording.mkv');
      const probe = await probeRecording(path);
      expect(probe.tracks.map((track) => [track.title, track.codec])).toEqual([
        ['audio', 'pcm_s16le'],
        ['video', 'h264'],
        ['deskshare', 'h264'],
      ]);
      expect(probe.tracks[2]!.packets.length).toBe(stream.sent.deskshareFrameCount());
      const result = await measureAvOffset(path, { videoStream: 1 });
      expect(result.pairs.length).toBeGreaterThanOrEqual(2);
      for (const pair of result.pairs) expect(Math.abs(pair.offsetMs)).toBeLessThan(40);
    } finally {
      await shared.close();
    }
  }, 60_000);
});

describe.concurrent('recording after kill -9', () => {
  it('plays up to its last flush: readable, and its audio a prefix of the PCM sent', async () => {
    const killed = await startRig({ RTMS_MEDIA: 'audio,video,transcript', RECORDING_CAPTION_DELAY_MS: '3000' });
    try {
      const stream = await killed.simulator.startStream({ product: 'meeting', participants: 2, durationMs: 30_000 });
      await stream.whenReady();
      const path = join(killed.streamDir(stream), 'recording.mkv');
      await untilAudioSent(stream, 4 * BYTES_PER_SECOND);
      await eventually(async () => existsSync(path) && (await recordingAudioBytes(path)).length >= 2 * BYTES_PER_SECOND, {
        what: '2 s of audio in recording.mkv',
        timeoutMs: 15_000,
      });
      expect(await killed.connector.stop('SIGKILL')).toBe(null);
      const probe = await probeRecording(path);
      expect(probe.tracks.map((track) => track.codec)).toEqual(['pcm_s16le', 'h264']);
      expect(probe.captions).toBeDefined();
      const audio = await recordingAudioBytes(path);
      expect(audio.length).toBeGreaterThanOrEqual(2 * BYTES_PER_SECOND);
      expect(audio.equals(stream.sent.audio('0').subarray(0, audio.length))).toBe(true);
    } finally {
      await killed.close();
    }
  }, 60_000);
});
