/**
 * `node bench/clusterTakeover.ts [--replicas 3] [--streams 6] [--ttl-ms 10000] [--runs 3]`
 *
 * Multi-replica figures, measured on real connector processes against a private
 * redis-server and the Zoom stand-in, each webhook through a round-robin "load balancer":
 *
 * - SIGKILL takeover: the replica holding the most streams is killed; per stream, the time
 *   from the kill to the lease changing hands (Redis) and to the simulator seeing the rejoin
 *   (media flowing again);
 * - SIGTERM hand-off: another replica is stopped gracefully; per stream, the time from the
 *   signal to the rejoin on a peer;
 * - Redis restart (empty): time until every owner has re-acquired its leases;
 * - lease traffic: Redis commands per second and script latency in steady state, and the
 *   bytes of Redis memory per stream (the Redis stream sink is off, REDIS_STREAM_MEDIA=none,
 *   so the figures are the cluster protocol's alone).
 *
 * Prints a table, writes bench/results/cluster-takeover-<time>.json; exit 1 when a takeover
 * exceeds 20 s or a stream ever had two signaling connections.
 */
import { parseArgs } from 'node:util';
import { writeBenchResult } from './benchResult.ts';
import { minMedianMax as stats } from './minMedianMax.ts';
import type { SimulatedStream } from 'rtms-simulator';
import { ClusterRig, untilAudio } from '../test/integration/cluster/clusterRig.ts';

const BYTES_PER_MS = 32;

interface StreamFigure {
  /** Signal to the lease held by another replica, ms. */
  readonly leaseMovedMs: number;
  /** Signal to the simulator seeing the stream whole again (signaling, media, ready ack), ms. */
  readonly mediaBackMs: number;
}

interface RunResult {
  readonly run: number;
  readonly killed: { readonly streams: number; readonly figures: readonly StreamFigure[] };
  readonly handOff: { readonly streams: number; readonly figures: readonly StreamFigure[]; readonly exitMs: number };
  readonly redisRestart: { readonly leasesReacquiredMs: number; readonly streamsKept: boolean };
  readonly steady: {
    readonly requestsPerSecond: number;
    readonly executedPerSecond: number;
    readonly scriptUsecPerCall: number;
    readonly bytesPerStream: number;
  };
  readonly duplicates: number;
}

async function sleep(ms: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms));
}

/** Commands a client sent (scripts count once); INFO commandstats also counts the commands scripts run. */
const CLIENT_COMMANDS = new Set(['evalsha', 'eval', 'xreadgroup', 'xpending', 'xautoclaim', 'xack', 'xdel', 'hmget', 'zrange']);

async function commandStats(rig: ClusterRig): Promise<{ requests: number; executed: number; scriptCalls: number; scriptUsec: number }> {
  const client = await rig.redis.client();
  try {
    const info = await client.info('commandstats');
    let requests = 0;
    let executed = 0;
    let scriptCalls = 0;
    let scriptUsec = 0;
    for (const line of info.split('\n')) {
      const match = /^cmdstat_([a-z|]+):calls=(\d+),usec=(\d+)/.exec(line.trim());
      if (match === null || match[1] === 'info') continue;
      executed += Number(match[2]);
      if (CLIENT_COMMANDS.has(match[1]!)) requests += Number(match[2]);
      if (match[1] === 'evalsha' || match[1] === 'eval') {
        scriptCalls += Number(match[2]);
        scriptUsec += Number(match[3]);
      }
    }
    return { requests, executed, scriptCalls, scriptUsec };
  } finally {
    await client.close();
  }
}

async function memoryPerStream(rig: ClusterRig, streams: readonly SimulatedStream[]): Promise<number> {
  const client = await rig.redis.client();
  try {
    let total = 0;
    for (const stream of streams) {
      for (const kind of ['lease', 'stream', 'fence', 'excluded']) {
        total += Number((await client.memoryUsage(`${rig.keyPrefix}${kind}:${stream.rtmsStreamId}`)) ?? 0);
      }
    }
    return Math.round(total / Math.max(1, streams.length));
  } finally {
    await client.close();
  }
}

