import { readFileSync } from 'node:fs';
import { getCompileCacheDir } from 'node:module';
import { setFlagsFromString } from 'node:v8';
import type { ClusterNode } from './cluster/clusterNode.ts';
import { loadConfig, type Config } from './config.ts';
import { ConfigError, describeError } from './errors.ts';
import { AuthFailureLimiter } from './http/authFailureLimiter.ts';
import { registerFrontDoorMetrics, sumConnectionCounts } from './http/frontDoorMetrics.ts';
import { MemoryWebhookDeduplicator } from './http/webhookDeduplicator.ts';
import { createHttpServer, type HttpServerOptions } from './http/httpServer.ts';
import { LifecycleHub } from './http/lifecycleHub.ts';
import { LiveHub } from './http/liveHub.ts';
import { createLogger, type Logger } from './logger.ts';
import { ConnectorMetrics } from './metrics.ts';
import { registerOperatorMetrics } from './operatorMetrics.ts';
import { objectStoreMetrics } from './objectStore/objectStoreMetrics.ts';
import type { ObjectStoreUploader } from './objectStore/objectStoreUploader.ts';
import { fileSafeId } from './sinks/fileSafeId.ts';
import { checkOutputDirectory, describeOutputDirProblem, type OutputDirCheck } from './sinks/outputDirectoryCheck.ts';
import { OutputDirectoryMonitor } from './sinks/outputDirectoryMonitor.ts';
import { StreamLifecycle } from './supervisor/streamLifecycle.ts';
import { Supervisor } from './supervisor/supervisor.ts';

/**
 * The connector, loaded by main.ts: configuration, logger, supervisor and workers, metrics, HTTP. The only place
 * that handles signals. SIGTERM/SIGINT: not ready, stop admitting, close every stream
 * (STREAM_CLOSE), finalize files, exit; a second signal exits at once. With REDIS_URL (several
 * replicas), SIGTERM first hands every stream off to a peer (no STREAM_CLOSE) and waits until
 * peers hold their leases.
 */

const VERSION = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

function readConfig(): Config {
  try {
    return loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      for (const problem of error.problems) process.stderr.write(`config: ${problem}\n`);
      process.exit(2);
    }
    throw error;
  }
}

/** An unusable OUTPUT_DIR stops start-up like any other configuration error (one line, exit 2). */
async function checkOutputDirOrExit(config: Config): Promise<OutputDirCheck> {
  const check = await checkOutputDirectory(config.outputDir);
  if (!check.usable) {
    process.stderr.write(`config: ${describeOutputDirProblem(config.outputDir, check)}\n`);
    process.exit(2);
  }
  return check;
}

/** The limits the defaults came from, so `docker run --cpus/--memory` can be checked in the log. */
function logCapacity(logger: Logger, config: Config): void {
  const { capacity } = config;
  logger.info(
    {
      maxStreams: config.maxStreams,
      workerThreads: config.workerThreads,
      cpus: capacity.cpus,
      cpuSource: capacity.cpuSource,
      memoryBytes: capacity.memoryBytes,
      memorySource: capacity.memorySource,
      defaults: { maxStreams: capacity.defaultMaxStreams, workerThreads: capacity.defaultWorkerThreads },
    },
    'capacity',
  );
}

/**
 * V8 heap settings for the worker isolates, applied before the first one exists (the main
 * isolate is already sized). Measured in bench/perf and bench/chaosSoak (docs/performance.md).
 */
function tuneWorkerHeaps(config: Config): void {
  // With many streams a worker's old generation is small next to its young generation, and
  // V8's own growing factor (its minimum, 1.1) leaves less headroom than one young
  // generation: concurrent marking then restarts about every second and costs more CPU than
  // anything the worker does per frame.
  if (config.heapGrowingPercent > 0) setFlagsFromString(`--heap-growing-percent=${config.heapGrowingPercent}`);
  // V8 doubles a young generation after a scavenge where much survived (a burst of buffered
  // frames after a stall) and keeps it: worker memory then steps up minutes into a run.
  // A fixed size keeps it flat.
  if (config.workerSemiSpaceMb > 0) {
    setFlagsFromString(`--min-semi-space-size=${config.workerSemiSpaceMb}`);
    setFlagsFromString(`--max-semi-space-size=${config.workerSemiSpaceMb}`);
  }
}

