import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { indexedFrames, readIndex } from '../support/timeIndex.ts';
import { readWavData } from '../support/wavReader.ts';
import { streamDirectory } from '../../src/sinks/streamDirectory.ts';
import { startSimulator } from 'rtms-simulator';
import { randomCredentials, readJsonLines } from './connectorHarness.ts';
import { expectValidFiles, startConnectorOn, startWebhookForwarder, untilAudioBytes } from './hostFaultTools.ts';

async function readJson(path: string): Promise<Record<string, unknown>> {
  return JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
}

async function until<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * kill -9 of the connector, a restart on the same OUTPUT_DIR and Zoom's replayed
 * `rtms_started`: the stream continues its directory. Then a late `rtms_started` after the
 * stream ended: recorded beside the finished stream, never over it.
 */
describe('host faults: restart and late webhooks', () => {
  it('kill -9, restart, replayed rtms_started: stream.json continues, earlier parts kept; a late rtms_started leaves the finished stream as it was', async () => {
    const outputDir = await mkdtemp(join(tmpdir(), 'rtms-restart-'));
    const credentials = randomCredentials();
    const forwarder = await startWebhookForwarder();
    let connector = await startConnectorOn(outputDir, credentials);
    forwarder.target = connector.webhookUrl;
    const simulator = await startSimulator({ credentials, webhookUrl: forwarder.url, seed: 19, reconnectGraceMs: 30_000 });
    try {
      // Killed after 5 s of audio: the second run records about as much again (it was 16 s, 11 s more).
      const stream = await simulator.startStream({ durationMs: 11_000, participants: 2 });
      const directory = streamDirectory(outputDir, stream.rtmsStreamId);
      await stream.whenReady();
      await untilAudioBytes(stream, 5 * 32_000);
      // A stream.json with counters, as the killed process left it.
      const before = await until(async () => {
        const json = await readJson(join(directory, 'stream.json'));
        return ((json['media'] as Record<string, { framesReceived: number }> | undefined)?.['audio']?.framesReceived ?? 0) > 0 ? json : undefined;
      }, 'a stream.json with audio counters');
      expect(await connector.stop('SIGKILL')).toBe(null);

      connector = await startConnectorOn(outputDir, credentials);
      forwarder.target = connector.webhookUrl;
      expect((await stream.resendStart()).status).toBe(200);
      await stream.whenReady(2);
      await stream.whenEnded();
      await connector.waitForStream(stream.rtmsStreamId, (s) => s['active'] === false, 30_000);

      await expectValidFiles(directory);
      const after = await readJson(join(directory, 'stream.json'));
      const files = after['files'] as string[];
      // Earlier parts stay listed; the second run writes the next part beside them.
      expect(files).toEqual(expect.arrayContaining(['stream.json', 'events.jsonl', 'audio.wav', 'audio.part2.wav', 'video.h264', 'transcript.jsonl']));
      // The killed run's recording stays as it was left (checked by expectValidFiles); the second run's is the next part.
      expect(after['recording']).toMatchObject({ parts: [{ file: 'recording.part2.mkv', tracks: ['audio', 'video'] }] });
      expect(after).toMatchObject({ state: 'ended', createdAt: before['createdAt'], liveAt: before['liveAt'] });
      expect(after['reconnects']).toBeGreaterThanOrEqual(1);
      const audioBefore = (before['media'] as Record<string, { framesReceived: number; framesWritten: number }>)['audio']!;
      const audioAfter = (after['media'] as Record<string, { framesReceived: number; framesWritten: number; bytesWritten: number }>)['audio']!;
      expect(audioAfter.framesReceived).toBeGreaterThan(audioBefore.framesReceived);
      expect(audioAfter.framesWritten).toBeGreaterThan(audioBefore.framesWritten);
      // Carried counts plus the second run's: each part's bytes are in the total.
      const part1 = (await readWavData(join(directory, 'audio.wav'))).data;
      const part2 = (await readWavData(join(directory, 'audio.part2.wav'))).data;
      expect(audioAfter.bytesWritten).toBeGreaterThanOrEqual(part2.length + (audioBefore as unknown as { bytesWritten: number }).bytesWritten);
      expect(audioAfter.bytesWritten).toBeLessThanOrEqual(part1.length + part2.length);
      // The second part is what the stand-in sent after the rejoin, byte for byte.
      const sent = stream.sent.audio('0');
      expect(sent.subarray(sent.length - part2.length).equals(part2)).toBe(true);
      expect(sent.subarray(0, part1.length).equals(part1)).toBe(true);
      // Each part's time index gives back the timestamps the stand-in sent those bytes with.
      const sentTimes = stream.sent.audioTimes('0');
      const wav2 = await readWavData(join(directory, 'audio.part2.wav'));
      const byteRate = wav2.sampleRateHz * wav2.channels * 2;
      const frames1 = indexedFrames(await readIndex(join(directory, 'audio.wav.index.jsonl')), byteRate);
      const frames2 = indexedFrames(await readIndex(join(directory, 'audio.part2.wav.index.jsonl')), byteRate);
      expect(frames1.reduce((sum, frame) => sum + frame.bytes, 0)).toBeGreaterThanOrEqual(part1.length);
      expect(frames2.reduce((sum, frame) => sum + frame.bytes, 0)).toBe(part2.length);
      expect(frames1).toEqual(sentTimes.slice(0, frames1.length));
      expect(frames2).toEqual(sentTimes.slice(sentTimes.length - frames2.length));
      const events = await readJsonLines(join(directory, 'events.jsonl'));
      expect(events.filter((event) => event['eventType'] === 'stream.resumed').map((event) => event['data'])).toMatchObject([{ reason: 'restart' }]);

      // A late rtms_started reaching a connector that has no memory of it (restarted again).
      const finalStreamJson = await readFile(join(directory, 'stream.json'), 'utf8');
      const finalAudio = await readFile(join(directory, 'audio.part2.wav'));
      expect(await connector.stop('SIGTERM')).toBe(0);
      connector = await startConnectorOn(outputDir, credentials);
      forwarder.target = connector.webhookUrl;
      expect((await stream.resendStart()).status).toBe(200);
      const attempt = await until(
        async () => {
          const json = await readJson(join(directory, 'attempts', '2', 'stream.json'));
          return json['state'] === 'failed' || json['state'] === 'ended' ? json : undefined;
        },
        'the late attempt to finish',
        60_000,
      );
      expect(attempt).toMatchObject({ rtmsStreamId: stream.rtmsStreamId });
      expect(await readFile(join(directory, 'stream.json'), 'utf8')).toBe(finalStreamJson);
      expect((await readFile(join(directory, 'audio.part2.wav'))).equals(finalAudio)).toBe(true);
      const lateEvents = (await readJsonLines(join(directory, 'events.jsonl'))).slice(events.length);
      expect(lateEvents).toMatchObject([{ eventType: 'stream.late_start', data: { attempt: 'attempts/2', previousState: 'ended' } }]);
      await expectValidFiles(directory);
      expect(connector.pid).toBeDefined();
    } finally {
      await simulator.close();
      await connector.stop('SIGTERM');
      await forwarder.close();
      await rm(outputDir, { recursive: true, force: true });
    }
  }, 180_000);
});