/** Moves streams off `index` (kill or SIGTERM) and measures each one. */
async function moveOff(
  rig: ClusterRig,
  index: number,
  signal: NodeJS.Signals,
  streams: readonly SimulatedStream[],
): Promise<{ figures: StreamFigure[]; exitMs: number }> {
  const owned: SimulatedStream[] = [];
  for (const stream of streams) if ((await rig.ownerOf(stream.rtmsStreamId)) === index) owned.push(stream);
  const readyBefore = new Map(owned.map((stream) => [stream, stream.readyCount]));
  const sentBefore = new Map(owned.map((stream) => [stream, stream.sent.audioBytes()]));
  const at = Date.now();
  const exited = rig.stopReplica(index, signal).then(() => Date.now() - at);
  const figures = await Promise.all(
    owned.map(async (stream) => {
      const leaseMoved = rig.waitForOwner(stream.rtmsStreamId, (owner) => owner !== index, 60_000).then(() => Date.now() - at);
      await stream.whenReady((readyBefore.get(stream) ?? 1) + 1);
      const mediaBackMs = Date.now() - at;
      return { stream, leaseMovedMs: await leaseMoved, mediaBackMs };
    }),
  );
  const exitMs = await exited;
  // Let audio flow, then compare what the two incarnations wrote with what was sent.
  await Promise.all(owned.map((stream) => untilAudio(stream, (sentBefore.get(stream) ?? 0) + 2000 * BYTES_PER_MS, 30_000)));
  return {
    exitMs,
    figures: figures.map(({ leaseMovedMs, mediaBackMs }) => ({ leaseMovedMs, mediaBackMs })),
  };
}

async function runOnce(run: number, options: { replicas: number; streams: number; ttlMs: number }): Promise<RunResult> {
  const rig = await ClusterRig.start({
    replicas: options.replicas,
    env: { CLUSTER_LEASE_TTL_MS: String(options.ttlMs), REDIS_STREAM_MEDIA: 'none', STATS_INTERVAL_MS: '1000', OUTPUT_FLUSH_INTERVAL_MS: '1000' },
    simulator: { recordContent: false },
  });
  try {
    const streams: SimulatedStream[] = [];
    for (let i = 0; i < options.streams; i++) {
      // Round-robin placement, with the first replica getting one more: it is the one killed.
      rig.route = ({ event }) => (event.endsWith('rtms_started') ? (i === options.streams - 1 ? 0 : i % options.replicas) : undefined);
      streams.push(await rig.simulator.startStream({ product: 'meeting' }));
    }
    rig.route = () => undefined;
    await Promise.all(streams.map((stream) => stream.whenReady()));
    await Promise.all(streams.map((stream) => untilAudio(stream, 2000 * BYTES_PER_MS)));

    // Steady state: lease renewals, heartbeats, metadata writes, scans.
    const before = await commandStats(rig);
    const windowMs = 10_000;
    await sleep(windowMs);
    const after = await commandStats(rig);
    const requestsPerSecond = ((after.requests - before.requests) * 1000) / windowMs;
    const steady = {
      requestsPerSecond: Math.round(requestsPerSecond * 10) / 10,
      executedPerSecond: Math.round(((after.executed - before.executed) * 1000) / windowMs),
      scriptUsecPerCall: Math.round(((after.scriptUsec - before.scriptUsec) / Math.max(1, after.scriptCalls - before.scriptCalls)) * 10) / 10,
      bytesPerStream: await memoryPerStream(rig, streams),
    };

    // Redis restart (empty): owners re-acquire.
    const acceptedBefore = streams.map((stream) => stream.connections.signalingAccepted);
    await rig.redis.kill('SIGKILL');
    await sleep(500);
    const restartedAt = Date.now();
    await rig.redis.restart();
    for (const stream of streams) await rig.waitForOwner(stream.rtmsStreamId, () => true, 30_000);
    const redisRestart = {
      leasesReacquiredMs: Date.now() - restartedAt,
      streamsKept: streams.every((stream, i) => stream.connections.signalingAccepted === acceptedBefore[i]),
    };
    await sleep(1000);

    const killed = await moveOff(rig, 0, 'SIGKILL', streams);
    const handOff = await moveOff(rig, 1, 'SIGTERM', streams);
    const duplicates = streams.reduce((sum, stream) => sum + stream.connections.signalingRejectedDuplicate, 0);
    for (const stream of streams) await stream.stop();
    return {
      run,
      killed: { streams: killed.figures.length, figures: killed.figures },
      handOff: { streams: handOff.figures.length, figures: handOff.figures, exitMs: handOff.exitMs },
      redisRestart,
      steady,
      duplicates,
    };
  } finally {
    await rig.close();
  }
}

