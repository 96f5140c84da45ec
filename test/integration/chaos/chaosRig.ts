import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { SimulatedStream, SimulatorOptions, StartStreamOptions } from 'rtms-simulator';
import type { MediaCounters } from '../../../src/vocabulary/streamStats.ts';
import { eventually } from '../../support/eventually.ts';
import { expectAudioIdentical, expectEveryFrameAccounted, readJsonLines, startRig, untilAudioSent, waitUntilEnded, type Rig } from '../connectorHarness.ts';

/**
 * The connector process and the simulator with short keep-alive and reconnect timings, so
 * chaos shows its effect within seconds: the connector gives up on a socket silent for
 * `KEEPALIVE_TIMEOUT_MS`, the simulator asks for keep-alives every 300 ms.
 */
export const KEEPALIVE_TIMEOUT_MS = 1500;

/**
 * For tests that are not about keep-alives: a machine busy for a second (four test files on two
 * cores) must not add a keep-alive rejoin that their assertions do not expect.
 */
export const RELAXED_KEEPALIVE_ENV = { RTMS_KEEPALIVE_TIMEOUT_MS: '10000' } as const;

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
export function untilSnapshot(
  rig: Rig,
  stream: SimulatedStream,
  predicate: (snapshot: Record<string, unknown>) => boolean,
  timeoutMs = 20_000,
): Promise<Record<string, unknown>> {
  return rig.connector.waitForStream(stream.rtmsStreamId, predicate, timeoutMs);
}

/** Rejoins with at least one start, as `[key, count]`, sorted. */
export function rejoinsOf(snapshot: Record<string, unknown>): Array<[string, number]> {
  return Object.entries((snapshot['rejoins'] ?? {}) as Record<string, number>)
    .filter(([, count]) => count > 0)
    .sort(([a], [b]) => a.localeCompare(b));
}

/** The stream's events of this type, once the connector has written at least `count` of them. */
export async function untilEvents(
  rig: Rig,
  stream: SimulatedStream,
  eventType: string,
  count = 1,
): Promise<Array<{ eventType: string; data: Record<string, unknown> }>> {
  return eventually(
    async () => {
      const events = (await streamEvents(rig, stream)).filter((event) => event.eventType === eventType);
      return events.length >= count ? events : undefined;
    },
    { what: `${count} "${eventType}" event(s) in events.jsonl`, timeoutMs: 20_000, intervalMs: 50 },
  );
}

/** How many lines with this message the connector has logged so far. */
export function loggedCount(rig: Rig, message: string): number {
  return rig.connector.logLines.filter((line) => line.includes(`"msg":"${message}"`)).length;
}

/** Until the connector has logged a line with this message `count` times (what it decided, it says). */
export function untilLogged(rig: Rig, message: string, count = 1): Promise<true> {
  return eventually(() => loggedCount(rig, message) >= count, {
    what: `the connector to log "${message}" ${count} time(s)`,
    timeoutMs: 20_000,
  });
}

/** One second of 16 kHz mono L16 audio. */
export const ONE_SECOND_OF_AUDIO = 32_000;

export interface Disruption {
  /** The stream to start (default: two participants). */
  readonly stream?: StartStreamOptions;
  /** What goes wrong, once a second of audio has been sent (a returned promise is awaited). */
  disrupt(stream: SimulatedStream): unknown;
  /**
   * How the connector is expected to recover before the second of audio that follows:
   * `rejoin` waits for a reconnect and the stream's second ready; `none` rides it out.
   */
  readonly recovery: 'rejoin' | 'none';
  /** Bound for noticing the disruption (default 20 s). */
  readonly noticeWithinMs?: number;
}

/**
 * The script every chaos scenario shares: start a stream, let a second of audio flow, disrupt
 * it, recover as expected, let another second flow, stop, and check the outcome that holds for
 * every disruption: the stream ended `ended`, each speaker's WAV is byte for byte what was sent,
 * every frame is written or dropped with a reason. Returns what the scenario checks on its own.
 */
export async function runThroughDisruption(
  rig: Rig,
  scenario: Disruption,
): Promise<{ stream: SimulatedStream; snapshot: Record<string, unknown>; media: Record<string, MediaCounters> }> {
  const stream = await rig.simulator.startStream(scenario.stream ?? { participants: 2 });
  await stream.whenReady();
  await untilAudioSent(stream, ONE_SECOND_OF_AUDIO);
  await scenario.disrupt(stream);
  if (scenario.recovery === 'rejoin') {
    await untilSnapshot(rig, stream, (snapshot) => Number(snapshot['reconnects']) >= 1, scenario.noticeWithinMs);
    await stream.whenReady(2);
  }
  await untilAudioSent(stream, stream.sent.audioBytes() + ONE_SECOND_OF_AUDIO);
  await stream.stop();

  const snapshot = await waitUntilEnded(rig, stream);
  expect(snapshot['state']).toBe('ended');
  await expectAudioIdentical(rig, stream);
  const media = await expectEveryFrameAccounted(rig, stream);
  return { stream, snapshot, media };
}
