import { Prng } from './prng.ts';
import { SimulatorError } from './simulatorErrors.ts';

/**
 * Chaos mode: seeded, reproducible trouble injected into every stream, the kinds of trouble
 * Zoom, a network or a load balancer can cause a client. Each stream draws its own schedule
 * from `deriveSeed(chaos seed, 'chaos', stream index)`: a Poisson process of `ratePerMinute`
 * injections, each of a kind picked by `weights`, with its parameters drawn at the same time.
 * Same seed, same sequence of injections with the same parameters; when each one lands
 * depends only on when the stream is connected, because an injection waits until the stream
 * is whole (signaling, CLIENT_READY_ACK and every media socket up) and no earlier injection
 * is still in effect.
 *
 *   whole ──(gap drawn from the seed elapses)──▶ inject ──effect over, stream whole again──▶ whole …
 */

/** What chaos can do to a stream. */
export type ChaosKind =
  /** Network loss on signaling: every socket terminated, `*.rtms_interrupted` POSTed (`interrupt()`). */
  | 'killSignaling'
  /** One media socket terminated, EVENT_UPDATE 7 and STREAM_STATE_UPDATE(2, 14) on signaling. */
  | 'killMedia'
  /** One socket (signaling or a media socket) writes nothing, keep-alives included, for a while. */
  | 'stall'
  /** No KEEP_ALIVE_REQ on any socket for a while; media keeps flowing. */
  | 'suppressKeepAlives'
  /** Unparsable text on a media socket. */
  | 'malformedJson'
  /** A media message cut short. */
  | 'truncatedJson'
  /** Valid JSON, media msg_type, missing or invalid fields (no content, bad base64, wrong length…). */
  | 'invalidFields'
  /** A message with an undefined msg_type, on signaling or a media socket. */
  | 'unknownMessage'
  /** The next video or deskshare frame padded (trailing zero bytes) to `oversizedBytes`. */
  | 'oversizedFrame'
  /** The latest lifecycle webhook of the stream POSTed again, byte for byte, at once: a fast duplicate (Zoom's real retries: `webhookRetries`). */
  | 'duplicateWebhook'
  /** Signaling killed like `killSignaling`, but `*.rtms_interrupted` arrives only after the client rejoined. */
  | 'lateInterrupted'
  /** An `rtms_started` with an older `event_ts` (after a failover: the previous server's URL). */
  | 'staleStarted'
  /** Server failover (`failover()`): sockets closed, new `rtms_started` with new `server_urls`. */
  | 'failover'
  /**
   * Media timestamps step (`jumpTimestamps()`): back 3 or 30 s, forward 30 s, or one audio
   * packet dated 10 h ahead. Weight 0 by default, so existing seeds draw what they drew.
   */
  | 'timestampJump';

export const CHAOS_KINDS: readonly ChaosKind[] = [
  'killSignaling',
  'killMedia',
  'stall',
  'suppressKeepAlives',
  'malformedJson',
  'truncatedJson',
  'invalidFields',
  'unknownMessage',
  'oversizedFrame',
  'duplicateWebhook',
  'lateInterrupted',
  'staleStarted',
  'failover',
  'timestampJump',
];

/** Default relative weights: message-level trouble is common, connection loss rarer. */
export const DEFAULT_CHAOS_WEIGHTS: Readonly<Record<ChaosKind, number>> = {
  killSignaling: 2,
  killMedia: 2,
  stall: 2,
  suppressKeepAlives: 1,
  malformedJson: 2,
  truncatedJson: 2,
  invalidFields: 3,
  unknownMessage: 2,
  oversizedFrame: 1,
  duplicateWebhook: 2,
  lateInterrupted: 1,
  staleStarted: 1,
  failover: 1,
  timestampJump: 0,
};

