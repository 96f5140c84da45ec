import { parseArgs } from 'node:util';
import { PRODUCTS } from './connectorShared.ts';
import type { SimulationOptions } from './simulationRun.ts';
import { SimulatorError } from './simulatorErrors.ts';

/** Scenarios of `npm run simulate`; see USAGE. */
export const SCENARIOS = ['normal', 'stop', 'interrupt', 'media-drop', 'duplicate-start', 'failover', 'bad-signature', 'forged-webhook'] as const;
export type Scenario = (typeof SCENARIOS)[number];

/** Parsed command line of the simulator CLI, durations in ms: the run's options (simulationRun.ts) and the CLI's own. */
export interface SimulatorArgs extends Pick<
  SimulationOptions,
  'webhookUrl' | 'streams' | 'product' | 'participants' | 'durationMs' | 'scenario' | 'keepAliveIntervalMs' | 'reconnectGraceMs' | 'seed' | 'port' | 'host'
> {
  readonly help: boolean;
  /** `--keepalive-when`: idle (default) or always. */
  readonly keepAliveWhen: 'idle' | 'always';
  /** Serve wss:// (`--tls`); the CA lives in `tlsDir` (`--tls-dir`, implies `--tls`). */
  readonly tls: boolean;
  readonly tlsDir: string | undefined;
  readonly verbose: boolean;
  /** Progress line period (`--progress SECONDS`, default 5 s; 0: none). */
  readonly progressIntervalMs: number;
  /** Chaos mode on (`--chaos`, or implied by `--chaos-seed` / `--chaos-rate`). */
  readonly chaos: boolean;
  /** Seed of the chaos schedule (default: `--seed`, else random). */
  readonly chaosSeed: number | undefined;
  /** Chaos injections per stream per minute (default 6). */
  readonly chaosRate: number | undefined;
  /** Zoom's webhook retries (5, 20, 60 min) for unacknowledged deliveries, times this scale; undefined: off. */
  readonly webhookRetryScale: number | undefined;
  /** Sync-mark period (`--sync-marks MS`), or undefined for none. */
  readonly syncMarksEveryMs: number | undefined;
  /** Credentials given as flags; missing ones come from the environment. */
  readonly clientId: string | undefined;
  readonly clientSecret: string | undefined;
  readonly webhookSecret: string | undefined;
}

export const USAGE = `Usage: npm run simulate -- --webhook-url URL [options]

A stand-in for Zoom: announces RTMS streams by webhook and serves the signaling and media
WebSockets on 127.0.0.1, then prints what each stream delivered and how it ended.
Start the connector under test with RTMS_ALLOWED_HOSTS=127.0.0.1 (by default it joins
only Zoom's hosts).

Options:
  --webhook-url URL        where to POST webhooks (required)
  --streams N              concurrent streams (default 1)
  --product P              meeting | webinar | session | contact_center (default meeting)
  --participants N         participants per stream (default 3; contact_center: 2)
  --duration SECONDS       media time per stream before it ends (default 10)
  --scenario S             normal | stop | interrupt | media-drop | duplicate-start |
                           failover | bad-signature | forged-webhook (default normal)
  --keepalive-ms MS        keep-alive request period (default 10000)
  --keepalive-when W       idle: ask only on a socket with nothing else to send for one
                           period, as Zoom's samples describe (default); always: every period
  --grace-ms MS            how long an interrupted stream waits for a rejoin (default 60000)
  --seed N                 deterministic audio, transcripts and chat
  --chaos                  chaos mode: seeded socket kills, stalls, keep-alive suppression,
                           malformed, unknown and oversized messages, duplicate and
                           out-of-order webhooks in every stream (see packages/rtms-simulator/README.md)
  --chaos-seed N           seed of the chaos schedule (default: --seed); implies --chaos
  --chaos-rate N           chaos injections per stream per minute (default 6); implies --chaos
  --webhook-retry-scale X  retry webhooks not answered with a 2xx in 3 s on Zoom's schedule
                           (5, 20, 60 min) times X: 1 real time, 0.01 one hundred times faster
  --sync-marks MS          every MS of media time (a multiple of 20, at least 500) a 1 kHz
                           tone burst in the audio and a white picture in the video, same
                           timestamp, to measure a recording's audio-video offset
  --host HOST              listen address (default 127.0.0.1)
  --port N                 listen port (default 0: any free port)
  --tls                    serve wss:// like Zoom, with a certificate from the stand-in's own
                           CA; start the client with NODE_EXTRA_CA_CERTS=<the printed ca.pem>
  --tls-dir DIR            where that CA is kept (default: rtms-simulator-tls in the temp
                           directory); implies --tls
  --client-id ID           default: ZM_RTMS_CLIENT
  --client-secret SECRET   default: ZM_RTMS_SECRET
  --webhook-secret TOKEN   default: ZM_WEBHOOK_SECRET_TOKEN
  --progress SECONDS       print a progress line this often (default 5; 0: none)
  --verbose                log stream lifecycle to stderr
  -h, --help               show this help

Exit status: 0 when every stream ended, 1 when the endpoint or a webhook was refused (or a
forged webhook accepted), 2 for bad arguments.`;

