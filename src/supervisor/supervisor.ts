import { EventEmitter } from 'node:events';
import type { Config } from '../config.ts';
import { describeError } from '../errors.ts';
import type { WebhookEvent } from '../http/webhookEvent.ts';
import type { WorkerToSupervisor } from '../ipc/messages.ts';
import type { Logger } from '../logger.ts';
import type { StreamStart } from '../rtms/products.ts';
import { TERMINAL_STATES, type StreamState } from '../worker/streamStateMachine.ts';
import type { StreamStats } from '../worker/streamStats.ts';
import { WorkerHandle, type WorkerExit, type WorkerMetricsSnapshot } from './workerHandle.ts';

/** Finished streams kept for `GET /streams/{id}` after they end. */
const FINISHED_HISTORY = 1000;
/** Respawn delay after a worker died: doubles per consecutive death, capped; ms. */
const RESPAWN_BASE_MS = 250;
const RESPAWN_MAX_MS = 10_000;
/** A worker that lived this long resets the respawn backoff, ms. */
const RESPAWN_RESET_AFTER_MS = 60_000;
/** Consecutive workers that fail to start before the supervisor stops trying. */
const MAX_START_FAILURES = 5;

interface StreamRecord {
  start: StreamStart;
  workerId: number;
  stats: StreamStats;
}

export interface SupervisorEvents {
  /** A stream changed state (also emitted for `idle` on admission and `rejected`). */
  streamState: [{ rtmsStreamId: string; product: StreamStart['product']; from: StreamState | undefined; to: StreamState; reason: string | undefined }];
  /** A stream reached a terminal state; its slot is free. */
  streamFinished: [StreamStats];
  /** Fresh per-stream statistics from a worker. */
  stats: [readonly StreamStats[]];
  workerExit: [WorkerExit];
  /** Zoom's account-level concurrency webhooks. */
  zoomConcurrency: [{ limited: boolean; concurrencyNumber: number; concurrencyLimit: number | undefined }];
}

export interface SupervisorOptions {
  readonly config: Config;
  readonly logger: Logger;
}

/**
 * Owns the stream registry visible to operators, admits streams against `MAX_STREAMS`
 * synchronously (a stream is admitted or `rejected`, never half-started), places each on the
 * least-loaded worker, and routes Zoom's lifecycle webhooks to the worker that hosts the
 * stream.
 */
export class Supervisor extends EventEmitter<SupervisorEvents> {
  readonly #config: Config;
  readonly #logger: Logger;
  readonly #workers = new Map<number, WorkerHandle>();
  readonly #streams = new Map<string, StreamRecord>();
  readonly #finished = new Map<string, StreamStats>();
  #nextWorkerId = 1;
  #accepting = true;
  /** Consecutive unexpected worker deaths (for respawn backoff) and failed start-ups. */
  #deaths = 0;
  #lastDeathAt = 0;
  #startFailures = 0;
  #respawning: Promise<void> | undefined;
  #closing: Promise<void> | undefined;

  constructor(options: SupervisorOptions) {
    super();
    this.#config = options.config;
    this.#logger = options.logger.child({ component: 'supervisor' });
  }

