import { execFile } from 'node:child_process';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SimulatedStream } from 'rtms-simulator';
import { fileSafeId } from '../../src/sinks/fileSafeId.ts';
import { eventually } from '../support/eventually.ts';
import { indexedFrames, readIndex } from '../support/timeIndex.ts';
import { readWavData } from '../support/wavReader.ts';
import { expectAudioIdentical, expectEveryFrameAccounted, readJsonLines, startRig, untilAudioSent, waitUntilEnded, type Rig } from './connectorHarness.ts';
import { expectValidFiles } from './hostFaultTools.ts';

/**
 * The time index beside every WAV and H.264 file, and the captions, against the stand-in:
 * every frame maps back to exactly the timestamp and user the stand-in sent it with (across
 * a gap in Zoom's timestamps and a rejoin), the example consumer maps bytes and access units
 * to transcript lines, and transcript.vtt / transcript.srt parse with ffmpeg mid-stream and
 * at the end and say what transcript.jsonl says.
 */

const run = promisify(execFile);

let rig: Rig;
beforeAll(async () => {
  // Seed 266's script has all three participants speaking within 7 s, a line before the gap and two
  // after the rejoin, and audio between the gap and the rejoin: the waits below end sooner than with
  // the default seed, where the second line comes at 6 s and the fourth at 9 s.
  rig = await startRig({ RTMS_AUDIO_MODE: 'multi' }, { seed: 266 });
});
afterAll(async () => {
  await rig?.close();
});

/** What the captions say, read by ffmpeg: [start ms, end ms, text] per cue (text as ffmpeg re-emits it). */
async function ffmpegCues(path: string, format: 'webvtt' | 'srt'): Promise<Array<[number, number, string]>> {
  const { stdout: probe, stderr } = await run('ffprobe', ['-v', 'error', '-show_packets', '-of', 'json', path]);
  expect(stderr).toBe('');
  const packets = (JSON.parse(probe) as { packets: Array<{ pts: number; duration: number }> }).packets;
  const { stdout: text } = await run('ffmpeg', ['-v', 'error', '-i', path, '-c:s', 'copy', '-f', format, '-']);
  const bodies = text
    .trimEnd()
    .replace(/^WEBVTT\n\n/, '')
    .split('\n\n')
    .filter((block) => block.trim() !== '')
    .map((block) =>
      block
        .split('\n')
        .slice(format === 'srt' ? 2 : 1)
        .join('\n'),
    );
  expect(bodies).toHaveLength(packets.length);
  return packets.map((packet, i) => [packet.pts, packet.pts + packet.duration, bodies[i]!]);
}

/**
 * The cues transcript.jsonl calls for: times from the VTT header's origin, the speaker named.
 * Zoom sends a line when it ends, so a long line can arrive after a short one that started
 * later: its cue starts with the previous one (cues stay in start order, docs/output.md).
 */
function expectedCues(lines: ReadonlyArray<Record<string, unknown>>, originMs: number, format: 'webvtt' | 'srt'): Array<[number, number, string]> {
  let previousStart = 0;
  return lines.map((line) => {
    const speaker = String(line['userName']);
    const text = String(line['text']);
    previousStart = Math.max(previousStart, Number(line['startTime']) - originMs);
    return [
      previousStart,
      Number(line['endTime']) - originMs,
      format === 'webvtt' ? `<v ${speaker}>${text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;')}` : `${speaker}: ${text}`,
    ];
  });
}

async function captionOrigin(directory: string): Promise<number> {
  const header = (await readFile(join(directory, 'transcript.vtt'), 'utf8')).split('\n', 1)[0]!;
  const match = /^WEBVTT - 00:00:00\.000 is Zoom time \S+ \((\d+)\)$/.exec(header);
  expect(match, header).not.toBeNull();
  return Number(match![1]);
}

async function expectCaptionsMatch(directory: string): Promise<number> {
  const lines = await readJsonLines(join(directory, 'transcript.jsonl'));
  const origin = await captionOrigin(directory);
  expect(await ffmpegCues(join(directory, 'transcript.vtt'), 'webvtt')).toEqual(expectedCues(lines, origin, 'webvtt'));
  expect(await ffmpegCues(join(directory, 'transcript.srt'), 'srt')).toEqual(expectedCues(lines, origin, 'srt'));
  return lines.length;
}

