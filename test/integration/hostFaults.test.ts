import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readWavData } from '../../src/media/wavReader.ts';
import { streamDirectory } from '../../src/sinks/streamDirectory.ts';
import { startSimulator } from '../../src/simulator/simulator.ts';
import { mountSmallTmpfs } from '../support/smallTmpfs.ts';
import { randomCredentials } from './connectorHarness.ts';
import { expectAccounted, expectValidFiles, mixedAudio, readStreamJson, startConnectorOn, untilAudioBytes } from './hostFaultTools.ts';

/**
 * Host faults against the real connector process and the stand-in (issue 18): a real tmpfs
 * filled to ENOSPC. Each test asserts that the connector stays up, that every file is valid at a
 * mid-fault snapshot and at the end, that audio sent after the recovery is on disk byte for
 * byte, and that every frame received is written or counted as dropped.
 */
describe('host faults: full disk', () => {
  it('disk full for 8 s of a 30 s stream: only the fault window can be lost, and the stream goes on in the same files', async () => {
    const disk = await mountSmallTmpfs(64 * 1024 * 1024);
    const credentials = randomCredentials();
    const connector = await startConnectorOn(disk.path, credentials);
    const simulator = await startSimulator({ credentials, webhookUrl: connector.webhookUrl, seed: 18, reconnectGraceMs: 20_000 });
    try {
      const stream = await simulator.startStream({ durationMs: 30_000, participants: 2 });
      await stream.whenReady();
      const directory = streamDirectory(disk.path, stream.rtmsStreamId);
      // The stand-in's mixed audio is 16 kHz mono: 32 000 bytes a second.
      const second = 32_000;
      await untilAudioBytes(stream, 8 * second);
      await disk.fill();
      const fullAt = stream.sent.audioBytes();

      // Mid-fault: up, the sink says what is wrong, and every file on disk is valid.
      await untilAudioBytes(stream, fullAt + 4 * second);
      const failing = await connector.waitForStream(stream.rtmsStreamId, (s) => (s['sink'] as { state?: string } | null)?.state === 'failing');
      expect(failing['sink']).toMatchObject({ state: 'failing', lastError: { code: 'ENOSPC' } });
      expect((await fetch(`${connector.baseUrl}/healthz`)).status).toBe(200);
      await expectValidFiles(directory, { final: false });

      await untilAudioBytes(stream, fullAt + 8 * second);
      await disk.free();
      const freedAt = stream.sent.audioBytes();

      await stream.whenEnded();
      const ended = await connector.waitForStream(stream.rtmsStreamId, (s) => s['active'] === false, 30_000);
      expect(connector.pid).toBeDefined();
      await expectValidFiles(directory);

      const sent = stream.sent.audio('0');
      const written = await mixedAudio(directory);
      expect((await readWavData(join(directory, 'audio.wav'))).sampleRateHz * 2).toBe(second);
      // Audio sent after the disk was freed is on disk, byte for byte, at the end of the stream.
      const afterRecovery = sent.subarray(freedAt);
      expect(afterRecovery.length).toBeGreaterThan(5 * second);
      expect(written.subarray(written.length - afterRecovery.length).equals(afterRecovery)).toBe(true);
      // And what was sent before the disk filled, at its start.
      expect(written.subarray(0, fullAt).equals(sent.subarray(0, fullAt))).toBe(true);
      const lostSeconds = (sent.length - written.length) / second;
      process.stdout.write(`disk full for ${((freedAt - fullAt) / second).toFixed(1)} s of a ${(sent.length / second).toFixed(1)} s stream: ${lostSeconds.toFixed(2)} s of audio lost\n`);
      expect(lostSeconds).toBeGreaterThanOrEqual(0);
      expect(lostSeconds).toBeLessThanOrEqual((freedAt - fullAt) / second);

      const streamJson = await readStreamJson(disk.path, stream);
      const media = expectAccounted(streamJson);
      expect(media['audio']!.bytesWritten).toBe(written.length);
      process.stdout.write(`dropped per kind: ${JSON.stringify(Object.fromEntries(Object.entries(media).map(([kind, c]) => [kind, { received: c.framesReceived, dropped: c.framesDropped }])))}\n`);
      expect(streamJson).toMatchObject({ state: 'ended', sink: { state: 'closed', health: 'ok', error: { code: 'ENOSPC' } } });
      expect(ended['sink']).toMatchObject({ state: 'ok', lastError: { code: 'ENOSPC' } });
    } finally {
      await simulator.close();
      await connector.stop('SIGTERM');
      await disk.unmount();
    }
  }, 120_000);
});
