import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseLeaseValue } from '../../../src/cluster/clusterKeys.ts';
import type { Credentials } from '../../../src/config.ts';
import { ConnectorProcess, randomCredentials } from '../../support/connectorProcess.ts';
import { streamDirectory } from '../../../src/sinks/streamDirectory.ts';
import { startSimulator, type SimulatedStream, type Simulator, type SimulatorOptions } from 'rtms-simulator';
import { RedisServer } from '../redisServer.ts';
import { eventually } from '../../support/eventually.ts';

/**
 * Several real connector processes in multi-replica mode (REDIS_URL to a private
 * redis-server), one in-process simulator, and between them a tiny HTTP forwarder standing
 * in for the load balancer behind Zoom's one webhook URL: each webhook goes to one live
 * replica, round-robin by default or as a test's `route` decides.
 */

/** One webhook as the forwarder saw it. */
export interface Delivery {
  readonly event: string;
  readonly rtmsStreamId: string | undefined;
  /** Replica index it went to (undefined: none reachable). */
  readonly replica: number | undefined;
  readonly status: number | undefined;
}

/** Picks the replica for a webhook: an index, or undefined for round-robin over live replicas. */
export type RoutePolicy = (webhook: {
  readonly event: string;
  readonly rtmsStreamId: string | undefined;
  readonly count: number;
}) => number | 'all' | undefined;

export interface ReplicaSlot {
  readonly index: number;
  process: ConnectorProcess | undefined;
  replicaId: string;
  readonly outputDir: string;
}

export interface ClusterRigOptions {
  readonly replicas: number;
  /** Environment for every replica (on top of the rig's defaults). */
  readonly env?: Readonly<Record<string, string>>;
  /** Extra environment per replica index. */
  readonly replicaEnv?: (index: number) => Readonly<Record<string, string>>;
  /** One OUTPUT_DIR for all replicas (a shared volume) instead of one each. */
  readonly sharedOutputDir?: boolean;
  readonly simulator?: Partial<Omit<SimulatorOptions, 'credentials' | 'webhookUrl'>>;
}

export class ClusterRig {
  readonly redis: RedisServer;
  readonly credentials: Credentials;
  readonly keyPrefix: string;
  readonly slots: ReplicaSlot[];
  readonly deliveries: Delivery[] = [];
  simulator!: Simulator;
  route: RoutePolicy = () => undefined;
  readonly #options: ClusterRigOptions;
  readonly #tempDirs: string[];
  #forwarder!: Server;
  #forwarderUrl = '';
  #roundRobin = 0;
  readonly #perStream = new Map<string, number>();

  private constructor(options: ClusterRigOptions, redis: RedisServer, outputDirs: string[]) {
    this.#options = options;
    this.redis = redis;
    this.credentials = randomCredentials();
    this.keyPrefix = `it:${randomBytes(4).toString('hex')}:`;
    this.#tempDirs = [...new Set(outputDirs)];
    this.slots = outputDirs.map((outputDir, index) => ({ index, process: undefined, replicaId: '', outputDir }));
  }

  static async start(options: ClusterRigOptions): Promise<ClusterRig> {
    const redis = await RedisServer.start();
    const shared = options.sharedOutputDir ? await mkdtemp(join(tmpdir(), 'rtms-cluster-')) : undefined;
    const outputDirs: string[] = [];
    for (let i = 0; i < options.replicas; i++) outputDirs.push(shared ?? (await mkdtemp(join(tmpdir(), `rtms-cluster-r${i}-`))));
    const rig = new ClusterRig(options, redis, outputDirs);
    try {
      await rig.#startForwarder();
      await Promise.all(rig.slots.map((slot) => rig.startReplica(slot.index)));
      rig.simulator = await startSimulator({
        credentials: rig.credentials,
        webhookUrl: rig.#forwarderUrl,
        seed: 23,
        reconnectGraceMs: 60_000,
        ...options.simulator,
      });
      return rig;
    } catch (error) {
      await rig.close();
      throw error;
    }
  }

