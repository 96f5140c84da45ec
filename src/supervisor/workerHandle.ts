import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Config } from '../config.ts';
import { ConnectorError, describeError } from '../errors.ts';
import type { SupervisorToWorker, WorkerData, WorkerToSupervisor } from '../ipc/messages.ts';
import type { Logger } from '../logger.ts';
import type { WorkerExitReason } from '../vocabulary/reasons.ts';

/** One worker's registry, as `Registry.getMetricsAsJSON()` returns it. */
export type WorkerMetricsSnapshot = Extract<WorkerToSupervisor, { type: 'metricsResponse' }>['metrics'];

/** A worker's answer to one scrape: `late` when it missed the deadline and `metrics` is its previous answer. */
export interface WorkerMetricsAnswer {
  /** Undefined only when the worker has not answered any scrape yet. */
  readonly metrics: WorkerMetricsSnapshot | undefined;
  readonly late: boolean;
}

// Run from src/ under type stripping or from dist/ after tsc: load the sibling of this file's kind.
const WORKER_ENTRY = new URL(`../worker/workerMain${extname(fileURLToPath(import.meta.url))}`, import.meta.url);

export interface WorkerExit {
  readonly workerId: number;
  readonly exitCode: number;
  /** False when the worker died on its own (crash, unresponsive): its streams need a new home. */
  readonly expected: boolean;
  readonly reason: WorkerExitReason;
}

export interface WorkerHandleOptions {
  readonly workerId: number;
  readonly config: Config;
  readonly logger: Logger;
  readonly onMessage: (workerId: number, message: WorkerToSupervisor) => void;
  readonly onExit: (exit: WorkerExit) => void;
  /** Deadline for the worker's `ready`, ms. Default 10 000. */
  readonly readyTimeoutMs?: number;
  /** Ping period, ms; a worker missing three pongs in a row is replaced. Default 5 000. */
  readonly heartbeatIntervalMs?: number;
  /** The thread's script; tests put a stand-in speaking the same messages here. Default worker/workerMain. */
  readonly entry?: URL | undefined;
}

/**
 * One worker thread seen from the supervisor: start-up handshake with a deadline, liveness
 * pings, graceful `shutdown()` and forceful `terminate()`.
 */
export class WorkerHandle {
  readonly workerId: number;
  readonly #worker: Worker;
  readonly #options: WorkerHandleOptions;
  #expectedExit = false;
  #exitReason: WorkerExitReason = 'exited';
  #heartbeat: NodeJS.Timeout | undefined;
  #pingSequence = 0;
  #lastPong = 0;
  #shutdownComplete: (() => void) | undefined;
  #metricsRequestId = 0;
  readonly #metricsWaiters = new Map<number, (metrics: WorkerMetricsSnapshot) => void>();
  /** The newest registry the worker sent, with its request id; answers arriving after their deadline update it too. */
  #lastMetrics: WorkerMetricsSnapshot | undefined;
  #lastMetricsRequestId = 0;
  readonly #exited: Promise<void>;

  private constructor(options: WorkerHandleOptions, worker: Worker) {
    this.workerId = options.workerId;
    this.#options = options;
    this.#worker = worker;
    this.#exited = new Promise((resolve) => worker.once('exit', () => resolve()));
  }

