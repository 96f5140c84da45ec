import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConnectorProcess } from '../../../src/demo/connectorProcess.ts';
import { streamDirectory } from '../../../src/sinks/streamDirectory.ts';
import { type SimulatedStream, type SimulatorOptions, startSimulator } from '../../../src/simulator/simulator.ts';
import type { MediaCounters } from '../../../src/worker/streamStats.ts';
import { randomCredentials, readJsonLines, type Rig } from '../connectorHarness.ts';

/**
 * The connector process and the simulator with short keep-alive and reconnect timings, so
 * chaos shows its effect within seconds: the connector gives up on a socket silent for
 * `KEEPALIVE_TIMEOUT_MS`, the simulator asks for keep-alives every 300 ms.
 */
export const KEEPALIVE_TIMEOUT_MS = 1500;

export async function startChaosRig(options: { env?: Record<string, string>; simulator?: Partial<SimulatorOptions> } = {}): Promise<Rig> {
  const outputDir = await mkdtemp(join(tmpdir(), 'rtms-chaos-it-'));
  const credentials = randomCredentials();
  const connector = await ConnectorProcess.start({
    env: {
      PATH: process.env['PATH'] ?? '',
      ZM_RTMS_CLIENT: credentials.clientId,
      ZM_RTMS_SECRET: credentials.clientSecret,
      ZM_WEBHOOK_SECRET_TOKEN: credentials.webhookSecretToken,
      ADMIN_TOKEN: 'admin-token-for-tests',
      OUTPUT_DIR: outputDir,
      WORKER_THREADS: '2',
      RTMS_MEDIA: 'audio,video,deskshare,transcript,chat',
      RTMS_KEEPALIVE_TIMEOUT_MS: String(KEEPALIVE_TIMEOUT_MS),
      RTMS_HANDSHAKE_TIMEOUT_MS: '5000',
      RTMS_RECONNECT_BASE_MS: '100',
      RTMS_RECONNECT_MAX_MS: '1000',
      OUTPUT_FLUSH_INTERVAL_MS: '200',
      STATS_INTERVAL_MS: '100',
      LOG_LEVEL: 'info',
      ...options.env,
    },
  });
  const simulator = await startSimulator({
    credentials,
    webhookUrl: connector.webhookUrl,
    seed: 23,
    keepAliveIntervalMs: 300,
    reconnectGraceMs: 20_000,
    ...options.simulator,
  });
  return {
    connector,
    simulator,
    credentials,
    outputDir,
    streamDir: (stream) => streamDirectory(outputDir, stream.rtmsStreamId),
    async close() {
      await simulator.close();
      await connector.stop('SIGTERM');
      await rm(outputDir, { recursive: true, force: true });
    },
  };
}

/** The final per-kind counters from `stream.json`. */
export async function mediaCounters(rig: Rig, stream: SimulatedStream): Promise<Record<string, MediaCounters>> {
  const streamJson = JSON.parse(await readFile(join(rig.streamDir(stream), 'stream.json'), 'utf8')) as { media?: Record<string, MediaCounters> };
  return streamJson.media ?? {};
}

/** `eventType`s of the stream's `events.jsonl`, with their data. */
export async function streamEvents(rig: Rig, stream: SimulatedStream): Promise<Array<{ eventType: string; data: Record<string, unknown> }>> {
  return (await readJsonLines(join(rig.streamDir(stream), 'events.jsonl'))).map((line) => ({
    eventType: String(line['eventType']),
    data: (line['data'] ?? {}) as Record<string, unknown>,
  }));
}

/** Polls `GET /streams/{id}` until `predicate` holds. */
export function untilSnapshot(rig: Rig, stream: SimulatedStream, predicate: (snapshot: Record<string, unknown>) => boolean, timeoutMs = 20_000): Promise<Record<string, unknown>> {
  return rig.connector.waitForStream(stream.rtmsStreamId, predicate, timeoutMs);
}

/** Rejoins with at least one start, as `[key, count]`, sorted. */
export function rejoinsOf(snapshot: Record<string, unknown>): Array<[string, number]> {
  return Object.entries((snapshot['rejoins'] ?? {}) as Record<string, number>)
    .filter(([, count]) => count > 0)
    .sort(([a], [b]) => a.localeCompare(b));
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