  /** (Re)starts replica `index` with a fresh replica id. */
  async startReplica(index: number, extraEnv: Readonly<Record<string, string>> = {}): Promise<ConnectorProcess> {
    const slot = this.slots[index];
    if (slot === undefined) throw new Error(`no replica ${index}`);
    slot.replicaId = `r${index}-${randomBytes(2).toString('hex')}`;
    // CLUSTER_IT_LOG_DIR=/some/dir keeps every replica's log there (debugging a failure).
    const logDir = process.env['CLUSTER_IT_LOG_DIR'];
    slot.process = await ConnectorProcess.start({
      ...(logDir === undefined ? {} : { logFile: join(logDir, `${slot.replicaId}.log`) }),
      env: {
        PATH: process.env['PATH'] ?? '',
        ZM_RTMS_CLIENT: this.credentials.clientId,
        ZM_RTMS_SECRET: this.credentials.clientSecret,
        ZM_WEBHOOK_SECRET_TOKEN: this.credentials.webhookSecretToken,
        ADMIN_TOKEN: 'admin-token-for-tests-0123456789abcdef',
        OUTPUT_DIR: slot.outputDir,
        RTMS_ALLOWED_HOSTS: '127.0.0.1',
        WORKER_THREADS: '1',
        RTMS_MEDIA: 'audio,transcript',
        RTMS_RECONNECT_BASE_MS: '100',
        RTMS_RECONNECT_MAX_MS: '1000',
        OUTPUT_FLUSH_INTERVAL_MS: '200',
        STATS_INTERVAL_MS: '200',
        SHUTDOWN_GRACE_MS: '10000',
        LOG_LEVEL: 'info',
        REDIS_URL: this.redis.url,
        CLUSTER_KEY_PREFIX: this.keyPrefix,
        CLUSTER_REPLICA_ID: slot.replicaId,
        ...this.#options.env,
        ...this.#options.replicaEnv?.(index),
        ...extraEnv,
      },
    });
    return slot.process;
  }

  replica(index: number): ConnectorProcess {
    const process = this.slots[index]?.process;
    if (process === undefined) throw new Error(`replica ${index} is not running`);
    return process;
  }

  alive(index: number): boolean {
    return this.slots[index]?.process?.pid !== undefined;
  }

  /** Stops replica `index` with `signal` and resolves with its exit code. */
  async stopReplica(index: number, signal: NodeJS.Signals): Promise<number | null> {
    const slot = this.slots[index];
    const process = slot?.process;
    if (slot === undefined || process === undefined) return null;
    const code = await process.stop(signal);
    slot.process = undefined;
    return code;
  }

  /** Index of the replica holding the stream's lease, from Redis. */
  async ownerOf(rtmsStreamId: string): Promise<number | undefined> {
    const client = await this.redis.client();
    try {
      const value = await client.get(`${this.keyPrefix}lease:${rtmsStreamId}`);
      const replicaId = value === null ? undefined : parseLeaseValue(String(value))?.replicaId;
      return this.slots.find((slot) => slot.replicaId === replicaId)?.index;
    } finally {
      await client.close();
    }
  }

  /** Starts a meeting whose `rtms_started` goes to replica `index` only, and waits until it is ready. */
  async startStreamOn(index: number): Promise<SimulatedStream> {
    this.route = ({ event }) => (event.endsWith('rtms_started') ? index : undefined);
    try {
      const stream = await this.simulator.startStream({ product: 'meeting' });
      await stream.whenReady();
      return stream;
    } finally {
      this.route = () => undefined;
    }
  }

  /** Polls until the stream's lease is held by a replica matching `accept`; returns its index. */
  async waitForOwner(rtmsStreamId: string, accept: (index: number) => boolean = () => true, timeoutMs = 20_000): Promise<number> {
    return eventually(
      async () => {
        const owner = await this.ownerOf(rtmsStreamId);
        return owner !== undefined && accept(owner) ? owner : undefined;
      },
      { what: `stream ${rtmsStreamId}: an acceptable owner`, timeoutMs, intervalMs: 50 },
    );
  }

  streamDir(index: number, stream: SimulatedStream): string {
    return streamDirectory(this.slots[index]!.outputDir, stream.rtmsStreamId);
  }

  /** Keys of the rig's cluster in Redis, for assertions. */
  async keys(pattern = '*'): Promise<string[]> {
    const client = await this.redis.client();
    try {
      return (await client.keys(`${this.keyPrefix}${pattern}`)).map(String).sort();
    } finally {
      await client.close();
    }
  }