async function main(): Promise<void> {
  const config = readConfig();
  const outputDirAtStart = await checkOutputDirOrExit(config);
  tuneWorkerHeaps(config);
  const logger = createLogger({ level: config.logLevel });
  logCapacity(logger, config);
  const outputDir = new OutputDirectoryMonitor({
    directory: config.outputDir,
    intervalMs: config.outputDirCheckIntervalMs,
    logger,
    initial: outputDirAtStart,
  });
  // Multi-replica mode: Redis first, so the supervisor gets its lease guard (fencing) from the start.
  // The Redis modules load only when REDIS_URL is set (they are most of the connector's module graph).
  const cluster: ClusterNode | undefined =
    config.redisUrl === undefined ? undefined : await (await import('./cluster/clusterNode.ts')).ClusterNode.connect({ config, logger });
  const supervisor = new Supervisor({ config, logger, leaseGuard: cluster?.leaseGuard });
  // Before any stream can start or resume here, so consumers see every one.
  const lifecycle = new StreamLifecycle(supervisor);
  const lifecycleLog =
    config.redisUrl !== undefined && config.redisStream.kinds.length > 0
      ? new (await import('./sinks/redisLifecycleLog.ts')).RedisLifecycleLog({ url: config.redisUrl, maxLen: config.redisStream.maxLen, lifecycle, logger })
      : undefined;
  await supervisor.start();
  await cluster?.attach(supervisor);
  // One table of failed bearer attempts for the admin API and the live feed.
  const authFailures = new AuthFailureLimiter();
  const live = new LiveHub({
    adminToken: config.adminToken,
    consumerToken: config.consumerToken,
    authFailures,
    logger,
    maxBufferedBytes: config.live.subscriberBufferBytes,
    slowTimeoutMs: config.live.slowTimeoutMs,
    streams: {
      subscribe: (id, subscriptionId, kinds) => supervisor.subscribeLive(id, subscriptionId, kinds),
      unsubscribe: (id, subscriptionId) => supervisor.unsubscribeLive(id, subscriptionId),
    },
  });
  const lifecycleHub = new LifecycleHub({
    adminToken: config.adminToken,
    consumerToken: config.consumerToken,
    authFailures,
    lifecycle,
    logger,
    maxBufferedBytes: config.live.subscriberBufferBytes,
  });
  const metrics = new ConnectorMetrics({ supervisor, live, version: VERSION });
  registerOperatorMetrics(metrics.registry, { capacity: config.capacity, outputDirUsable: () => outputDir.usable });
  // Object storage (docs/object-storage.md): reads OUTPUT_DIR in this thread, off the frame path.
  const uploadObserver = objectStoreMetrics(metrics.registry, () => uploader);
  // The directory names of the streams this process runs now.
  const ownedDirectories = (): ReadonlySet<string> => new Set(supervisor.activeIds().map(fileSafeId));
  // Loaded only when configured: the AWS SDK costs start-up time and memory.
  const uploader: ObjectStoreUploader | undefined =
    config.objectStore &&
    new (await import('./objectStore/objectStoreUploader.ts')).ObjectStoreUploader({
      config: config.objectStore,
      outputDir: config.outputDir,
      logger,
      observer: uploadObserver,
      ownedDirectories,
    });
  supervisor.on('liveBatch', (batch) => live.deliver(batch));
  supervisor.on('streamFinished', (stats) => live.streamEnded(stats.rtmsStreamId));

  const memoryDedup = cluster === undefined ? new MemoryWebhookDeduplicator({ maxBytes: config.http.webhookDedupMaxBytes }) : undefined;
  const serverOptions: Omit<HttpServerOptions, 'http' | 'role'> = {
    webhookSecretToken: config.credentials.webhookSecretToken,
    adminToken: config.adminToken,
    consumerToken: config.consumerToken,
    authFailures,
    deduplicator: cluster?.deduplicator ?? memoryDedup,
    logger,
    onWebhook: (event) => (cluster === undefined ? supervisor.handleWebhook(event) : cluster.handleWebhook(event)),
    onOutcome: (outcome, reason) => metrics.webhookOutcome(outcome, reason),
    isReady: () => supervisor.isReady && outputDir.usable,
    // Also gates new streams: with OUTPUT_DIR unusable, Zoom's webhook gets 503 and is retried.
    // A stream already running here is not new: its failover announcement must get through
    // (refused, it would rejoin the old server until it fails), its files wait in memory.
    acceptsStart: (rtmsStreamId) => supervisor.isReady && (outputDir.usable || supervisor.has(rtmsStreamId)),
    metrics: () => metrics.render(),
    onUpgrade: (request, socket, head) => lifecycleHub.handleUpgrade(request, socket, head) || live.handleUpgrade(request, socket, head),
    // Cluster mode: GET /streams lists the whole cluster; DELETE reaches the owning replica.
    streams: cluster ?? {
      list: () => supervisor.list(),
      get: (id) => supervisor.get(id),
      close: (id) => supervisor.closeStream(id),
      excludeParticipant: (id, userId) => supervisor.excludeParticipant(id, userId),
    },
  };
  // With INTERNAL_PORT, /metrics, the admin API and live feeds leave the public listener.
  const internalHttp = config.internalHttp;
  const server = createHttpServer({ ...serverOptions, http: config.http, role: internalHttp === undefined ? 'all' : 'public' });
  const internalServer = internalHttp && createHttpServer({ ...serverOptions, http: { ...config.http, ...internalHttp }, role: 'internal' });
  registerFrontDoorMetrics(metrics.registry, {
    maxConnections: config.http.maxConnections,
    connections: () => sumConnectionCounts([server.connections, ...(internalServer === undefined ? [] : [internalServer.connections])]),
    dedup: memoryDedup,
    authFailures,
  });
  const { port } = await server.listen();
  const internalPort = internalServer && (await internalServer.listen()).port;
  outputDir.start();
  uploader?.start();

  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) {
      logger.warn({ signal }, 'second signal; exiting now');
      process.exit(1);
    }
    stopping = true;
    outputDir.stop();
    logger.info({ signal, activeStreams: supervisor.activeStreams, graceMs: config.shutdownGraceMs }, 'shutting down');
    const stoppingAt = Date.now();
    const runningAtSignal = ownedDirectories();
    const forceExit = setTimeout(() => {
      logger.error('shutdown grace exceeded; exiting');
      process.exit(1);
    }, config.shutdownGraceMs + 2000);
    forceExit.unref();
    // Cluster mode: hand the streams to peers first (they keep running there); whatever is
    // left is closed below as in single-instance mode.
    const handOff =
      cluster === undefined
        ? Promise.resolve()
        : cluster.handOff(Math.min(10_000, Math.floor(config.shutdownGraceMs / 2))).then(
            () => undefined,
            (error: unknown) => logger.error({ err: describeError(error) }, 'hand-off failed'),
          );
    // Stop admitting first so /readyz turns 503 while streams close.
    handOff
      .then(() => supervisor.close())
      // Whatever time is left before the forced exit, less a second to exit cleanly.
      .then(() => uploader?.finish(stoppingAt + config.shutdownGraceMs + 1000 - Date.now(), runningAtSignal))
      .then(() => cluster?.stop())
      .then(() => {
        live.close();
        lifecycleHub.close();
        return Promise.all([server.close(), internalServer?.close(), lifecycleLog?.close()]);
      })
      .then(() => {
        logger.info('shutdown complete');
        process.exit(0);
      })
      .catch((error: unknown) => {
        logger.error({ err: describeError(error) }, 'shutdown failed');
        process.exit(1);
      });
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  // Announced only once a signal would be handled: whoever waits for this line may stop us at once.
  logger.info(
    {
      host: config.http.host,
      port,
      ...(internalHttp === undefined ? {} : { internalHost: internalHttp.host, internalPort }),
      webhookPath: config.http.webhookPath,
      version: VERSION,
      compileCache: getCompileCacheDir() ?? 'off',
      ...(cluster === undefined ? {} : { replica: cluster.replicaId }),
    },
    'rtms-connector listening',
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`rtms-connector failed to start: ${describeError(error).message}\n`);
  process.exit(1);
});
