import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { streamDirectory } from '../../src/sinks/streamDirectory.ts';
import { startSimulator } from 'rtms-simulator';
import { randomCredentials, readJsonLines } from './connectorHarness.ts';
import { expectAccounted, expectValidFiles, mixedAudio, readStreamJson, startConnectorOn, untilAudioBytes } from './hostFaultTools.ts';

const run = promisify(execFile);
const SECOND = 32_000;

/** The connector's open-files limit, lowered and restored with `prlimit` on the live process. */
async function setOpenFilesLimit(pid: number, soft: number | string, hard: number | string): Promise<void> {
  await run('prlimit', [`--pid=${pid}`, `--nofile=${soft}:${hard}`]);
}

describe('host faults: open-files limit', () => {
  it('no descriptor can be opened for 3 s: open files go on, new files and stream.json wait and are written after; nothing lost', async () => {
    const outputDir = await mkdtemp(join(tmpdir(), 'rtms-emfile-'));
    const credentials = randomCredentials();
    const connector = await startConnectorOn(outputDir, credentials);
    const simulator = await startSimulator({ credentials, webhookUrl: connector.webhookUrl, seed: 21, reconnectGraceMs: 20_000 });
    const pid = connector.pid!;
    const { stdout } = await run('prlimit', [`--pid=${pid}`, '--nofile', '--output=SOFT,HARD', '--noheadings']);
    const [soft, hard] = stdout.trim().split(/\s+/) as [string, string];
    try {
      const stream = await simulator.startStream({ durationMs: 14_000, participants: 2 });
      await stream.whenReady();
      const directory = streamDirectory(outputDir, stream.rtmsStreamId);
      await untilAudioBytes(stream, 4 * SECOND);
      // Fewer descriptors allowed than are open (with room for a few idle sockets closing
      // meanwhile): every open fails with EMFILE until the limit is restored.
      const open = (await readdir(`/proc/${pid}/fd`)).length;
      await setOpenFilesLimit(pid, open - 10, hard);
      const limitedAt = stream.sent.audioBytes();
      await untilAudioBytes(stream, limitedAt + 3 * SECOND);
      await expectValidFiles(directory, { final: false });
      await setOpenFilesLimit(pid, soft, hard);

      await stream.whenEnded();
      await connector.waitForStream(stream.rtmsStreamId, (s) => s['active'] === false, 30_000);
      expect(connector.pid).toBe(pid);
      await expectValidFiles(directory);
      // The open WAV never stopped: every byte the stand-in sent is on disk.
      expect((await mixedAudio(directory)).equals(stream.sent.audio('0'))).toBe(true);
      const streamJson = await readStreamJson(outputDir, stream);
      const media = expectAccounted(streamJson);
      for (const [kind, counters] of Object.entries(media)) expect({ kind, dropped: counters.framesDropped }).toEqual({ kind, dropped: {} });
      const events = await readJsonLines(join(directory, 'events.jsonl'));
      const failing = events.filter((event) => event['eventType'] === 'sink.file_failing').map((event) => event['data'] as { file: string; code: string });
      expect(failing.length).toBeGreaterThan(0);
      expect(failing.every((event) => event.code === 'EMFILE')).toBe(true);
      const recovered = events.filter((event) => event['eventType'] === 'sink.file_recovered').map((event) => (event['data'] as { file: string }).file);
      expect(recovered.sort()).toEqual(failing.map((event) => event.file).sort());
    } finally {
      await setOpenFilesLimit(pid, soft, hard).catch(() => undefined);
      await simulator.close();
      await connector.stop('SIGTERM');
      await rm(outputDir, { recursive: true, force: true });
    }
  }, 120_000);
});