  /** Starts a worker and resolves once it has said `ready`. */
  static spawn(options: WorkerHandleOptions): Promise<WorkerHandle> {
    const workerData: WorkerData = { workerId: options.workerId, config: options.config };
    const worker = new Worker(options.entry ?? WORKER_ENTRY, {
      workerData,
      name: `rtms-worker-${options.workerId}`,
      // A leaking or runaway worker dies alone (ERR_WORKER_OUT_OF_MEMORY) and its streams resume elsewhere.
      resourceLimits: { maxOldGenerationSizeMb: options.config.workerMaxHeapMb },
    });
    const handle = new WorkerHandle(options, worker);
    const readyTimeoutMs = options.readyTimeoutMs ?? 10_000;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        handle.#expectedExit = true;
        void worker.terminate();
        reject(new ConnectorError('WORKER_FAILED', `worker ${options.workerId} not ready within ${readyTimeoutMs} ms`));
      }, readyTimeoutMs);
      const onEarlyExit = (code: number): void => {
        clearTimeout(timer);
        reject(new ConnectorError('WORKER_FAILED', `worker ${options.workerId} exited during start-up (code ${code})`));
      };
      worker.once('exit', onEarlyExit);
      worker.once('error', (error: unknown) =>
        options.logger.error({ workerId: options.workerId, err: describeError(error).message }, 'worker failed during start-up'),
      );
      worker.on('message', function onFirst(message: WorkerToSupervisor) {
        if (message.type !== 'ready') return;
        worker.off('message', onFirst);
        worker.off('exit', onEarlyExit);
        clearTimeout(timer);
        handle.#attach();
        resolve(handle);
      });
    });
  }

  post(message: SupervisorToWorker): void {
    this.#worker.postMessage(message);
  }

  /**
   * The worker's metrics registry. A worker busy past `timeoutMs` gives its previous answer,
   * marked late: leaving it out would make every counter summed across workers drop for one
   * scrape, which Prometheus reads as a reset (docs/metrics.md).
   */
  requestMetrics(timeoutMs: number): Promise<WorkerMetricsAnswer> {
    const requestId = ++this.#metricsRequestId;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#metricsWaiters.delete(requestId);
        resolve({ metrics: this.#lastMetrics, late: true });
      }, timeoutMs);
      this.#metricsWaiters.set(requestId, (metrics) => {
        clearTimeout(timer);
        this.#metricsWaiters.delete(requestId);
        resolve({ metrics, late: false });
      });
      this.post({ type: 'metricsRequest', requestId });
    });
  }

  /** Asks the worker to close its streams, waits up to `timeoutMs`, then terminates it. */
  async shutdown(timeoutMs: number): Promise<void> {
    this.#expectedExit = true;
    this.#exitReason = 'shutdown';
    const complete = new Promise<void>((resolve) => (this.#shutdownComplete = resolve));
    this.post({ type: 'shutdown' });
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
    await Promise.race([complete, timedOut, this.#exited]);
    clearTimeout(timer);
    await this.terminate();
  }

  /** Stops the thread at once. Idempotent. */
  async terminate(): Promise<void> {
    this.#expectedExit = true;
    if (this.#heartbeat) clearInterval(this.#heartbeat);
    await this.#worker.terminate();
    await this.#exited;
  }

  #onMetrics(requestId: number, metrics: WorkerMetricsSnapshot): void {
    // An answer to an older request than the one cached is older figures: never step counters back.
    if (requestId > this.#lastMetricsRequestId) {
      this.#lastMetrics = metrics;
      this.#lastMetricsRequestId = requestId;
    }
    this.#metricsWaiters.get(requestId)?.(metrics);
  }

  #attach(): void {
    const { workerId, onMessage, onExit, logger } = this.#options;
    this.#worker.on('message', (message: WorkerToSupervisor) => {
      if (message.type === 'pong') this.#lastPong = message.sequence;
      else if (message.type === 'metricsResponse') this.#onMetrics(message.requestId, message.metrics);
      else if (message.type === 'shutdownComplete') this.#shutdownComplete?.();
      else onMessage(workerId, message);
    });
    this.#worker.on('error', (error: unknown) => {
      this.#exitReason = 'crashed';
      logger.error({ workerId, err: describeError(error).message }, 'worker crashed');
    });
    this.#worker.once('exit', (exitCode) => {
      if (this.#heartbeat) clearInterval(this.#heartbeat);
      onExit({ workerId, exitCode, expected: this.#expectedExit, reason: this.#exitReason });
    });
    const interval = this.#options.heartbeatIntervalMs ?? 5000;
    this.#heartbeat = setInterval(() => {
      if (this.#pingSequence - this.#lastPong >= 3) {
        logger.error({ workerId }, 'worker missed three heartbeats; replacing it');
        this.#exitReason = 'unresponsive';
        void this.#worker.terminate();
        return;
      }
      this.#pingSequence += 1;
      this.post({ type: 'ping', sequence: this.#pingSequence });
    }, interval);
    this.#heartbeat.unref();
  }
}