/** Options of chaos mode (`SimulatorOptions.chaos`). Durations in ms. */
export interface ChaosOptions {
  /** Seeds every stream's schedule (default: the simulator's seed). */
  readonly seed?: number;
  /** Mean injections per stream per minute of connected time (default 6). */
  readonly ratePerMinute?: number;
  /** Relative weight per kind; missing kinds keep their default, 0 disables a kind. */
  readonly weights?: Partial<Record<ChaosKind, number>>;
  /** Nothing is injected during the first this-many ms after a stream first became whole (default 1000). */
  readonly quietStartMs?: number;
  /**
   * Stall lengths. A stall is short or long with equal chance: choose `shortStallMs` well
   * below the client's silence limit and `longStallMs` well above it, so whether the client
   * gives up on the socket is never a coin toss (defaults [200, 1000] and [3000, 6000]).
   */
  readonly shortStallMs?: readonly [number, number];
  readonly longStallMs?: readonly [number, number];
  /** Keep-alive suppression length (default [2000, 6000]). */
  readonly keepAliveSuppressionMs?: readonly [number, number];
  /** Size an oversized frame is padded to, bytes (default 1.5 MiB). */
  readonly oversizedBytes?: number;
  /**
   * The client's largest accepted message, bytes (default 32 MiB, the connector's). A frame
   * above it is counted in `sent.oversizedLostCount()` instead of the valid counts, and the
   * simulator writes nothing more on that socket: the client closes it (1009).
   */
  readonly clientMaxPayloadBytes?: number;
  /** How long a late `rtms_interrupted` waits after the rejoin before it is POSTed (default [0, 1000]). */
  readonly lateWebhookDelayMs?: readonly [number, number];
}

export interface ResolvedChaosOptions {
  readonly seed: number;
  readonly ratePerMinute: number;
  readonly weights: Readonly<Record<ChaosKind, number>>;
  readonly quietStartMs: number;
  readonly shortStallMs: readonly [number, number];
  readonly longStallMs: readonly [number, number];
  readonly keepAliveSuppressionMs: readonly [number, number];
  readonly oversizedBytes: number;
  readonly clientMaxPayloadBytes: number;
  readonly lateWebhookDelayMs: readonly [number, number];
}

function range(name: string, value: readonly [number, number] | undefined, fallback: readonly [number, number]): readonly [number, number] {
  const effective = value ?? fallback;
  const [min, max] = effective;
  if (!Array.isArray(effective) || effective.length !== 2 || !(min >= 0) || !(max >= min) || !Number.isFinite(max)) {
    throw new SimulatorError('INVALID_OPTION', `chaos.${name} must be [min, max] with 0 <= min <= max, got ${JSON.stringify(value)}`);
  }
  return [min, max];
}

function nonNegative(name: string, value: number | undefined, fallback: number): number {
  const effective = value ?? fallback;
  if (!Number.isFinite(effective) || effective < 0)
    throw new SimulatorError('INVALID_OPTION', `chaos.${name} must be a non-negative number, got ${String(value)}`);
  return effective;
}

/** Validates chaos options and fills in defaults. */
export function resolveChaosOptions(options: ChaosOptions, simulatorSeed: number): ResolvedChaosOptions {
  const weights: Record<ChaosKind, number> = { ...DEFAULT_CHAOS_WEIGHTS };
  for (const [kind, weight] of Object.entries(options.weights ?? {})) {
    if (!(CHAOS_KINDS as readonly string[]).includes(kind)) throw new SimulatorError('INVALID_OPTION', `chaos.weights: unknown kind ${kind}`);
    weights[kind as ChaosKind] = nonNegative(`weights.${kind}`, weight, 0);
  }
  if (CHAOS_KINDS.every((kind) => weights[kind] === 0)) throw new SimulatorError('INVALID_OPTION', 'chaos.weights: every kind is disabled');
  const ratePerMinute = nonNegative('ratePerMinute', options.ratePerMinute, 6);
  if (ratePerMinute === 0) throw new SimulatorError('INVALID_OPTION', 'chaos.ratePerMinute must be positive');
  const oversizedBytes = nonNegative('oversizedBytes', options.oversizedBytes, 1.5 * 1024 * 1024);
  return {
    seed: (options.seed ?? simulatorSeed) >>> 0,
    ratePerMinute,
    weights,
    quietStartMs: nonNegative('quietStartMs', options.quietStartMs, 1000),
    shortStallMs: range('shortStallMs', options.shortStallMs, [200, 1000]),
    longStallMs: range('longStallMs', options.longStallMs, [3000, 6000]),
    keepAliveSuppressionMs: range('keepAliveSuppressionMs', options.keepAliveSuppressionMs, [2000, 6000]),
    oversizedBytes,
    clientMaxPayloadBytes: nonNegative('clientMaxPayloadBytes', options.clientMaxPayloadBytes, 32 * 1024 * 1024),
    lateWebhookDelayMs: range('lateWebhookDelayMs', options.lateWebhookDelayMs, [0, 1000]),
  };
}

