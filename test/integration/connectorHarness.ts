import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, expect } from 'vitest';
import type { Credentials } from '../../src/config.ts';
import { ConnectorProcess, connectorEnv, randomCredentials } from '../support/connectorProcess.ts';
import { readWavData } from '../support/wavReader.ts';
import { fileSafeId } from '../../src/sinks/fileSafeId.ts';
import { streamDirectory } from '../../src/sinks/streamDirectory.ts';
import { startSimulator, type SimulatedStream, type Simulator, type SimulatorOptions } from 'rtms-simulator';
import type { MediaCounters } from '../../src/vocabulary/streamStats.ts';
import { eventually } from '../support/eventually.ts';
import { tempDir } from '../support/tempDir.ts';

/**
 * A real connector process (src/main.ts in a child process, real worker threads) and an
 * in-process simulator, wired together on 127.0.0.1, with a fresh OUTPUT_DIR.
 */
export interface Rig {
  readonly connector: ConnectorProcess;
  readonly simulator: Simulator;
  readonly credentials: Credentials;
  readonly outputDir: string;
  streamDir(stream: SimulatedStream): string;
  close(): Promise<void>;
}

export { randomCredentials };

/**
 * Rigs open or used during the current test: when it fails, their connector's recent log is
 * printed, the evidence a rare failure leaves. Rigs closed during the test go after it.
 */
const rigsInUse = new Set<Rig>();
const closedRigs = new WeakSet<Rig>();
afterEach((context) => {
  if (context.task.result?.state === 'fail') {
    for (const rig of rigsInUse) {
      process.stderr.write(`--- connector log (last 200 lines) after "${context.task.name}" failed ---\n${rig.connector.logLines.slice(-200).join('\n')}\n`);
    }
  }
  for (const rig of rigsInUse) if (closedRigs.has(rig)) rigsInUse.delete(rig);
});

/** `env` is laid over the test defaults below; `simulator` over the simulator's. */
export async function startRig(env: Record<string, string> = {}, simulator: Partial<SimulatorOptions> = {}): Promise<Rig> {
  const output = await tempDir('rtms-it-');
  const outputDir = output.path;
  const credentials = randomCredentials();
  const connector = await ConnectorProcess.start({
    env: connectorEnv({
      credentials,
      outputDir,
      adminToken: 'admin-token-for-tests-0123456789abcdef',
      extra: {
        WORKER_THREADS: '2',
        RTMS_MEDIA: 'audio,video,deskshare,transcript,chat',
        RTMS_RECONNECT_BASE_MS: '100',
        RTMS_RECONNECT_MAX_MS: '1000',
        OUTPUT_FLUSH_INTERVAL_MS: '200',
        STATS_INTERVAL_MS: '100',
        LOG_LEVEL: 'info',
        ...env,
      },
    }),
  });
  const zoom = await startSimulator({ credentials, webhookUrl: connector.webhookUrl, seed: 11, reconnectGraceMs: 20_000, ...simulator });
  const rig: Rig = {
    connector,
    simulator: zoom,
    credentials,
    outputDir,
    streamDir: (stream) => streamDirectory(outputDir, stream.rtmsStreamId),
    async close() {
      closedRigs.add(rig);
      await zoom.close();
      await connector.stop('SIGTERM');
      await output.remove();
    },
  };
  rigsInUse.add(rig);
  return rig;
}

/** Waits until the simulator has delivered at least `bytes` of audio and `transcripts` lines. */
export async function untilAudioSent(stream: SimulatedStream, bytes: number, options: { transcripts?: number; timeoutMs?: number } = {}): Promise<void> {
  const transcripts = options.transcripts ?? 0;
  await eventually(() => stream.sent.audioBytes() >= bytes && stream.sent.transcriptCount() >= transcripts, {
    what: `${bytes} audio bytes and ${transcripts} transcript lines sent`,
    timeoutMs: options.timeoutMs ?? 15_000,
    state: () => `${stream.sent.audioBytes()} audio bytes and ${stream.sent.transcriptCount()} transcript lines sent`,
  });
}

/** Each speaker's WAV data section equals, byte for byte, what the simulator delivered. */
export async function expectAudioIdentical(rig: Rig, stream: SimulatedStream): Promise<void> {
  const userIds = stream.sent.audioUserIds();
  expect(userIds.length).toBeGreaterThan(0);
  for (const userId of userIds) {
    const file = userId === '0' ? 'audio.wav' : `audio-${fileSafeId(userId)}.wav`;
    const wav = await readWavData(join(rig.streamDir(stream), file));
    const sent = stream.sent.audio(userId);
    expect(sent.length).toBeGreaterThan(0);
    // Compare lengths first so a failure says how much is missing or duplicated.
    expect({ file, bytes: wav.data.length }).toEqual({ file, bytes: sent.length });
    expect(wav.data.equals(sent)).toBe(true);
  }
}

export { readJsonLines } from '../support/jsonLines.ts';

/** Waits until the stream's `stream.json` says its sink is closed: the session is torn down, its files final. */
export async function untilSinkClosed(rig: Rig, stream: SimulatedStream): Promise<void> {
  await eventually(
    async () =>
      (JSON.parse(await readFile(join(rig.streamDir(stream), 'stream.json'), 'utf8')) as { sink?: { state?: string } }).sink?.state === 'closed'
        ? true
        : undefined,
    { what: `the sink of stream ${stream.rtmsStreamId} closed` },
  );
}

/**
 * Reads the final accounting from `stream.json` and checks, per media kind, that every frame
 * received was either written or dropped with a reason. Returns the media counters.
 */
export async function expectEveryFrameAccounted(rig: Rig, stream: SimulatedStream): Promise<Record<string, MediaCounters>> {
  const streamJson = JSON.parse(await readFile(join(rig.streamDir(stream), 'stream.json'), 'utf8')) as { media?: Record<string, MediaCounters> };
  const media = streamJson.media ?? {};
  expect(Object.keys(media).length).toBeGreaterThan(0);
  for (const [kind, counters] of Object.entries(media)) {
    const dropped = Object.values(counters.framesDropped).reduce((sum, count) => sum + count, 0);
    expect({ kind, received: counters.framesReceived }).toEqual({ kind, received: counters.framesWritten + dropped });
  }
  return media;
}

export async function waitUntilEnded(rig: Rig, stream: SimulatedStream): Promise<Record<string, unknown>> {
  return rig.connector.waitForStream(stream.rtmsStreamId, (snapshot) => snapshot['active'] === false);
}