  /** Spawns `WORKER_THREADS` workers and waits for each to be ready. */
  async start(): Promise<void> {
    const handles = await Promise.all(Array.from({ length: this.#config.workerThreads }, () => this.#spawnWorker()));
    this.#logger.info({ workers: handles.length, maxStreams: this.#config.maxStreams }, 'supervisor started');
  }

  get capacity(): number {
    return this.#config.maxStreams;
  }

  get activeStreams(): number {
    return this.#streams.size;
  }

  get workerCount(): number {
    return this.#workers.size;
  }

  /** Ready = accepting streams with at least one live worker. */
  get isReady(): boolean {
    return this.#accepting && this.#workers.size > 0;
  }

  /** Acts on a verified webhook. Synchronous: the HTTP answer has already been sent. */
  handleWebhook(event: WebhookEvent): void {
    switch (event.kind) {
      case 'started':
        this.#onStarted(event.start);
        return;
      case 'interrupted':
        this.#forward(event.rtmsStreamId, event.event, (record) => ({ type: 'interruptStream', rtmsStreamId: record.start.rtmsStreamId }));
        return;
      case 'stopped':
        this.#forward(event.rtmsStreamId, event.event, (record) => ({
          type: 'stopStream',
          rtmsStreamId: record.start.rtmsStreamId,
          stopReason: event.stopReason,
        }));
        return;
      case 'concurrencyNearLimit':
        this.emit('zoomConcurrency', { limited: false, concurrencyNumber: event.concurrencyNumber, concurrencyLimit: event.concurrencyLimit });
        this.#logger.warn(
          { concurrencyLimit: event.concurrencyLimit, concurrencyNumber: event.concurrencyNumber, percentage: event.percentage },
          'Zoom account is near its RTMS concurrency limit',
        );
        return;
      case 'concurrencyLimited':
        this.emit('zoomConcurrency', { limited: true, concurrencyNumber: event.concurrencyNumber, concurrencyLimit: undefined });
        this.#logger.error({ concurrencyNumber: event.concurrencyNumber }, 'Zoom account hit its RTMS concurrency limit; a stream could not start');
        return;
      case 'urlValidation':
        return;
      default: {
        const unknown: never = event;
        this.#logger.error({ event: unknown }, 'unhandled webhook kind');
      }
    }
  }

  list(): StreamStats[] {
    return [...this.#streams.values()].map((record) => record.stats);
  }

  get(rtmsStreamId: string): StreamStats | undefined {
    return this.#streams.get(rtmsStreamId)?.stats ?? this.#finished.get(rtmsStreamId);
  }

  /** Asks Zoom to close the stream; false when it is not active here. */
  closeStream(rtmsStreamId: string): boolean {
    const record = this.#streams.get(rtmsStreamId);
    if (record === undefined) return false;
    this.#workers.get(record.workerId)?.post({ type: 'closeStream', rtmsStreamId });
    return true;
  }

  /** Every live worker's metrics registry; a worker that does not answer in time is left out. */
  async collectWorkerMetrics(timeoutMs = 1000): Promise<WorkerMetricsSnapshot[]> {
    const snapshots = await Promise.all([...this.#workers.values()].map((worker) => worker.requestMetrics(timeoutMs)));
    return snapshots.filter((snapshot) => snapshot !== undefined);
  }

  /** Excludes a participant from capture from now on; false when the stream is not active here. */
  excludeParticipant(rtmsStreamId: string, userId: string): boolean {
    const record = this.#streams.get(rtmsStreamId);
    if (record === undefined) return false;
    this.#workers.get(record.workerId)?.post({ type: 'excludeParticipant', rtmsStreamId, userId });
    return true;
  }

  /** Stops admitting, closes every stream (STREAM_CLOSE) and stops the workers. Idempotent. */
  close(graceMs: number = this.#config.shutdownGraceMs): Promise<void> {
    this.#closing ??= (async () => {
      this.#accepting = false;
      const workers = [...this.#workers.values()];
      this.#workers.clear();
      await Promise.all(workers.map((worker) => worker.shutdown(graceMs)));
      this.#logger.info('supervisor closed');
    })();
    return this.#closing;
  }

  #onStarted(start: StreamStart): void {
    const existing = this.#streams.get(start.rtmsStreamId);
    if (existing !== undefined) {
      // Webhooks can arrive out of order (Zoom retries 5 to 60 min later): an announcement
      // older than the one we act on must not move the stream back to a previous server.
      if (start.eventTs < existing.start.eventTs) {
        this.#logger.info({ rtmsStreamId: start.rtmsStreamId, eventTs: start.eventTs, currentEventTs: existing.start.eventTs }, 'stale rtms_started (older event_ts); ignored');
        return;
      }
      // Zoom's "server failure" scenario: the same stream announced again, usually with new URLs.
      const urlsChanged = existing.start.serverUrls !== start.serverUrls;
      if (!urlsChanged && existing.stats.state !== 'waitingReconnect') {
        this.#logger.info({ rtmsStreamId: start.rtmsStreamId, state: existing.stats.state }, 'rtms_started for a healthy stream with the same server_urls; ignored');
        return;
      }
      existing.start = start;
      this.#logger.info({ rtmsStreamId: start.rtmsStreamId, urlsChanged }, 'rtms_started for an active stream: failover');
      this.#workers.get(existing.workerId)?.post({ type: 'failoverStream', start });
      return;
    }
    const refusal = this.#admissionRefusal();
    if (refusal !== undefined) {
      this.#reject(start, refusal);
      return;
    }
    const worker = this.#leastLoadedWorker();
    if (worker === undefined) {
      this.#reject(start, 'no_worker');
      return;
    }
    const stats = initialStats(start, 'idle');
    this.#streams.set(start.rtmsStreamId, { start, workerId: worker.workerId, stats });
    this.#finished.delete(start.rtmsStreamId);
    this.emit('streamState', { rtmsStreamId: start.rtmsStreamId, product: start.product, from: undefined, to: 'idle', reason: 'admitted' });
    worker.post({ type: 'startStream', start });
  }

  #admissionRefusal(): string | undefined {
    if (!this.#accepting) return 'shutting_down';
    if (this.#streams.size >= this.#config.maxStreams) return 'max_streams';
    return undefined;
  }

  #reject(start: StreamStart, reason: string): void {
    this.#logger.warn({ rtmsStreamId: start.rtmsStreamId, product: start.product, reason, maxStreams: this.#config.maxStreams }, 'stream rejected');
    const stats = { ...initialStats(start, 'rejected'), failure: reason, endedAt: Date.now() };
    this.#remember(stats);
    this.emit('streamState', { rtmsStreamId: start.rtmsStreamId, product: start.product, from: undefined, to: 'rejected', reason });
    this.emit('streamFinished', stats);
  }

  #forward(rtmsStreamId: string, eventName: string, message: (record: StreamRecord) => Parameters<WorkerHandle['post']>[0]): void {
    const record = this.#streams.get(rtmsStreamId);
    if (record === undefined) {
      this.#logger.info({ rtmsStreamId, event: eventName }, 'webhook for a stream not active here; ignored');
      return;
    }
    this.#workers.get(record.workerId)?.post(message(record));
  }

  #leastLoadedWorker(): WorkerHandle | undefined {
    const load = new Map<number, number>([...this.#workers.keys()].map((id) => [id, 0]));
    for (const record of this.#streams.values()) load.set(record.workerId, (load.get(record.workerId) ?? 0) + 1);
    let best: WorkerHandle | undefined;
    let bestLoad = Number.POSITIVE_INFINITY;
    for (const [id, count] of load) {
      if (count < bestLoad) {
        best = this.#workers.get(id);
        bestLoad = count;
      }
    }
    return best;
  }

  #onWorkerMessage(workerId: number, message: WorkerToSupervisor): void {
    switch (message.type) {
      case 'streamState': {
        const record = this.#streams.get(message.rtmsStreamId);
        if (record === undefined) return;
        record.stats = { ...record.stats, state: message.to };
        this.emit('streamState', { rtmsStreamId: message.rtmsStreamId, product: record.start.product, from: message.from, to: message.to, reason: message.reason });
        return;
      }
      case 'stats':
        for (const stats of message.streams) {
          const record = this.#streams.get(stats.rtmsStreamId);
          // Terminal states arrive only with streamFinished, after the files are final.
          if (record !== undefined && !TERMINAL_STATES.has(stats.state)) record.stats = stats;
        }
        this.emit('stats', message.streams);
        return;
      case 'streamFinished': {
        const record = this.#streams.get(message.rtmsStreamId);
        this.#streams.delete(message.rtmsStreamId);
        this.#remember(message.stats);
        this.emit('streamState', {
          rtmsStreamId: message.rtmsStreamId,
          product: message.stats.product,
          from: record?.stats.state,
          to: message.stats.state,
          reason: message.stats.failure ?? message.stats.stopReasonName,
        });
        this.emit('stats', [message.stats]);
        this.emit('streamFinished', message.stats);
        return;
      }
      case 'ready':
      case 'pong':
      case 'metricsResponse':
      case 'shutdownComplete':
        return;
      default: {
        const unknown: never = message;
        this.#logger.error({ workerId, message: unknown }, 'unknown worker message');
      }
    }
  }

  #remember(stats: StreamStats): void {
    this.#finished.delete(stats.rtmsStreamId);
    this.#finished.set(stats.rtmsStreamId, stats);
    if (this.#finished.size > FINISHED_HISTORY) {
      const oldest = this.#finished.keys().next().value;
      if (oldest !== undefined) this.#finished.delete(oldest);
    }
  }

  async #spawnWorker(): Promise<WorkerHandle> {
    const workerId = this.#nextWorkerId++;
    const handle = await WorkerHandle.spawn({
      workerId,
      config: this.#config,
      logger: this.#logger,
      onMessage: (id, message) => this.#onWorkerMessage(id, message),
      onExit: (exit) => this.#onWorkerExit(exit),
    });
    this.#workers.set(workerId, handle);
    return handle;
  }

  #onWorkerExit(exit: WorkerExit): void {
    this.#workers.delete(exit.workerId);
    this.emit('workerExit', exit);
    if (exit.expected) return;
    this.#logger.error({ workerId: exit.workerId, exitCode: exit.exitCode, reason: exit.reason }, 'worker exited unexpectedly');
    const orphans = [...this.#streams.values()].filter((record) => record.workerId === exit.workerId);
    if (!this.#accepting) {
      for (const record of orphans) this.#failOrphan(record, `worker ${exit.reason} during shutdown`);
      return;
    }
    const now = Date.now();
    this.#deaths = now - this.#lastDeathAt > RESPAWN_RESET_AFTER_MS ? 1 : this.#deaths + 1;
    this.#lastDeathAt = now;
    // Zoom keeps a stream 60 s for a rejoin: resume orphans at once where there is room, and
    // replace the worker with a backoff so a worker that keeps dying cannot spin.
    const resumeOrphans = (): void => {
      for (const record of orphans) this.#resume(record, `worker_${exit.reason}`);
    };
    if (this.#workers.size > 0) resumeOrphans();
    const delay = Math.min(RESPAWN_MAX_MS, RESPAWN_BASE_MS * 2 ** (this.#deaths - 1));
    this.#respawn(delay).then(
      () => {
        if (this.#workers.size > 0 && orphans.some((record) => this.#streams.get(record.start.rtmsStreamId)?.workerId === exit.workerId)) resumeOrphans();
      },
      (error: unknown) => {
        this.#logger.error({ err: describeError(error) }, 'could not replace worker');
        for (const record of orphans) if (this.#streams.get(record.start.rtmsStreamId)?.workerId === exit.workerId) this.#failOrphan(record, 'no worker to resume on');
      },
    );
  }

  /** Spawns a replacement after `delayMs`; gives up after repeated start-up failures. */
  #respawn(delayMs: number): Promise<void> {
    this.#respawning ??= (async () => {
      try {
        while (this.#accepting) {
          await new Promise((resolve) => setTimeout(resolve, delayMs));
          try {
            await this.#spawnWorker();
            this.#startFailures = 0;
            return;
          } catch (error) {
            this.#startFailures += 1;
            this.#logger.error({ err: describeError(error), startFailures: this.#startFailures }, 'replacement worker failed to start');
            if (this.#startFailures >= MAX_START_FAILURES) throw error;
            delayMs = Math.min(RESPAWN_MAX_MS, delayMs * 2);
          }
        }
      } finally {
        this.#respawning = undefined;
      }
    })();
    return this.#respawning;
  }

  /** Restarts a stream whose worker died on the least-loaded live worker, from its stored start. */
  #resume(record: StreamRecord, reason: string): void {
    const worker = this.#leastLoadedWorker();
    if (worker === undefined) return;
    const previous = record.stats;
    record.workerId = worker.workerId;
    this.#logger.warn({ rtmsStreamId: record.start.rtmsStreamId, workerId: worker.workerId, reason }, 'resuming stream on another worker');
    worker.post({ type: 'startStream', start: record.start, resume: { previous, reason } });
  }

  #failOrphan(record: StreamRecord, failure: string): void {
    const rtmsStreamId = record.start.rtmsStreamId;
    this.#streams.delete(rtmsStreamId);
    const stats: StreamStats = { ...record.stats, state: 'failed', failure, endedAt: Date.now() };
    this.#remember(stats);
    this.emit('streamState', { rtmsStreamId, product: record.start.product, from: record.stats.state, to: 'failed', reason: failure });
    this.emit('streamFinished', stats);
  }
}

function initialStats(start: StreamStart, state: StreamState): StreamStats {
  return {
    rtmsStreamId: start.rtmsStreamId,
    product: start.product,
    entityId: start.entityId,
    state,
    createdAt: Date.now(),
    liveAt: undefined,
    endedAt: undefined,
    stopReason: undefined,
    stopReasonName: undefined,
    failure: undefined,
    reconnects: 0,
    rejoins: {},
    bufferedBytes: 0,
    media: {},
    audioSeconds: 0,
    participants: [],
    files: [],
  };
}
