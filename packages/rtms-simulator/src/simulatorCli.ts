/**
 * `npm run simulate -- --webhook-url URL [...]`: the Zoom stand-in on its own. Validates the
 * endpoint, runs the streams and scenario, prints a progress line every few seconds (so a
 * run that goes nowhere, e.g. refused handshakes, shows it) and a summary table per stream
 * with totals, and exits 0
 * once every stream ended (1: endpoint or webhook refused; 2: bad arguments).
 */
import pino from 'pino';
import { ConfigError, readCredentials } from './connectorShared.ts';
import { ArgsError, USAGE, parseSimulatorArgs, type SimulatorArgs } from './simulatorArgs.ts';
import { formatProgress } from './simulationProgress.ts';
import { formatSummaryTable, runSimulation } from './simulationRun.ts';
import { SimulatorError } from './simulatorErrors.ts';

type Env = Readonly<Record<string, string | undefined>>;

/** Runs the CLI; resolves with the exit code. `env` is only handed to `readCredentials`. */
export async function main(argv: readonly string[], env: Env): Promise<number> {
  let args: SimulatorArgs;
  try {
    args = parseSimulatorArgs(argv);
  } catch (error) {
    if (error instanceof ArgsError) {
      process.stderr.write(`simulate: ${error.message} (see --help)\n`);
      return 2;
    }
    throw error;
  }
  if (args.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }

  let credentials;
  try {
    // Flags win over the environment; readCredentials validates either way.
    credentials = readCredentials({
      ...env,
      ...(args.clientId === undefined ? {} : { ZM_RTMS_CLIENT: args.clientId }),
      ...(args.clientSecret === undefined ? {} : { ZM_RTMS_SECRET: args.clientSecret }),
      ...(args.webhookSecret === undefined ? {} : { ZM_WEBHOOK_SECRET_TOKEN: args.webhookSecret }),
    });
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`simulate: missing credentials: ${error.problems.join('; ')} (or pass --client-id/--client-secret/--webhook-secret)\n`);
      return 2;
    }
    throw error;
  }

  const logger = pino({ name: 'rtms-simulator', level: args.verbose ? 'info' : 'warn' }, pino.destination(2));
  const abort = new AbortController();
  const onSignal = (): void => abort.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const result = await runSimulation({
      credentials,
      webhookUrl: args.webhookUrl,
      streams: args.streams,
      product: args.product,
      participants: args.participants,
      durationMs: args.durationMs,
      scenario: args.scenario,
      keepAliveIntervalMs: args.keepAliveIntervalMs,
      keepAliveWhen: args.keepAliveWhen,
      reconnectGraceMs: args.reconnectGraceMs,
      seed: args.seed,
      chaos: args.chaos ? { seed: args.chaosSeed ?? args.seed, ratePerMinute: args.chaosRate } : false,
      webhookRetryScale: args.webhookRetryScale,
      syncMarksEveryMs: args.syncMarksEveryMs,
      host: args.host,
      port: args.port,
      tls: args.tls ? { ...(args.tlsDir === undefined ? {} : { dir: args.tlsDir }) } : false,
      logger,
      signal: abort.signal,
      progressIntervalMs: args.progressIntervalMs,
      onProgress: (progress) => process.stdout.write(`simulator: ${formatProgress(progress)}\n`),
      onListening: (simulator) =>
        process.stdout.write(
          `simulator: signaling ${simulator.signalingUrl}, webhooks to ${simulator.webhookUrl}, scenario ${args.scenario}` +
            `${simulator.chaosSeed === undefined ? '' : `, chaos seed ${simulator.chaosSeed}`}\n` +
            (simulator.caCertPath === undefined
              ? ''
              : `simulator: TLS CA ${simulator.caCertPath} (start the client with NODE_EXTRA_CA_CERTS=${simulator.caCertPath})\n`),
        ),
    });
    if (abort.signal.aborted) {
      process.stderr.write('simulate: interrupted\n');
      return 130;
    }
    if (args.scenario === 'forged-webhook') {
      for (const status of result.forgedStatuses) {
        const verdict = status >= 400 && status < 500 ? 'rejected, as it should be' : 'ACCEPTED: the endpoint does not verify signatures';
        process.stdout.write(`forged rtms_started -> HTTP ${status} (${verdict})\n`);
      }
    } else {
      process.stdout.write(`${formatSummaryTable(result.streams)}\n`);
      process.stdout.write(`simulator: done after ${formatProgress(result.totals)}\n`);
    }
    return result.ok ? 0 : 1;
  } catch (error) {
    if (error instanceof SimulatorError) {
      process.stderr.write(`simulate: ${error.message}\n`);
      return 1;
    }
    throw error;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    logger.flush();
  }
}

if (import.meta.main) {
  process.exitCode = await main(process.argv.slice(2), process.env);
}
