import type { Logger } from 'pino';
import type { Clock } from './connectorShared.ts';
import { SimulatorError } from './simulatorErrors.ts';
import type { WebhookResponse } from './webhookSender.ts';

/**
 * Zoom's redelivery of a webhook that was not answered with a 2xx within 3 s: three more
 * attempts, 5 min after the first, 20 min after that, 60 min after that, then none (evidence
 * in README.md#fidelity-and-evidence). An acknowledged delivery is never sent again.
 */
export const ZOOM_WEBHOOK_RETRY_DELAYS_MS: readonly number[] = [5 * 60_000, 20 * 60_000, 60 * 60_000];

/** `startSimulator({ webhookRetries })`: Zoom's retry schedule, optionally compressed. */
export interface WebhookRetryOptions {
  /** Wait before each retry, each counted from the previous attempt, ms (default Zoom's 5, 20, 60 min). */
  readonly delaysMs?: readonly number[];
  /** Multiplies every wait: 0.001 turns 5 min into 300 ms (default 1, real time). */
  readonly timeScale?: number;
}

/** One redelivery, as the stream's `webhooks` log records it. */
export interface RetryOutcome {
  /** 1 for the first retry. */
  readonly retry: number;
  readonly status: number | undefined;
  readonly error: string | undefined;
}

/** `startSimulator({ webhookRetries })` as retrier options: off (the default) is a schedule of no retries. */
export function retryOptions(option: boolean | WebhookRetryOptions | undefined): WebhookRetryOptions {
  return option === undefined || option === false ? { delaysMs: [] } : option === true ? {} : option;
}

/** A 2xx answer (`undefined`: none at all): Zoom counts the delivery as done. */
export function acknowledged(status: number | undefined): boolean {
  return status !== undefined && status >= 200 && status <= 299;
}

/**
 * Delivers webhooks with Zoom's retries: the first attempt is awaited by the caller; when it
 * is not acknowledged, the retries run in the background on the clock until one is.
 */
export class WebhookRetrier {
  readonly #delaysMs: readonly number[];
  readonly #clock: Clock;
  readonly #post: (rawBody: string) => Promise<WebhookResponse>;
  readonly #logger: Logger;
  readonly #timers = new Set<NodeJS.Timeout>();
  #closed = false;

  constructor(options: WebhookRetryOptions & { clock: Clock; post: (rawBody: string) => Promise<WebhookResponse>; logger: Logger }) {
    const scale = options.timeScale ?? 1;
    if (!(Number.isFinite(scale) && scale > 0))
      throw new SimulatorError('INVALID_OPTION', `webhookRetries.timeScale must be a positive number, got ${String(scale)}`);
    const delays = options.delaysMs ?? ZOOM_WEBHOOK_RETRY_DELAYS_MS;
    if (!delays.every((delay) => Number.isFinite(delay) && delay >= 0)) {
      throw new SimulatorError('INVALID_OPTION', 'webhookRetries.delaysMs must be non-negative numbers');
    }
    this.#delaysMs = delays.map((delay) => delay * scale);
    this.#clock = options.clock;
    this.#post = options.post;
    this.#logger = options.logger;
  }

  /** Whether any retry is scheduled for an unacknowledged delivery. */
  get enabled(): boolean {
    return this.#delaysMs.length > 0;
  }

  /** Retries waiting for their time. */
  get pending(): number {
    return this.#timers.size;
  }

  /** POSTs `rawBody`; unless that is acknowledged, schedules the retries (`onRetry` sees each). Rejects as the first POST does. */
  async deliver(rawBody: string, onRetry: (outcome: RetryOutcome) => void = () => {}): Promise<WebhookResponse> {
    try {
      const response = await this.#post(rawBody);
      if (!acknowledged(response.status)) this.#schedule(rawBody, 1, onRetry);
      return response;
    } catch (error) {
      this.#schedule(rawBody, 1, onRetry);
      throw error;
    }
  }

  #schedule(rawBody: string, retry: number, onRetry: (outcome: RetryOutcome) => void): void {
    const delay = this.#delaysMs[retry - 1];
    if (delay === undefined || this.#closed) return;
    // The attempt's promise is returned on purpose: a manual test clock awaits it; #attempt never rejects.
    // eslint-disable-next-line @typescript-eslint/no-misused-promises -- see above
    const timer = this.#clock.setTimeout(() => {
      this.#timers.delete(timer);
      return this.#attempt(rawBody, retry, onRetry);
    }, delay);
    timer.unref?.();
    this.#timers.add(timer);
  }

  async #attempt(rawBody: string, retry: number, onRetry: (outcome: RetryOutcome) => void): Promise<void> {
    if (this.#closed) return;
    let outcome: RetryOutcome;
    try {
      const response = await this.#post(rawBody);
      outcome = { retry, status: response.status, error: undefined };
    } catch (error) {
      outcome = { retry, status: undefined, error: error instanceof Error ? error.message : String(error) };
    }
    if (this.#closed) return;
    onRetry(outcome);
    this.#logger.debug(outcome, 'webhook retried');
    if (!acknowledged(outcome.status)) this.#schedule(rawBody, retry + 1, onRetry);
  }

  /** Cancels every retry still waiting. Idempotent. */
  close(): void {
    this.#closed = true;
    for (const timer of this.#timers) this.#clock.clearTimeout(timer);
    this.#timers.clear();
  }
}