/** A command-line problem; `message` is one line for stderr. */
export class ArgsError extends SimulatorError {
  constructor(message: string) {
    super('INVALID_ARGUMENT', message);
    this.name = 'ArgsError';
  }
}

function integer(name: string, value: string | undefined, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
    throw new ArgsError(`--${name}: expected an integer from ${min} to ${max}, got ${JSON.stringify(value)}`);
  }
  return Number(value);
}

function syncMarks(name: string, value: string | undefined): number | undefined {
  const everyMs = integer(name, value, 500, 86_400_000);
  if (everyMs !== undefined && everyMs % 20 !== 0) throw new ArgsError(`--${name}: expected a multiple of 20 ms, got ${JSON.stringify(value)}`);
  return everyMs;
}

function oneOf<T extends string>(name: string, value: string | undefined, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(value)) {
    throw new ArgsError(`--${name}: expected one of ${allowed.join(', ')}, got ${JSON.stringify(value)}`);
  }
  return value as T;
}

/** Parses `argv` (without node and script). Throws `ArgsError` with a one-line message. */
export function parseSimulatorArgs(argv: readonly string[]): SimulatorArgs {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        'webhook-url': { type: 'string' },
        streams: { type: 'string' },
        product: { type: 'string' },
        participants: { type: 'string' },
        duration: { type: 'string' },
        scenario: { type: 'string' },
        'keepalive-ms': { type: 'string' },
        'keepalive-when': { type: 'string' },
        'grace-ms': { type: 'string' },
        seed: { type: 'string' },
        host: { type: 'string' },
        port: { type: 'string' },
        tls: { type: 'boolean' },
        'tls-dir': { type: 'string' },
        'client-id': { type: 'string' },
        'client-secret': { type: 'string' },
        'webhook-secret': { type: 'string' },
        verbose: { type: 'boolean' },
        progress: { type: 'string' },
        chaos: { type: 'boolean' },
        'chaos-seed': { type: 'string' },
        'chaos-rate': { type: 'string' },
        'webhook-retry-scale': { type: 'string' },
        'sync-marks': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    const message = error instanceof Error ? (error.message.split('\n')[0] ?? error.message) : String(error);
    throw new ArgsError(message);
  }
  const text = (name: string): string | undefined => {
    const value = values[name];
    return typeof value === 'string' ? value : undefined;
  };
  const help = values['help'] === true;

  const webhookUrl = text('webhook-url');
  if (!help) {
    if (webhookUrl === undefined) throw new ArgsError('--webhook-url is required (where the simulator POSTs webhooks)');
    let parsed: URL | undefined;
    try {
      parsed = new URL(webhookUrl);
    } catch {
      parsed = undefined;
    }
    if (parsed === undefined || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) {
      throw new ArgsError(`--webhook-url: expected an http:// or https:// URL, got ${JSON.stringify(webhookUrl)}`);
    }
  }

  const durationText = text('duration');
  let durationMs = 10_000;
  if (durationText !== undefined) {
    const seconds = /^\d+(\.\d+)?$/.test(durationText) ? Number(durationText) : Number.NaN;
    if (!(seconds > 0 && seconds <= 86_400)) {
      throw new ArgsError(`--duration: expected seconds greater than 0 and at most 86400, got ${JSON.stringify(durationText)}`);
    }
    durationMs = Math.round(seconds * 1000);
  }

  const progressText = text('progress');
  let progressIntervalMs = 5000;
  if (progressText !== undefined) {
    const seconds = /^\d+(\.\d+)?$/.test(progressText) ? Number(progressText) : Number.NaN;
    if (!(seconds >= 0 && seconds <= 3600)) {
      throw new ArgsError(`--progress: expected seconds from 0 to 3600, got ${JSON.stringify(progressText)}`);
    }
    progressIntervalMs = Math.round(seconds * 1000);
  }

  const chaosRateText = text('chaos-rate');
  let chaosRate: number | undefined;
  if (chaosRateText !== undefined) {
    chaosRate = /^\d+(\.\d+)?$/.test(chaosRateText) ? Number(chaosRateText) : Number.NaN;
    if (!(chaosRate > 0 && chaosRate <= 6000)) {
      throw new ArgsError(`--chaos-rate: expected injections per minute greater than 0 and at most 6000, got ${JSON.stringify(chaosRateText)}`);
    }
  }
  const chaosSeed = integer('chaos-seed', text('chaos-seed'), 0, 4_294_967_295);

  const retryScaleText = text('webhook-retry-scale');
  let webhookRetryScale: number | undefined;
  if (retryScaleText !== undefined) {
    webhookRetryScale = /^\d+(\.\d+)?$/.test(retryScaleText) ? Number(retryScaleText) : Number.NaN;
    if (!(webhookRetryScale > 0 && webhookRetryScale <= 1)) {
      throw new ArgsError(`--webhook-retry-scale: expected a number greater than 0 and at most 1, got ${JSON.stringify(retryScaleText)}`);
    }
  }

  return {
    help,
    webhookUrl: webhookUrl ?? '',
    streams: integer('streams', text('streams'), 1, 10_000) ?? 1,
    product: oneOf('product', text('product'), PRODUCTS, 'meeting'),
    participants: integer('participants', text('participants'), 1, 100),
    durationMs,
    scenario: oneOf('scenario', text('scenario'), SCENARIOS, 'normal'),
    keepAliveIntervalMs: integer('keepalive-ms', text('keepalive-ms'), 10, 600_000),
    keepAliveWhen: oneOf('keepalive-when', text('keepalive-when'), ['idle', 'always'] as const, 'idle'),
    reconnectGraceMs: integer('grace-ms', text('grace-ms'), 100, 3_600_000),
    seed: integer('seed', text('seed'), 0, 4_294_967_295),
    port: integer('port', text('port'), 0, 65_535) ?? 0,
    host: text('host') ?? '127.0.0.1',
    tls: values['tls'] === true || text('tls-dir') !== undefined,
    tlsDir: text('tls-dir'),
    verbose: values['verbose'] === true,
    progressIntervalMs,
    chaos: values['chaos'] === true || chaosSeed !== undefined || chaosRate !== undefined,
    chaosSeed,
    chaosRate,
    webhookRetryScale,
    syncMarksEveryMs: syncMarks('sync-marks', text('sync-marks')),
    clientId: text('client-id'),
    clientSecret: text('client-secret'),
    webhookSecret: text('webhook-secret'),
  };
}
