import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Credentials } from '../../src/config.ts';
import { randomCredentials } from '../../test/support/connectorProcess.ts';
import { type ClientUnderTest, startClient } from './clientUnderTest.ts';
import { LoadSimulatorProcess } from './loadSimulatorProcess.ts';
import { measureWindow } from './measureWindow.ts';
import type { ClientKind, PerfOptions, VariantSettings } from './perfOptions.ts';
import type { WindowReport } from './perfReport.ts';
import { processRssBytes } from './procStats.ts';

/**
 * The run of one client at a fixed K: the client, its idle RSS, the load aimed at it, the
 * streams, the warm-up and one measured window. The set-up and tear-down it shares with the
 * ramp (`perfRamp.ts`), and `addStreams`, are exported.
 */

async function idleRss(pid: number): Promise<number | undefined> {
  await sleep(3000);
  const values: number[] = [];
  for (let i = 0; i < 5; i += 1) {
    const value = processRssBytes(pid);
    if (value !== undefined) values.push(value);
    await sleep(200);
  }
  return values.length === 0 ? undefined : Math.round(values.reduce((total, value) => total + value, 0) / values.length);
}

function spreadMs(options: PerfOptions, count: number): number {
  return Math.round((options.spreadSeconds ?? Math.min(10, count / 100)) * 1000);
}

/** Starts `count` streams and waits for the clients to be live; throws when the simulator could not start them. */
export async function addStreams(options: PerfOptions, sim: LoadSimulatorProcess, count: number, withVideo: number): Promise<void> {
  const started = await sim.startStreams(count, withVideo, spreadMs(options, count));
  if (started.failed > 0) options.progress(`  ${started.failed} of ${count} streams did not become ready: ${started.errors.join('; ')}`);
  if (started.ready === 0) throw new Error(`no stream became ready: ${started.errors.join('; ')}`);
}

/** The stand-in in load mode, aimed at `client`. */
function startLoad(options: PerfOptions, creds: Credentials, client: ClientUnderTest): Promise<LoadSimulatorProcess> {
  return LoadSimulatorProcess.start(
    {
      credentials: creds,
      webhookUrl: client.webhookUrl,
      seed: options.seed,
      ...(options.videoFrameBytes === undefined ? {} : { videoFrameBytes: options.videoFrameBytes }),
    },
    options.simCpuProfDir,
  );
}

/**
 * Starts a `kind` client (and reads its idle RSS) and the load aimed at it, runs `body`, then
 * stops both and removes the client's output directory unless `keepOutput`.
 */
export async function withClientUnderLoad<T>(
  kind: ClientKind,
  options: PerfOptions,
  settings: VariantSettings,
  outputPrefix: string,
  keepOutput: boolean,
  body: (client: ClientUnderTest, sim: LoadSimulatorProcess, idleRssBytes: number | undefined) => Promise<T>,
): Promise<T> {
  const creds = randomCredentials('perf');
  const outputDir = await mkdtemp(join(tmpdir(), outputPrefix));
  let client: ClientUnderTest | undefined;
  let sim: LoadSimulatorProcess | undefined;
  try {
    client = await startClient(kind, options, settings, creds, outputDir);
    const idle = await idleRss(client.pid);
    sim = await startLoad(options, creds, client);
    return await body(client, sim, idle);
  } finally {
    await client?.stop().catch(() => undefined);
    await sim?.stop().catch(() => undefined);
    if (!keepOutput) await rm(outputDir, { recursive: true, force: true });
    else options.progress(`${kind}: output kept in ${outputDir}`);
  }
}

/** One client, one load: start, warm up, measure, stop. */
export function runOne(kind: ClientKind, options: PerfOptions, settings: VariantSettings): Promise<{ report: WindowReport; windowUs: [number, number] }> {
  return withClientUnderLoad(kind, options, settings, `rtms-perf-${kind}-`, options.keepOutput, async (client, sim, idle) => {
    const withVideo = settings.withVideo(options.streams);
    options.progress(`${kind}: starting ${options.streams} streams (${withVideo} with video, ${settings.sendRateMs} ms audio) ...`);
    await addStreams(options, sim, options.streams, withVideo);
    options.progress(`${kind}: all streams up; warm-up ${options.warmupSeconds} s, then a ${options.seconds} s window`);
    await sleep(options.warmupSeconds * 1000);
    return measureWindow({ options, settings, client, sim, streams: options.streams, withVideo, idleRssBytes: idle });
  });
}
