import { EventEmitter } from 'node:events';
import type { Config } from '../config.ts';
import { describeError } from '../errors.ts';
import type { SupervisorToWorker, WorkerToSupervisor } from '../ipc/messages.ts';
import type { Logger } from '../logger.ts';
import { WorkerHandle, type WorkerExit, type WorkerMetricsSnapshot } from './workerHandle.ts';

/** What one scrape got from the workers. */
export interface WorkerMetricsCollection {
  readonly snapshots: WorkerMetricsSnapshot[];
  /** Workers that missed the deadline; each gave its previous answer (or nothing before its first). */
  readonly late: number;
}

/** Respawn delay after a worker died: doubles per consecutive death, capped; ms. */
const RESPAWN_BASE_MS = 250;
const RESPAWN_MAX_MS = 10_000;
/** A worker that lived this long resets the respawn backoff, ms. */
const RESPAWN_RESET_AFTER_MS = 60_000;
/** Consecutive workers that fail to start before the pool stops trying. */
const MAX_START_FAILURES = 5;

export interface WorkerPoolEvents {
  /** A worker (first or replacement) is ready for streams. */
  ready: [number];
  message: [number, WorkerToSupervisor];
  /** A worker is gone; `expected` false when it died on its own. */
  exit: [WorkerExit];
  /** Replacements kept failing to start: the pool stays smaller than configured. */
  respawnFailed: [unknown];
}

/** What the supervisor uses of the pool; tests put a fake pool of the same shape in its place. */
export interface WorkerPoolPort {
  on<K extends keyof WorkerPoolEvents>(event: K, listener: (...args: WorkerPoolEvents[K]) => void): unknown;
  start(): Promise<number>;
  readonly size: number;
  post(workerId: number, message: SupervisorToWorker): boolean;
  collectMetrics(timeoutMs: number): Promise<WorkerMetricsCollection>;
  close(graceMs: number): Promise<void>;
}

/**
 * The worker threads, kept at `WORKER_THREADS`: spawns them, replaces each one that dies
 * (with a backoff, so a worker that keeps dying cannot spin; one replacement per death, even
 * when several die at once) and shuts them down. Where streams go is the supervisor's
 * business (Placement); the pool only knows threads.
 */
export class WorkerPool extends EventEmitter<WorkerPoolEvents> {
  readonly #config: Config;
  readonly #logger: Logger;
  readonly #workerEntry: URL | undefined;
  readonly #handles = new Map<number, WorkerHandle>();
  #nextWorkerId = 1;
  #running = true;
  /** Consecutive unexpected worker deaths (for respawn backoff) and failed start-ups. */
  #deaths = 0;
  #lastDeathAt = 0;
  #startFailures = 0;
  #replenishing = false;

  /** `workerEntry`: a stand-in worker script for tests (WorkerHandleOptions.entry). */
  constructor(options: { readonly config: Config; readonly logger: Logger; readonly workerEntry?: URL }) {
    super();
    this.#config = options.config;
    this.#logger = options.logger;
    this.#workerEntry = options.workerEntry;
  }

  /** Spawns `WORKER_THREADS` workers and waits for each to be ready. */
  async start(): Promise<number> {
    const handles = await Promise.all(Array.from({ length: this.#config.workerThreads }, () => this.#spawn()));
    return handles.length;
  }

  get size(): number {
    return this.#handles.size;
  }

  has(workerId: number): boolean {
    return this.#handles.has(workerId);
  }

  /** Sends to a live worker; false when it is gone. */
  post(workerId: number, message: SupervisorToWorker): boolean {
    const handle = this.#handles.get(workerId);
    handle?.post(message);
    return handle !== undefined;
  }

  /**
   * Every live worker's metrics registry; a worker that does not answer in time gives its
   * previous answer, so its counters never drop. A worker that is gone takes its figures with it.
   */
  async collectMetrics(timeoutMs: number): Promise<WorkerMetricsCollection> {
    const answers = await Promise.all([...this.#handles.values()].map((worker) => worker.requestMetrics(timeoutMs)));
    return {
      snapshots: answers.flatMap((answer) => (answer.metrics === undefined ? [] : [answer.metrics])),
      late: answers.filter((answer) => answer.late).length,
    };
  }

  /** Stops replacing workers and shuts every one down (each closes its streams first). */
  async close(graceMs: number): Promise<void> {
    this.#running = false;
    const handles = [...this.#handles.values()];
    this.#handles.clear();
    await Promise.all(handles.map((worker) => worker.shutdown(graceMs)));
  }

  async #spawn(): Promise<WorkerHandle> {
    const workerId = this.#nextWorkerId++;
    const handle = await WorkerHandle.spawn({
      workerId,
      config: this.#config,
      logger: this.#logger,
      entry: this.#workerEntry,
      onMessage: (id, message) => this.emit('message', id, message),
      onExit: (exit) => this.#onExit(exit),
    });
    if (!this.#running) {
      await handle.terminate();
      throw new Error(`worker ${workerId} started after the pool closed`);
    }
    this.#handles.set(workerId, handle);
    this.emit('ready', workerId);
    return handle;
  }

  #onExit(exit: WorkerExit): void {
    // Only a worker still in the pool counts: one stopped by close() is already out.
    const known = this.#handles.delete(exit.workerId);
    this.emit('exit', exit);
    if (exit.expected || !known || !this.#running) return;
    const now = Date.now();
    this.#deaths = now - this.#lastDeathAt > RESPAWN_RESET_AFTER_MS ? 1 : this.#deaths + 1;
    this.#lastDeathAt = now;
    void this.#replenish(Math.min(RESPAWN_MAX_MS, RESPAWN_BASE_MS * 2 ** (this.#deaths - 1)));
  }

  /** Spawns replacements after `delayMs` until the pool is full again; one loop at a time. */
  async #replenish(delayMs: number): Promise<void> {
    if (this.#replenishing) return;
    this.#replenishing = true;
    try {
      while (this.#running && this.#handles.size < this.#config.workerThreads) {
        await new Promise((resolve) => setTimeout(resolve, delayMs));
        if (!this.#running) return;
        try {
          await this.#spawn();
          this.#startFailures = 0;
        } catch (error) {
          if (!this.#running) return;
          this.#startFailures += 1;
          this.#logger.error({ err: describeError(error), startFailures: this.#startFailures }, 'replacement worker failed to start');
          if (this.#startFailures >= MAX_START_FAILURES) {
            this.emit('respawnFailed', error);
            return;
          }
          delayMs = Math.min(RESPAWN_MAX_MS, delayMs * 2);
        }
      }
    } finally {
      this.#replenishing = false;
    }
  }
}
