import pRetry from 'p-retry';
import type { Clock } from '../../clock.ts';
import type { Config } from '../../config.ts';
import { ConnectorError, describeError } from '../../errors.ts';
import type { Logger } from '../../logger.ts';
import type { StreamStats } from '../../vocabulary/streamStats.ts';
import type { StreamStateMachine } from '../streamStateMachine.ts';
import type { WorkerMetrics } from '../workerMetrics.ts';
import { RejoinBudget, waitBeforeRejoin } from './rejoinBudget.ts';
import { rejoinKey, type LiveRejoinTrigger, type RejoinKey, type RejoinScope, type ResumeReason } from '../../vocabulary/rejoin.ts';

/**
 * Joins and rejoins of one stream. A lost or interrupted signaling connection (or a
 * failover) rejoins everything; a lost media connection rejoins media only. Every trigger for
 * the same gap joins the rejoin under way, so Zoom never sees two signaling connections for
 * one stream: a full rejoin supersedes a media-only one, a failover restarts whatever runs.
 * Within a rejoin, p-retry backs off between failed attempts (RTMS_RECONNECT_*); the
 * RejoinBudget paces rejoins after joins that did not last. `reconnects` counts gaps and
 * `rejoins` files each gap under the rejoin that ran (`<scope>/<trigger>`).
 */

export interface RejoinControllerOptions {
  readonly rtms: Pick<Config['rtms'], 'rejoinBudget' | 'rejoinBudgetWindowMs' | 'reconnectBaseMs' | 'reconnectMaxMs' | 'reconnectWindowMs'>;
  readonly machine: Pick<StreamStateMachine, 'state' | 'transition'>;
  /** Counts of an earlier incarnation of this stream (a worker that died). */
  readonly previous?: Pick<StreamStats, 'reconnects' | 'rejoins'> | undefined;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: Pick<WorkerMetrics, 'limitHit' | 'reconnectGap'>;
  readonly event: (eventType: string, data: Record<string, unknown>) => void;
  /** One join attempt (RtmsJoin.attempt); a retryable ConnectorError is tried again. */
  readonly attempt: (scope: RejoinScope, signal: AbortSignal) => Promise<void>;
  /** The stream is over or ending: nothing starts any more. */
  readonly ended: () => boolean;
  /** A join succeeded and the stream goes live now (called before the transition). */
  readonly live: () => void;
  /** The stream cannot go on: a join failed for good, or the rejoin budget is spent. */
  readonly fail: (reason: string) => void;
  /** 0..1, the budget's jitter source; default Math.random. */
  readonly random?: () => number;
}

export class RejoinController {
  readonly #options: RejoinControllerOptions;
  /** Backoff after joins that did not last, and the cap on rejoins per window. */
  readonly #budget: RejoinBudget;
  readonly #rejoins: Record<string, number> = {};
  #reconnects: number;
  /** The join or rejoin in progress; later triggers join it instead of starting another. */
  #current: { scope: RejoinScope; controller: AbortController } | undefined;
  /** When the current gap began (left `live`), ms epoch, and the `rejoins` key it is counted under. */
  #gapStartedAt: number | undefined;
  #gapKey: RejoinKey | undefined;