async function alignExample(args: readonly string[]): Promise<Array<Record<string, unknown>>> {
  const { stdout } = await run(process.execPath, ['examples/alignTranscript.ts', ...args], { maxBuffer: 64 * 1024 * 1024 });
  return stdout
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

function speakerFile(userId: string): string {
  return userId === '0' ? 'audio.wav' : `audio-${fileSafeId(userId)}.wav`;
}

describe('time index and captions', () => {
  it('every audio frame and access unit maps to the exact timestamp and user sent, across a gap and a rejoin; captions match transcript.jsonl mid-stream and at the end', async () => {
    const stream: SimulatedStream = await rig.simulator.startStream({ product: 'meeting', participants: 3 });
    const directory = rig.streamDir(stream);
    await stream.whenReady();
    await untilAudioSent(stream, 64_000, { transcripts: 2 });
    // A gap: Zoom's timestamps jump 3 s ahead; with RTMS_AUDIO_GAP_FILL=none the WAV does not show it.
    expect(stream.jumpTimestamps(3000)).toBe(true);
    await untilAudioSent(stream, 128_000);
    await stream.interrupt();
    await stream.whenReady(2);
    await untilAudioSent(stream, 192_000, { transcripts: 4 });

    // Mid-stream: every file valid, captions already saying what transcript.jsonl says.
    await eventually(
      async () => (await readJsonLines(join(directory, 'transcript.jsonl'))).length >= 2 && (await stat(join(directory, 'transcript.srt'))).size > 0,
      {
        what: 'captions on disk',
        timeoutMs: 15_000,
      },
    );
    await expectValidFiles(directory, { final: false });
    // transcript.jsonl and the captions are written by one flush, not at one instant: read until they agree.
    await eventually(async () => (await expectCaptionsMatch(directory)) >= 2, { what: 'captions match transcript.jsonl mid-stream', timeoutMs: 15_000 });

    await stream.stop();
    await waitUntilEnded(rig, stream);
    await expectAudioIdentical(rig, stream);
    const media = await expectEveryFrameAccounted(rig, stream);
    await expectValidFiles(directory);

    // Audio: per speaker, the index gives back every packet's timestamp, size and user.
    let gapSeen = false;
    for (const userId of stream.sent.audioUserIds()) {
      const file = join(directory, speakerFile(userId));
      const wav = await readWavData(file);
      const byteRate = wav.sampleRateHz * wav.channels * 2;
      const records = await readIndex(`${file}.index.jsonl`);
      const sent = stream.sent.audioTimes(userId);
      expect(sent.length).toBeGreaterThan(0);
      expect(indexedFrames(records, byteRate)).toEqual(sent);
      // Contiguous from the header on: every data byte is described, in order.
      let offset = 44;
      for (const record of records) {
        expect(record.offset).toBe(offset);
        offset += record.bytes;
      }
      expect(offset).toBe(44 + wav.data.length);
      // Compact: one record per contiguous run per flush, not per packet.
      expect(records.length).toBeLessThan(sent.length / 4);
      gapSeen ||= records.some((record, i) => i > 0 && record.ts - records[i - 1]!.ts >= 3000);
    }
    expect(gapSeen).toBe(true);

    // Video: one record per access unit, each the bytes and timestamp the stand-in sent.
    const video = await readFile(join(directory, 'video.h264'));
    const videoRecords = await readIndex(join(directory, 'video.h264.index.jsonl'));
    expect(videoRecords.length).toBe(media['video']?.framesWritten);
    expect(videoRecords.reduce((sum, record) => sum + record.bytes, 0)).toBe(video.length);
    const sentVideo = stream.sent.videoFrames();
    const sentTimes = stream.sent.videoTimes();
    let next = 0;
    for (const record of videoRecords) {
      // Frames before the first keyframe are dropped by the connector: skip what was not written.
      const unit = video.subarray(record.offset, record.offset + record.bytes);
      while (next < sentVideo.length && !(sentVideo[next]!.equals(unit) && sentTimes[next]!.timestamp === record.ts)) next += 1;
      expect(next, `access unit at ${record.offset} found among those sent`).toBeLessThan(sentVideo.length);
      expect({ userId: record.userId, userName: record.userName }).toEqual({ userId: sentTimes[next]!.userId, userName: sentTimes[next]!.userName });
      next += 1;
    }

    // The example consumer: a byte inside a transcript line's speech maps to that line.
    const transcripts = await readJsonLines(join(directory, 'transcript.jsonl'));
    const spoken = transcripts.find((line) => stream.sent.audioUserIds().includes(String(line['userId'])))!;
    expect(spoken).toBeDefined();
    const speakerRecords = await readIndex(join(directory, `${speakerFile(String(spoken['userId']))}.index.jsonl`));
    const inside = speakerRecords.find(
      (record) => record.ts <= Number(spoken['startTime']) + 200 && Number(spoken['startTime']) + 200 < record.ts + record.bytes / 32,
    );
    if (inside !== undefined) {
      const byte = inside.offset + Math.round((Number(spoken['startTime']) + 200 - inside.ts) * 32);
      const [answer] = await alignExample(['--dir', directory, '--file', speakerFile(String(spoken['userId'])), '--byte', String(byte)]);
      expect(answer).toMatchObject({ ts: Number(spoken['startTime']) + 200, userId: spoken['userId'] });
      expect(answer?.['transcript']).toMatchObject({ text: spoken['text'] });
    }
    const frames = await alignExample(['--dir', directory, '--file', speakerFile(stream.sent.audioUserIds()[0]!), '--frames']);
    expect(frames.map((frame) => frame['ts'])).toEqual(stream.sent.audioTimes(stream.sent.audioUserIds()[0]!).map((sent) => sent.timestamp));
    const unit = Math.floor(videoRecords.length / 2);
    const [unitAnswer] = await alignExample(['--dir', directory, '--file', 'video.h264', '--unit', String(unit)]);
    expect(unitAnswer).toMatchObject({ offset: videoRecords[unit]!.offset, ts: videoRecords[unit]!.ts, time: new Date(videoRecords[unit]!.ts).toISOString() });
    await expect(alignExample(['--dir', directory, '--file', 'audio.wav', '--byte', '10'])).rejects.toMatchObject({ code: 1 });

    // Captions at the end: every line, in both formats, parsed by ffmpeg.
    expect(await expectCaptionsMatch(directory)).toBe(stream.sent.transcriptCount());
    const json = JSON.parse(await readFile(join(directory, 'stream.json'), 'utf8')) as { files: string[] };
    expect(json.files).toEqual(expect.arrayContaining(['transcript.vtt', 'transcript.srt', 'video.h264.index.jsonl']));
  });
});