/**
 * One drawn injection. Everything random about it is drawn when it is scheduled, so the
 * sequence is a pure function of the seed; `pick` chooses among whatever targets exist when
 * it fires (sockets, variants), in a fixed order.
 */
export interface ChaosDraw {
  /** 1-based position in this stream's sequence. */
  readonly index: number;
  readonly kind: ChaosKind;
  /** Uniform in [0, 1): chooses the target (socket, channel, variant). */
  readonly pick: number;
  /** Uniform in [0, 1): a second independent choice (message variant, short or long stall). */
  readonly pick2: number;
  /** Length of a stall or suppression, or the delay of a late webhook, ms. */
  readonly durationMs: number;
  /** Seed for content built at injection time (malformed messages). */
  readonly contentSeed: number;
}

/** One entry of `stream.chaos.log`. */
export interface ChaosLogEntry {
  /** Position in the stream's seeded sequence; undefined for an explicit call. */
  readonly scheduled: number | undefined;
  readonly kind: ChaosKind;
  /** ms epoch when it was applied (or skipped). */
  readonly at: number;
  /** ms since the stream first became whole. */
  readonly sinceFirstReadyMs: number;
  /** False when nothing could be injected (no such socket, not applicable to the product…). */
  readonly applied: boolean;
  /** What exactly was done: target, variant, duration. */
  readonly detail: string;
}

/**
 * A stream's chaos schedule: when the next injection is due and what it is. The stream
 * asks `due(now)` on every tick while it is whole and idle, applies what it gets, and
 * reports back with `done(now)`.
 */
export class ChaosPlan {
  readonly options: ResolvedChaosOptions;
  readonly #prng: Prng;
  readonly #meanGapMs: number;
  readonly #totalWeight: number;
  #nextAt: number | undefined;
  #next: ChaosDraw | undefined;
  #drawn = 0;

  constructor(options: ResolvedChaosOptions, streamSeed: number) {
    this.options = options;
    this.#prng = new Prng(streamSeed);
    this.#meanGapMs = 60_000 / options.ratePerMinute;
    this.#totalWeight = CHAOS_KINDS.reduce((sum, kind) => sum + options.weights[kind], 0);
  }

  /** Starts the schedule (the stream became whole for the first time). Idempotent. */
  start(now: number): void {
    if (this.#nextAt !== undefined) return;
    this.#next = this.#draw();
    this.#nextAt = now + this.options.quietStartMs + this.#gap();
  }

  /** The injection due at `now`, if any (it stays due until `done()`). */
  due(now: number): ChaosDraw | undefined {
    if (this.#nextAt === undefined || now < this.#nextAt) return undefined;
    return this.#next;
  }

  /** The injection returned by `due` was handled; the next gap starts now. */
  done(now: number): void {
    this.#next = this.#draw();
    this.#nextAt = now + this.#gap();
  }

  /** When the next injection becomes due, ms epoch. */
  get nextAt(): number | undefined {
    return this.#nextAt;
  }

  #gap(): number {
    // Exponential inter-arrival times: a Poisson process of `ratePerMinute`.
    return Math.round(-Math.log(1 - this.#prng.next()) * this.#meanGapMs);
  }

  #draw(): ChaosDraw {
    this.#drawn += 1;
    let target = this.#prng.next() * this.#totalWeight;
    let kind: ChaosKind = CHAOS_KINDS[CHAOS_KINDS.length - 1] ?? 'killSignaling';
    for (const candidate of CHAOS_KINDS) {
      const weight = this.options.weights[candidate];
      if (weight <= 0) continue;
      kind = candidate;
      if (target < weight) break;
      target -= weight;
    }
    const pick = this.#prng.next();
    const pick2 = this.#prng.next();
    const durationFraction = this.#prng.next();
    const contentSeed = this.#prng.nextUint32();
    const [min, max] =
      kind === 'stall'
        ? pick2 < 0.5
          ? this.options.shortStallMs
          : this.options.longStallMs
        : kind === 'suppressKeepAlives'
          ? this.options.keepAliveSuppressionMs
          : kind === 'lateInterrupted'
            ? this.options.lateWebhookDelayMs
            : [0, 0];
    return { index: this.#drawn, kind, pick, pick2, durationMs: Math.round(min + (max - min) * durationFraction), contentSeed };
  }
}

/** Picks `items[floor(u * n)]`; `u` in [0, 1). */
export function choose<T>(items: readonly T[], u: number): T | undefined {
  return items[Math.min(items.length - 1, Math.floor(u * items.length))];
}