  constructor(options: RejoinControllerOptions) {
    this.#options = options;
    const { rejoinBudget, rejoinBudgetWindowMs, reconnectBaseMs, reconnectMaxMs } = options.rtms;
    this.#budget = new RejoinBudget({
      budget: rejoinBudget,
      windowMs: rejoinBudgetWindowMs,
      baseMs: reconnectBaseMs,
      maxMs: reconnectMaxMs,
      ...(options.random ? { random: options.random } : {}),
    });
    this.#reconnects = options.previous?.reconnects ?? 0;
    Object.assign(this.#rejoins, options.previous?.rejoins);
  }

  /** Gaps the stream went through (across incarnations). */
  get reconnects(): number {
    return this.#reconnects;
  }

  /** Rejoins started, keyed `<scope>/<trigger>`: a copy. */
  rejoins(): Record<string, number> {
    return { ...this.#rejoins };
  }

  /** The first join; for a resumed stream (`resumeReason`), counted as the rejoin after its worker died. */
  begin(resumeReason: ResumeReason | undefined): void {
    if (resumeReason !== undefined) {
      this.#reconnects += 1;
      const key = rejoinKey({ scope: 'full', trigger: resumeReason });
      this.#rejoins[key] = (this.#rejoins[key] ?? 0) + 1;
    }
    this.#start('full', resumeReason ?? 'start');
  }

  /**
   * Starts a rejoin unless one that covers it is under way. A full rejoin supersedes a
   * media-only one; `restart` (failover) replaces whatever runs. `reconnects` counts gaps,
   * so superseding or restarting a rejoin does not count again.
   */
  request(scope: RejoinScope, trigger: LiveRejoinTrigger, options: { restart?: boolean } = {}): void {
    const { machine, clock } = this.#options;
    if (this.#options.ended()) return;
    const current = this.#current;
    if (current && !options.restart && (current.scope === 'full' || scope === 'media')) {
      this.#options.logger.debug({ trigger, scope }, 'rejoin already under way');
      return;
    }
    current?.controller.abort();
    this.#current = undefined;
    if (machine.state === 'live') {
      this.#gapStartedAt = clock.now();
      machine.transition('waitingReconnect', trigger);
    }
    if (machine.state !== 'connecting') {
      // One gap, one count, filed under the rejoin that actually runs: a full rejoin that
      // supersedes a media-only one takes its count over.
      const key = rejoinKey({ scope, trigger });
      if (current === undefined) this.#reconnects += 1;
      else if (this.#gapKey !== undefined) {
        const left = (this.#rejoins[this.#gapKey] ?? 1) - 1;
        if (left > 0) this.#rejoins[this.#gapKey] = left;
        else delete this.#rejoins[this.#gapKey];
      }
      this.#rejoins[key] = (this.#rejoins[key] ?? 0) + 1;
      this.#gapKey = key;
    }
    const decision = this.#budget.next(clock.now());
    if (!decision.go) {
      this.#options.metrics.limitHit('rejoin_budget');
      this.#options.fail(decision.reason);
      return;
    }
    this.#options.event('stream.rejoin', {
      scope,
      trigger,
      ...(decision.delayMs > 0 ? { delayMs: decision.delayMs, note: 'the previous connection was lost right after its join' } : {}),
    });
    this.#start(scope, trigger, decision.delayMs);
  }

  /** The stream ends: the join under way stops, and its outcome is ignored. */
  abort(): void {
    this.#current?.controller.abort();
    this.#current = undefined;
  }

  #start(scope: RejoinScope, trigger: LiveRejoinTrigger | ResumeReason | 'start', delayMs = 0): void {
    const { clock, logger, machine, metrics } = this.#options;
    const controller = new AbortController();
    const { reconnectBaseMs, reconnectMaxMs, reconnectWindowMs } = this.#options.rtms;
    let wait = delayMs;
    const attempt = async (): Promise<void> => {
      if (wait > 0) await waitBeforeRejoin(wait, controller.signal, clock);
      wait = 0;
      return this.#options.attempt(scope, controller.signal);
    };
    void pRetry(attempt, {
      retries: Number.POSITIVE_INFINITY,
      factor: 2,
      minTimeout: reconnectBaseMs,
      maxTimeout: reconnectMaxMs,
      randomize: true,
      maxRetryTime: reconnectWindowMs,
      signal: controller.signal,
      shouldRetry: ({ error }) => error instanceof ConnectorError && error.retryable,
      onFailedAttempt: ({ error, attemptNumber, retryDelay }) => {
        logger.warn({ scope, trigger, attemptNumber, retryDelayMs: retryDelay, err: describeError(error) }, 'rtms join attempt failed');
      },
    }).then(
      () => {
        if (this.#current?.controller !== controller) return;
        this.#current = undefined;
        this.#budget.joined(clock.now());
        if (machine.state !== 'live') {
          this.#options.live();
          if (this.#gapStartedAt !== undefined) metrics.reconnectGap(scope, (clock.now() - this.#gapStartedAt) / 1000);
          this.#gapStartedAt = undefined;
          this.#gapKey = undefined;
          machine.transition('live', trigger);
        }
      },
      (error: unknown) => {
        if (this.#current?.controller !== controller) return;
        this.#current = undefined;
        if (controller.signal.aborted) return;
        this.#options.fail(`${scope === 'full' ? 'join' : 'media rejoin'} failed: ${describeError(error).message}`);
      },
    );
    this.#current = { scope, controller };
  }
}
