import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { SimulatedStream, SimulatorOptions } from 'rtms-simulator';
import type { MediaCounters } from '../../../src/worker/streamStats.ts';
import { readJsonLines, startRig, type Rig } from '../connectorHarness.ts';

/**
 * The connector process and the simulator with short keep-alive and reconnect timings, so
 * chaos shows its effect within seconds: the connector gives up on a socket silent for
 * `KEEPALIVE_TIMEOUT_MS`, the simulator asks for keep-alives every 300 ms.
 */
export const KEEPALIVE_TIMEOUT_MS = 1500;

export function startChaosRig(options: { env?: Record<string, string>; simulator?: Partial<SimulatorOptions> } = {}): Promise<Rig> {
  return startRig(
    { RTMS_KEEPALIVE_TIMEOUT_MS: String(KEEPALIVE_TIMEOUT_MS), RTMS_HANDSHAKE_TIMEOUT_MS: '5000', ...options.env },
    { seed: 23, keepAliveIntervalMs: 300, ...options.simulator },
  );
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
