import { readFileSync } from 'node:fs';
import { loadConfig, type Config } from './config.ts';
import { ConfigError, describeError } from './errors.ts';
import { MemoryWebhookDeduplicator } from './http/webhookDeduplicator.ts';
import { createHttpServer } from './http/httpServer.ts';
import { createLogger } from './logger.ts';
import { ConnectorMetrics } from './metrics.ts';
import { Supervisor } from './supervisor/supervisor.ts';

/**
 * Entry point: configuration, logger, supervisor and workers, metrics, HTTP. The only place
 * that handles signals. SIGTERM/SIGINT: not ready, stop admitting, close every stream
 * (STREAM_CLOSE), finalize files, exit; a second signal exits at once.
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

async function main(): Promise<void> {
  const config = readConfig();
  const logger = createLogger({ level: config.logLevel });
  const supervisor = new Supervisor({ config, logger });
  const metrics = new ConnectorMetrics({ supervisor, version: VERSION });
  await supervisor.start();

  const server = createHttpServer({
    http: config.http,
    webhookSecretToken: config.credentials.webhookSecretToken,
    adminToken: config.adminToken,
    deduplicator: new MemoryWebhookDeduplicator(),
    logger,
    onWebhook: (event) => supervisor.handleWebhook(event),
    onOutcome: (outcome, reason) => metrics.webhookOutcome(outcome, reason),
    isReady: () => supervisor.isReady,
    metrics: () => metrics.render(),
    streams: {
      list: () => supervisor.list(),
      get: (id) => supervisor.get(id),
      close: (id) => supervisor.closeStream(id),
      excludeParticipant: (id, userId) => supervisor.excludeParticipant(id, userId),
    },
  });
  const { port } = await server.listen();
  logger.info({ host: config.http.host, port, webhookPath: config.http.webhookPath, version: VERSION }, 'rtms-connector listening');

  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) {
      logger.warn({ signal }, 'second signal; exiting now');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal, activeStreams: supervisor.activeStreams, graceMs: config.shutdownGraceMs }, 'shutting down');
    const forceExit = setTimeout(() => {
      logger.error('shutdown grace exceeded; exiting');
      process.exit(1);
    }, config.shutdownGraceMs + 2000);
    forceExit.unref();
    // Stop admitting first so /readyz turns 503 while streams close.
    supervisor
      .close()
      .then(() => server.close())
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
}

main().catch((error: unknown) => {
  process.stderr.write(`rtms-connector failed to start: ${describeError(error).message}\n`);
  process.exit(1);
});