  async close(): Promise<void> {
    await this.simulator?.close().catch(() => undefined);
    await Promise.all(this.slots.flatMap((slot) => (slot.process === undefined ? [] : [slot.process.stop('SIGKILL')])));
    await new Promise<void>((resolve) => (this.#forwarder ? this.#forwarder.close(() => resolve()) : resolve()));
    this.#forwarder?.closeAllConnections();
    await this.redis.stop();
    await Promise.all(this.#tempDirs.map((dir) => rm(dir, { recursive: true, force: true })));
  }

  // ── the load balancer ──────────────────────────────────────────────────────────────

  async #startForwarder(): Promise<void> {
    this.#forwarder = createServer((request, response) => void this.#forward(request, response));
    await new Promise<void>((resolve) => this.#forwarder.listen(0, '127.0.0.1', () => resolve()));
    const address = this.#forwarder.address();
    this.#forwarderUrl = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}/webhook`;
  }

  async #forward(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    let event = 'unknown';
    let rtmsStreamId: string | undefined;
    try {
      const json = JSON.parse(body.toString('utf8')) as { event?: string; payload?: { rtms_stream_id?: string; object?: { rtms_stream_id?: string } } };
      event = json.event ?? 'unknown';
      rtmsStreamId = json.payload?.rtms_stream_id ?? json.payload?.object?.rtms_stream_id;
    } catch {
      // forwarded as is
    }
    const key = `${event}/${rtmsStreamId ?? ''}`;
    const count = this.#perStream.get(key) ?? 0;
    this.#perStream.set(key, count + 1);
    const choice = this.route({ event, rtmsStreamId, count });
    const headers: Record<string, string> = {};
    for (const name of ['content-type', 'x-zm-signature', 'x-zm-request-timestamp']) {
      const value = request.headers[name];
      if (typeof value === 'string') headers[name] = value;
    }
    const send = async (index: number): Promise<{ status: number; text: string }> => {
      const target = this.replica(index);
      const answer = await fetch(target.webhookUrl, { method: 'POST', headers, body });
      return { status: answer.status, text: await answer.text() };
    };
    const live = this.slots.filter((slot) => this.alive(slot.index)).map((slot) => slot.index);
    let order: number[];
    if (choice === 'all') order = live;
    else if (choice !== undefined && this.alive(choice)) order = [choice, ...live.filter((index) => index !== choice)];
    else {
      this.#roundRobin += 1;
      order = live.map((_, i) => live[(this.#roundRobin + i) % live.length]!);
    }
    if (choice === 'all') {
      // Two deliveries at once (a retrying load balancer): the replicas' shared dedup decides.
      const answers = await Promise.all(
        order.map((index) =>
          send(index).then(
            (answer) => ({ index, ...answer }),
            () => undefined,
          ),
        ),
      );
      for (const answer of answers) if (answer !== undefined) this.deliveries.push({ event, rtmsStreamId, replica: answer.index, status: answer.status });
      const first = answers.find((answer) => answer !== undefined);
      response.writeHead(first?.status ?? 502, { 'content-type': 'application/json' }).end(first?.text ?? '{}');
      return;
    }
    for (const index of order) {
      try {
        const answer = await send(index);
        this.deliveries.push({ event, rtmsStreamId, replica: index, status: answer.status });
        response.writeHead(answer.status, { 'content-type': 'application/json' }).end(answer.text);
        return;
      } catch {
        // Replica gone (killed): like a load balancer's failed health check, try the next.
      }
    }
    this.deliveries.push({ event, rtmsStreamId, replica: undefined, status: undefined });
    response.writeHead(502).end();
  }
}

/** Resolves once the simulator has delivered `bytes` of audio for the stream. */
export async function untilAudio(stream: SimulatedStream, bytes: number, timeoutMs = 20_000): Promise<void> {
  await eventually(() => stream.sent.audioBytes() >= bytes, {
    what: `${bytes} audio bytes sent`,
    timeoutMs,
    state: () => `${stream.sent.audioBytes()} bytes sent`,
  });
}

/** Signaling connections of a stream as the simulator counted them. */
export function connectionsOf(stream: SimulatedStream): { accepted: number; duplicates: number } {
  return { accepted: stream.connections.signalingAccepted, duplicates: stream.connections.signalingRejectedDuplicate };
}
