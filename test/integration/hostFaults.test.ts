import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readWavData } from '../support/wavReader.ts';
import { streamDirectory } from '../../src/sinks/streamDirectory.ts';
import { startSimulator } from 'rtms-simulator';
import { mountSmallTmpfs } from '../support/smallTmpfs.ts';
import { randomCredentials } from './connectorHarness.ts';
import { recordingAudioBytes } from '../support/recordingProbe.ts';
import { expectAccounted, expectValidFiles, mixedAudio, readStreamJson, startConnectorOn, untilAudioBytes } from './hostFaultTools.ts';

// The stand-in's mixed audio is 16 kHz mono: 32 000 bytes a second.
const SECOND = 32_000;
// Seconds of stream, of audio before the disk fills, and of the fault. The fault is long enough
// for a 256 KiB buffer to overflow (a failing file sheds once it holds half of it: about 4 s of
// audio); the retry after it comes at most 2 s later, and at least 5 s of audio must follow
// (about 8 s do).
const STREAM_S = 20;
const FULL_AFTER_S = 4;
const FULL_FOR_S = 6;

/**
 * Host faults against the real connector process and the stand-in (issue 18): a real tmpfs
 * filled to ENOSPC. Each test asserts that the connector stays up, that every file is valid at a
 * mid-fault snapshot and at the end, that audio sent after the recovery is on disk byte for
 * byte, and that every frame received is written or counted as dropped.
 */
