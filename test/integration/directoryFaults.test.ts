import { existsSync } from 'node:fs';
import { chmod, chown, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { streamDirectory } from '../../src/sinks/streamDirectory.ts';
import { startSimulator } from 'rtms-simulator';
import { randomCredentials, readJsonLines } from './connectorHarness.ts';
import { eventually } from '../support/eventually.ts';
import { expectAccounted, expectValidFiles, mixedAudio, readStreamJson, startConnectorOn, untilAudioBytes } from './hostFaultTools.ts';

// Root ignores directory modes: the connector runs as nobody, as it would in its container.
const NOBODY = { uid: 65534, gid: 65534 };
const SECOND = 32_000;
// Seconds of each stream, of audio before the faults (at least), and of the read-only window:
// a few stream.json refreshes (1 s apart) fail in it, and 3 s of stream or more follow it.
const STREAM_S = 14;
const FAULT_AFTER_S = 3;
const READ_ONLY_FOR_S = 4;

/**
 * A live stream's directory made read-only (chmod 555) and then writable again, and another's
 * deleted (rm -rf), while the real connector writes them.
 */
describe('host faults: stream directories changed under a live stream', () => {
  it('chmod 555 stops only stream.json (media goes on, nothing lost); rm -rf is noticed, the directory comes back with new parts', async () => {
    const outputDir = await mkdtemp(join(tmpdir(), 'rtms-dirfaults-'));
    await chown(outputDir, NOBODY.uid, NOBODY.gid);
    const credentials = randomCredentials();
    const connector = await startConnectorOn(outputDir, credentials, {}, NOBODY);
    const simulator = await startSimulator({ credentials, webhookUrl: connector.webhookUrl, seed: 20, reconnectGraceMs: 20_000 });
    try {
      const [readOnly, deleted] = await Promise.all([
        simulator.startStream({ durationMs: STREAM_S * 1000, participants: 2 }),
        simulator.startStream({ durationMs: STREAM_S * 1000, participants: 2 }),
      ]);
      await Promise.all([readOnly.whenReady(), deleted.whenReady()]);
      const readOnlyDir = streamDirectory(outputDir, readOnly.rtmsStreamId);
      const deletedDir = streamDirectory(outputDir, deleted.rtmsStreamId);
      await untilAudioBytes(readOnly, FAULT_AFTER_S * SECOND);
      await untilAudioBytes(deleted, FAULT_AFTER_S * SECOND);
      // A read-only directory refuses new files too: the window starts once the files a stream
      // creates late (first chat 3-6 s in, the next 8 s or more later; first transcript line)
      // exist, so that only stream.json's refreshes fail in it.
      await eventually(() => ['chat.jsonl', 'transcript.jsonl'].every((name) => existsSync(join(readOnlyDir, name))), {
        what: "the read-only stream's chat and transcript files",
      });
      await chmod(readOnlyDir, 0o555);
      const readOnlyAt = readOnly.sent.audioBytes();
      await rm(deletedDir, { recursive: true });
      const deletedAt = deleted.sent.audioBytes();

      // Mid-fault: the read-only stream reports stream.json failing; the deleted one is back.
      const failing = await connector.waitForStream(readOnly.rtmsStreamId, (s) => (s['sink'] as { state?: string } | null)?.state === 'failing');
      expect(failing['sink']).toMatchObject({ lastError: { file: 'stream.json', code: 'EACCES' } });
      await untilAudioBytes(readOnly, readOnlyAt + READ_ONLY_FOR_S * SECOND);
      await expectValidFiles(readOnlyDir, { final: false });
      const lost = await connector.waitForStream(
        deleted.rtmsStreamId,
        (s) => (s['sink'] as { lastError?: { code?: string } } | null)?.lastError?.code === 'ENOENT',
      );
      expect(lost['sink']).toMatchObject({ lastError: { code: 'ENOENT' } });
      expect((await stat(deletedDir)).isDirectory()).toBe(true);
      await expectValidFiles(deletedDir, { final: false });

      await chmod(readOnlyDir, 0o755);
      await Promise.all([readOnly.whenEnded(), deleted.whenEnded()]);
      for (const stream of [readOnly, deleted]) await connector.waitForStream(stream.rtmsStreamId, (s) => s['active'] === false, 30_000);
      expect(connector.pid).toBeDefined();

      // Read-only directory: the open media files were never affected.
      await expectValidFiles(readOnlyDir);
      expect((await mixedAudio(readOnlyDir)).equals(readOnly.sent.audio('0'))).toBe(true);
      const readOnlyJson = await readStreamJson(outputDir, readOnly);
      expectAccounted(readOnlyJson);
      expect(readOnlyJson).toMatchObject({ state: 'ended', sink: { health: 'ok', error: { file: 'stream.json', code: 'EACCES' } } });
      expect((await readFile(join(readOnlyDir, 'stream.json'), 'utf8')).length).toBeGreaterThan(0);

      // Deleted directory: recreated; what went into the unlinked files is counted as lost,
      // everything sent after that is in the new audio.wav, byte for byte.
      await expectValidFiles(deletedDir);
      const deletedJson = await readStreamJson(outputDir, deleted);
      const media = expectAccounted(deletedJson);
      expect(media['audio']!.framesDropped['sink_error']).toBeGreaterThan(0);
      expect(deletedJson).toMatchObject({ state: 'ended', sink: { files: { 'audio.wav': { state: 'ok', lastError: 'ENOENT' } } } });
      const sent = deleted.sent.audio('0');
      const written = await mixedAudio(deletedDir);
      expect(written.length).toBeGreaterThan(0);
      expect(sent.subarray(sent.length - written.length).equals(written)).toBe(true);
      const lostSeconds = (sent.length - deletedAt - written.length) / SECOND;
      process.stdout.write(`rm -rf of a live stream directory: ${lostSeconds.toFixed(2)} s of the audio sent after the deletion lost\n`);
      expect(lostSeconds).toBeLessThan(2);
      const events = await readJsonLines(join(deletedDir, 'events.jsonl'));
      expect(events.map((event) => event['eventType'])).toEqual(expect.arrayContaining(['sink.file_lost', 'media.gap', 'stream.ended']));
    } finally {
      await simulator.close();
      await connector.stop('SIGTERM');
      await rm(outputDir, { recursive: true, force: true });
    }
  }, 120_000);
});