export async function clusterTakeoverMain(argv: readonly string[]): Promise<number> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      replicas: { type: 'string', default: '3' },
      streams: { type: 'string', default: '6' },
      'ttl-ms': { type: 'string', default: '10000' },
      runs: { type: 'string', default: '3' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write('Usage: node bench/clusterTakeover.ts [--replicas 3] [--streams 6] [--ttl-ms 10000] [--runs 3]\n');
    return 0;
  }
  const options = { replicas: Number(values.replicas), streams: Number(values.streams), ttlMs: Number(values['ttl-ms']) };
  if (options.replicas < 3) throw new Error('--replicas: at least 3 (one is killed, one stopped, one remains)');
  const runs: RunResult[] = [];
  for (let run = 1; run <= Number(values.runs); run++) {
    process.stdout.write(`run ${run}: ${options.replicas} replicas, ${options.streams} streams, lease TTL ${options.ttlMs} ms ...\n`);
    runs.push(await runOnce(run, options));
  }
  const killMedia = stats(runs.flatMap((run) => run.killed.figures.map((figure) => figure.mediaBackMs)));
  const killLease = stats(runs.flatMap((run) => run.killed.figures.map((figure) => figure.leaseMovedMs)));
  const termMedia = stats(runs.flatMap((run) => run.handOff.figures.map((figure) => figure.mediaBackMs)));
  const restart = stats(runs.map((run) => run.redisRestart.leasesReacquiredMs));
  const steady = runs.at(-1)?.steady;
  const rows: Array<[string, string]> = [
    ['lease TTL / renew / scan', `${options.ttlMs} / ${Math.floor(options.ttlMs / 3)} / 1000 ms`],
    ['SIGKILL: lease moved (min/median/max)', `${killLease.min} / ${killLease.median} / ${killLease.max} ms`],
    ['SIGKILL: media flowing again', `${killMedia.min} / ${killMedia.median} / ${killMedia.max} ms`],
    ['SIGTERM hand-off: media flowing on the peer', `${termMedia.min} / ${termMedia.median} / ${termMedia.max} ms`],
    ['SIGTERM: replica exit after signal', `${stats(runs.map((run) => run.handOff.exitMs)).median} ms (median)`],
    [
      'Redis restart (empty): leases re-acquired',
      `${restart.min} / ${restart.median} / ${restart.max} ms; streams kept: ${runs.every((run) => run.redisRestart.streamsKept)}`,
    ],
    [
      'steady Redis load',
      `${steady?.requestsPerSecond ?? 0} requests/s (${steady?.executedPerSecond ?? 0} commands/s incl. inside scripts), ${steady?.scriptUsecPerCall ?? 0} µs per script`,
    ],
    ['Redis memory per stream', `${steady?.bytesPerStream ?? 0} bytes (lease, record, fence)`],
    ['duplicate signaling connections', String(runs.reduce((sum, run) => sum + run.duplicates, 0))],
  ];
  const width = Math.max(...rows.map(([label]) => label.length));
  process.stdout.write(`\n${rows.map(([label, value]) => `${label.padEnd(width)}  ${value}`).join('\n')}\n`);
  const verdicts = { takeoverUnder20s: killMedia.max < 20_000, noDuplicates: runs.every((run) => run.duplicates === 0) };
  const file = await writeBenchResult('cluster-takeover', new Date(), { options, runs, summary: { killMedia, killLease, termMedia, restart }, verdicts });
  process.stdout.write(`\nresults: ${file}\n`);
  return verdicts.takeoverUnder20s && verdicts.noDuplicates ? 0 : 1;
}

if (import.meta.main) {
  process.exitCode = await clusterTakeoverMain(process.argv.slice(2));
}