describe('host faults: full disk', () => {
  // Default buffer: the whole fault waits in memory, nothing is lost. A 256 KiB buffer cannot
  // hold the fault's media: a failing file sheds what waits (sink_error), and only the fault
  // window may be lost.
  it.each([
    { buffer: 'default', env: {}, loses: false },
    { buffer: '256 KiB', env: { BUFFER_HIGH_WATER_BYTES: String(256 * 1024), BUFFER_LOW_WATER_BYTES: String(64 * 1024) }, loses: true },
  ])(
    `disk full for ${FULL_FOR_S} s of a ${STREAM_S} s stream ($buffer buffer): only the fault window can be lost, the stream goes on in the same files`,
    async ({ buffer, env, loses }) => {
      const disk = await mountSmallTmpfs(64 * 1024 * 1024);
      const credentials = randomCredentials();
      // The tmpfs is unmounted even when the connector or the stand-in cannot start.
      const connector = await startConnectorOn(disk.path, credentials, env).catch(async (error: unknown) => {
        await disk.unmount();
        throw error;
      });
      const simulator = await startSimulator({ credentials, webhookUrl: connector.webhookUrl, seed: 18, reconnectGraceMs: 20_000 }).catch(
        async (error: unknown) => {
          await connector.stop('SIGTERM');
          await disk.unmount();
          throw error;
        },
      );
      try {
        const stream = await simulator.startStream({ durationMs: STREAM_S * 1000, participants: 2 });
        await stream.whenReady();
        const directory = streamDirectory(disk.path, stream.rtmsStreamId);
        await untilAudioBytes(stream, FULL_AFTER_S * SECOND);
        await disk.fill();
        const fullAt = stream.sent.audioBytes();

        // Mid-fault: up, the sink says what is wrong, and every file on disk is valid.
        await untilAudioBytes(stream, fullAt + (FULL_FOR_S / 2) * SECOND);
        const failing = await connector.waitForStream(stream.rtmsStreamId, (s) => (s['sink'] as { state?: string } | null)?.state === 'failing');
        expect(failing['sink']).toMatchObject({ state: 'failing', lastError: { code: 'ENOSPC' } });
        expect((await fetch(`${connector.baseUrl}/healthz`)).status).toBe(200);
        await expectValidFiles(directory, { final: false });

        await untilAudioBytes(stream, fullAt + FULL_FOR_S * SECOND);
        await disk.free();
        const freedAt = stream.sent.audioBytes();
        // Recovered: the sink writes again (its next retry, at most 2 s later) and the buffer
        // in front of it has drained. Everything the stand-in sends from now on must be on disk.
        await connector.waitForStream(
          stream.rtmsStreamId,
          (s) => (s['sink'] as { state?: string } | null)?.state === 'ok' && Number(s['bufferedBytes']) < 64 * 1024,
        );
        const recoveredAt = stream.sent.audioBytes();

        await stream.whenEnded();
        const ended = await connector.waitForStream(stream.rtmsStreamId, (s) => s['active'] === false, 30_000);
        expect(connector.pid).toBeDefined();
        await expectValidFiles(directory);

        const sent = stream.sent.audio('0');
        const written = await mixedAudio(directory);
        expect((await readWavData(join(directory, 'audio.wav'))).sampleRateHz * 2).toBe(SECOND);
        // Audio sent after the recovery is on disk, byte for byte, at the end of the stream.
        const afterRecovery = sent.subarray(recoveredAt);
        expect(afterRecovery.length).toBeGreaterThan(5 * SECOND);
        expect(written.subarray(written.length - afterRecovery.length).equals(afterRecovery)).toBe(true);
        // And what was sent before the disk filled at its start, but for what was still in memory
        // then (one flush interval, 200 ms here), which belongs to the fault window.
        const before = fullAt - SECOND / 2;
        expect(written.subarray(0, before).equals(sent.subarray(0, before))).toBe(true);
        const lostSeconds = (sent.length - written.length) / SECOND;
        process.stdout.write(
          `${buffer} buffer: disk full for ${((freedAt - fullAt) / SECOND).toFixed(1)} s of a ${(sent.length / SECOND).toFixed(1)} s stream (recovered ${((recoveredAt - freedAt) / SECOND).toFixed(1)} s after space came back): ${lostSeconds.toFixed(2)} s of audio lost\n`,
        );
        expect(lostSeconds).toBeGreaterThanOrEqual(0);
        expect(lostSeconds).toBeLessThanOrEqual((recoveredAt - fullAt) / SECOND);
        // The default buffer held the whole fault; the small one overflowed during it.
        if (loses) expect(lostSeconds).toBeGreaterThan(0);
        else expect(lostSeconds).toBe(0);

        const streamJson = await readStreamJson(disk.path, stream);
        const media = expectAccounted(streamJson);
        expect(media['audio']!.bytesWritten).toBe(written.length);
        // Every audio frame not on disk is counted, with its reason.
        const audioDropped = Object.values(media['audio']!.framesDropped).reduce((sum, count) => sum + count, 0);
        expect(audioDropped > 0).toBe(lostSeconds > 0);
        // All of it shed by the failing file, none for another reason.
        if (loses) expect(Object.entries(media['audio']!.framesDropped).filter(([, count]) => count > 0)).toEqual([['sink_error', audioDropped]]);
        process.stdout.write(
          `dropped per kind: ${JSON.stringify(Object.fromEntries(Object.entries(media).map(([kind, c]) => [kind, { received: c.framesReceived, dropped: c.framesDropped }])))}\n`,
        );
        expect(streamJson).toMatchObject({ state: 'ended', sink: { state: 'closed', health: 'ok', error: { code: 'ENOSPC' } } });
        expect(ended['sink']).toMatchObject({ state: 'ok', lastError: { code: 'ENOSPC' } });
        // The recording rode the fault out in memory (its bound is 4 MiB): one part, no failure,
        // and every audio frame the sink was given, byte for byte (the WAV lost the fault window).
        expect(streamJson['recording']).toMatchObject({ parts: [{ file: 'recording.mkv' }], failures: {} });
        const recorded = await recordingAudioBytes(join(directory, 'recording.mkv'));
        expect(recorded.length).toBeGreaterThanOrEqual(written.length);
        const recording = streamJson['recording'] as { frames: { audio: { written: number } } };
        // Unless the stream's own buffer evicted frames before the sink, that is all the audio sent.
        if (recording.frames.audio.written === media['audio']!.framesReceived) expect(recorded.equals(sent)).toBe(true);
      } finally {
        await simulator.close();
        await connector.stop('SIGTERM');
        await disk.unmount();
      }
    },
    120_000,
  );
});
