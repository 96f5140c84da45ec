/** The chaos soak's command-line flags, parsed into `ChaosSoakOptions`. */
import { parseArgs } from 'node:util';
import { CHAOS_KINDS, type ChaosKind } from 'rtms-simulator';
import { envPairs } from '../envPairs.ts';
import type { ChaosSoakOptions } from './chaosSoakOptions.ts';

export const CHAOS_SOAK_USAGE = `Usage: node bench/chaos/chaosSoakMain.ts [options]   (or: npm run bench -- chaos [options])

The connector process against the Zoom stand-in in chaos mode; prints a table and writes
bench/results/chaos-soak-<timestamp>.json. Exit 0 when every verdict passes.

Options:
  --streams N         concurrent streams (default 50)
  --minutes M         media time per stream, may be fractional (default 10)
  --seed N            seeds media and chaos (default 1)
  --rate N            chaos injections per stream per minute (default 6)
  --weights K=W,...   chaos kind weights, e.g. failover=0,stall=4
  --rss-interval S    RSS sampling period, seconds (default 10)
  --verify-audio      keep all sent audio and compare every WAV byte for byte (memory!)
  --keep-output       keep the connector output directory
  --env KEY=VALUE     extra connector environment (repeatable), e.g. --env MALLOC_ARENA_MAX=2
  --disk-full-per-minute N
                      disk-full windows per minute (default 0.5); OUTPUT_DIR is a tmpfs the soak
                      mounts, which needs root; 0 turns them off (output on the temp directory)
  --disk-full-seconds A-B
                      length of a window, seconds (default 3-8)
  --disk-size MIB     tmpfs size (default: 1.5 x 4 MiB per stream-minute + 64 MiB)
  -h, --help          show this help`;

/** A flag the soak cannot run with; `showUsage` when parseArgs itself refused the command line. */
export class ChaosSoakArgsError extends Error {
  readonly showUsage: boolean;
  constructor(error: unknown, showUsage: boolean) {
    super(error instanceof Error ? error.message : String(error));
    this.name = 'ChaosSoakArgsError';
    this.showUsage = showUsage;
  }
}

/** The options for `runChaosSoak`, or 'help' for --help; throws `ChaosSoakArgsError`. */
export function parseChaosSoakArgs(argv: readonly string[]): ChaosSoakOptions | 'help' {
  let values: Record<string, string | boolean | string[] | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        streams: { type: 'string' },
        minutes: { type: 'string' },
        seed: { type: 'string' },
        rate: { type: 'string' },
        weights: { type: 'string' },
        'rss-interval': { type: 'string' },
        'verify-audio': { type: 'boolean' },
        'keep-output': { type: 'boolean' },
        env: { type: 'string', multiple: true },
        'disk-full-per-minute': { type: 'string' },
        'disk-full-seconds': { type: 'string' },
        'disk-size': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    throw new ChaosSoakArgsError(error, true);
  }
  if (values['help'] === true) return 'help';
  const number = (name: string, fallback: number, min: number, max: number): number => {
    const text = values[name];
    if (typeof text !== 'string') return fallback;
    const value = Number(text);
    if (!Number.isFinite(value) || value < min || value > max)
      throw new RangeError(`--${name}: expected a number from ${min} to ${max}, got ${JSON.stringify(text)}`);
    return value;
  };
  try {
    const weights: Partial<Record<ChaosKind, number>> = {};
    const weightsText = values['weights'];
    if (typeof weightsText === 'string') {
      for (const pair of weightsText.split(',')) {
        const [kind, weight] = pair.split('=');
        if (!(CHAOS_KINDS as readonly string[]).includes(kind ?? '') || !(Number(weight) >= 0)) {
          throw new RangeError(`--weights: expected kind=weight with kind one of ${CHAOS_KINDS.join(', ')}, got ${JSON.stringify(pair)}`);
        }
        weights[kind as ChaosKind] = Number(weight);
      }
    }
    const secondsText = values['disk-full-seconds'];
    let seconds: [number, number] | undefined;
    if (typeof secondsText === 'string') {
      const [low, high] = secondsText.split('-').map(Number);
      if (low === undefined || high === undefined || !(low >= 0.1) || !(high >= low) || high > 600) {
        throw new RangeError(`--disk-full-seconds: expected A-B with 0.1 <= A <= B <= 600, got ${JSON.stringify(secondsText)}`);
      }
      seconds = [low, high];
    }
    const diskSize = values['disk-size'] === undefined ? undefined : Math.round(number('disk-size', 0, 16, 1024 * 1024) * 2 ** 20);
    return {
      streams: Math.round(number('streams', 50, 1, 1000)),
      durationMs: Math.round(number('minutes', 10, 0.1, 24 * 60) * 60_000),
      seed: Math.round(number('seed', 1, 0, 2 ** 32 - 1)),
      ratePerMinute: number('rate', 6, 0.01, 600),
      ...(Object.keys(weights).length > 0 ? { weights } : {}),
      rssIntervalMs: Math.round(number('rss-interval', 10, 1, 600) * 1000),
      verifyAudio: values['verify-audio'] === true,
      keepOutput: values['keep-output'] === true,
      connectorEnv: envPairs(values['env'] as string[] | undefined),
      diskFull: {
        perMinute: number('disk-full-per-minute', 0.5, 0, 60),
        ...(seconds === undefined ? {} : { seconds }),
        ...(diskSize === undefined ? {} : { sizeBytes: diskSize }),
      },
      progress: (line) => process.stderr.write(`${line}\n`),
    };
  } catch (error) {
    throw new ChaosSoakArgsError(error, false);
  }
}
