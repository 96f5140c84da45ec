import { EventEmitter } from 'node:events';
import type { Config, MediaKind } from '../config.ts';
import { describeError } from '../errors.ts';
import type { WebhookEvent } from '../http/webhookEvent.ts';
import type { WorkerToSupervisor } from '../ipc/messages.ts';
import type { Logger } from '../logger.ts';
import type { StreamStart } from '../rtms/products.ts';
import { recordRejection } from '../sinks/rejectionRecord.ts';
import { TERMINAL_STATES, type StreamState } from '../worker/streamStateMachine.ts';
import type { LiveBatch } from '../worker/liveTap.ts';
import { initialStreamStats, type StreamStats } from '../worker/streamStats.ts';
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
  /** Live consumers' subscriptions (id → media kinds), re-sent if the stream moves to another worker. */
  live?: Map<number, readonly MediaKind[]>;
  /** Participants excluded from capture; applied again when the stream resumes elsewhere. */
  readonly excluded: Set<string>;
  /** Set while the stream is being let go without STREAM_CLOSE (`release()`): why. */
  releasing: string | undefined;
  /** Resolved with the final statistics once the worker reports the stream finished. */
  readonly finishWaiters: Array<(stats: StreamStats) => void>;
}

/**
 * Multi-replica mode: confirms that this replica still owns a stream (its lease and fencing
 * token are current) before the supervisor (re)connects it on its own initiative, e.g. to
 * resume it after a worker crash. Resolves false when another replica owns it now.
 */
export interface LeaseGuard {
  confirm(rtmsStreamId: string): Promise<boolean>;
}

/** `Supervisor.startStream()` options. */
export interface StartStreamOptions {
  /** The stream ran before (on another replica): its accounting carries over, the join counts as a rejoin. */
  readonly resume?: { readonly previous: StreamStats; readonly reason: string };
  /** Participants to keep excluded from capture. */
  readonly excluded?: Iterable<string>;
}

/** Longest wait for a worker to let go of a stream in `release()`, ms. */
const RELEASE_TIMEOUT_MS = 10_000;

export interface SupervisorEvents {
  /** A stream changed state (also emitted for `idle` on admission and `rejected`). */
  streamState: [{ rtmsStreamId: string; product: StreamStart['product']; from: StreamState | undefined; to: StreamState; reason: string | undefined }];
  /** A stream reached a terminal state; its slot is free. */
  streamFinished: [StreamStats];
  /** Fresh per-stream statistics from a worker. */
  stats: [readonly StreamStats[]];
  workerExit: [WorkerExit];
  /** Frames and events for live consumers of one stream. */
  liveBatch: [LiveBatch];
  /** Zoom's account-level concurrency webhooks. */
  zoomConcurrency: [{ limited: boolean; concurrencyNumber: number; concurrencyLimit: number | undefined }];
}

export interface SupervisorOptions {
  readonly config: Config;
  readonly logger: Logger;
  /** Multi-replica mode only; without it every decision is local and synchronous. */
  readonly leaseGuard?: LeaseGuard | undefined;
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
  readonly #leaseGuard: LeaseGuard | undefined;
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
    this.#leaseGuard = options.leaseGuard;
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

  /** Streams this instance could still admit now (0 while shutting down). */
  get freeSlots(): number {
    return this.#accepting ? Math.max(0, this.#config.maxStreams - this.#streams.size) : 0;
  }

  /** Whether the stream is active here (admitted and not finished). */
  has(rtmsStreamId: string): boolean {
    return this.#streams.has(rtmsStreamId);
  }

  /** Ids of the streams active here. */
  activeIds(): string[] {
    return [...this.#streams.keys()];
  }

  /** What another replica needs to resume an active stream: its start, latest statistics and exclusions. */
  streamInfo(rtmsStreamId: string): { start: StreamStart; stats: StreamStats; excluded: string[] } | undefined {
    const record = this.#streams.get(rtmsStreamId);
    return record === undefined ? undefined : { start: record.start, stats: record.stats, excluded: [...record.excluded] };
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
        this.interrupt(event.rtmsStreamId, event.eventTs, event.event);
        return;
      case 'stopped':
        this.stop(event.rtmsStreamId, event.stopReason, event.event);
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

  /**
   * Admits a stream and starts it on the least-loaded worker, without a webhook (multi-replica
   * mode: this replica won its lease). Returns the refusal (`max_streams`, `shutting_down`,
   * `no_worker`, `already_active`) without emitting `rejected`: the caller decides what a
   * refusal means, e.g. leaving the stream to another replica.
   */
  startStream(start: StreamStart, options: StartStreamOptions = {}): string | undefined {
    if (this.#streams.has(start.rtmsStreamId)) return 'already_active';
    const refusal = this.#admissionRefusal();
    if (refusal !== undefined) return refusal;
    const worker = this.#leastLoadedWorker();
    if (worker === undefined) return 'no_worker';
    this.#admit(start, worker, options);
    return undefined;
  }

  /**
   * A new `rtms_started` for an active stream: Zoom's server failover (new `server_urls`)
   * or a retry. Stale announcements and retries for a healthy stream are ignored. False when
   * the stream is not active here.
   */
  failover(start: StreamStart): boolean {
    const existing = this.#streams.get(start.rtmsStreamId);
    if (existing === undefined) return false;
    // Webhooks can arrive out of order (Zoom retries 5 to 60 min later): an announcement
    // older than the one we act on must not move the stream back to a previous server.
    if (start.eventTs < existing.start.eventTs) {
      this.#logger.info({ rtmsStreamId: start.rtmsStreamId, eventTs: start.eventTs, currentEventTs: existing.start.eventTs }, 'stale rtms_started (older event_ts); ignored');
      return true;
    }
    // Zoom's "server failure" scenario: the same stream announced again, usually with new URLs.
    const urlsChanged = existing.start.serverUrls !== start.serverUrls;
    if (!urlsChanged && existing.stats.state !== 'waitingReconnect') {
      this.#logger.info({ rtmsStreamId: start.rtmsStreamId, state: existing.stats.state }, 'rtms_started for a healthy stream with the same server_urls; ignored');
      return true;
    }
    existing.start = start;
    this.#logger.info({ rtmsStreamId: start.rtmsStreamId, urlsChanged }, 'rtms_started for an active stream: failover');
    this.#workers.get(existing.workerId)?.post({ type: 'failoverStream', start });
    return true;
  }

  /** `*.rtms_interrupted`: rejoin signaling and media. False when the stream is not active here. */
  interrupt(rtmsStreamId: string, eventTs: number, eventName = 'rtms_interrupted'): boolean {
    return this.#forward(rtmsStreamId, eventName, (record) => ({ type: 'interruptStream', rtmsStreamId: record.start.rtmsStreamId, eventTs }));
  }

  /** `*.rtms_stopped`: the stream is over. False when it is not active here. */
  stop(rtmsStreamId: string, stopReason: number, eventName = 'rtms_stopped'): boolean {
    return this.#forward(rtmsStreamId, eventName, (record) => ({ type: 'stopStream', rtmsStreamId: record.start.rtmsStreamId, stopReason }));
  }

  /**
   * Lets go of the stream without STREAM_CLOSE (multi-replica hand-off or lost lease): the
   * worker closes its sockets and finalizes the output, and Zoom keeps the stream for another
   * replica to rejoin. Resolves with the final statistics (undefined when it was not active).
   */
  release(rtmsStreamId: string, reason: string): Promise<StreamStats | undefined> {
    const record = this.#streams.get(rtmsStreamId);
    if (record === undefined) return Promise.resolve(undefined);
    record.releasing ??= reason;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        // The worker did not answer: forget the stream here so nothing reconnects it.
        if (this.#streams.get(rtmsStreamId) === record) this.#failOrphan(record, `release timed out (${reason})`);
      }, RELEASE_TIMEOUT_MS);
      timer.unref();
      record.finishWaiters.push((stats) => {
        clearTimeout(timer);
        resolve(stats);
      });
      this.#workers.get(record.workerId)?.post({ type: 'releaseStream', rtmsStreamId, reason });
    });
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

  /** Starts sending the stream's events and `kinds` frames as `liveBatch` events; false when not active here. */
  subscribeLive(rtmsStreamId: string, subscriptionId: number, kinds: readonly MediaKind[]): boolean {
    const record = this.#streams.get(rtmsStreamId);
    if (record === undefined) return false;
    (record.live ??= new Map()).set(subscriptionId, kinds);
    this.#workers.get(record.workerId)?.post({ type: 'liveSubscribe', rtmsStreamId, subscriptionId, kinds });
    return true;
  }

  unsubscribeLive(rtmsStreamId: string, subscriptionId: number): void {
    const record = this.#streams.get(rtmsStreamId);
    if (record?.live?.delete(subscriptionId)) this.#workers.get(record.workerId)?.post({ type: 'liveUnsubscribe', rtmsStreamId, subscriptionId });
  }

  /** Excludes a participant from capture from now on; false when the stream is not active here. */
  excludeParticipant(rtmsStreamId: string, userId: string): boolean {
    const record = this.#streams.get(rtmsStreamId);
    if (record === undefined) return false;
    record.excluded.add(userId);
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
    if (this.failover(start)) return;
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
    this.#admit(start, worker, {});
  }

  #admit(start: StreamStart, worker: WorkerHandle, options: StartStreamOptions): void {
    const resume = options.resume;
    const stats: StreamStats =
      resume === undefined
        ? initialStreamStats(start, 'idle')
        : { ...resume.previous, state: 'idle', endedAt: undefined, failure: undefined, stopReason: undefined, stopReasonName: undefined };
    const excluded = new Set(options.excluded ?? []);
    this.#streams.set(start.rtmsStreamId, { start, workerId: worker.workerId, stats, excluded, releasing: undefined, finishWaiters: [] });
    this.#finished.delete(start.rtmsStreamId);
    this.emit('streamState', { rtmsStreamId: start.rtmsStreamId, product: start.product, from: undefined, to: 'idle', reason: resume === undefined ? 'admitted' : resume.reason });
    worker.post(resume === undefined ? { type: 'startStream', start } : { type: 'startStream', start, resume });
    // The worker handles messages in order: exclusions apply before the first frame arrives.
    for (const userId of excluded) worker.post({ type: 'excludeParticipant', rtmsStreamId: start.rtmsStreamId, userId });
  }

  #admissionRefusal(): string | undefined {
    if (!this.#accepting) return 'shutting_down';
    if (this.#streams.size >= this.#config.maxStreams) return 'max_streams';
    return undefined;
  }

  #reject(start: StreamStart, reason: string): void {
    this.#logger.warn({ rtmsStreamId: start.rtmsStreamId, product: start.product, reason, maxStreams: this.#config.maxStreams }, 'stream rejected');
    const stats = { ...initialStreamStats(start, 'rejected'), failure: reason, endedAt: Date.now() };
    this.#remember(stats);
    recordRejection({ outputDir: this.#config.outputDir, start, reason, at: stats.endedAt }).catch((error: unknown) =>
      this.#logger.error({ rtmsStreamId: start.rtmsStreamId, err: describeError(error) }, 'could not record the rejection in the output directory'),
    );
    this.emit('streamState', { rtmsStreamId: start.rtmsStreamId, product: start.product, from: undefined, to: 'rejected', reason });
    this.emit('streamFinished', stats);
  }

  #forward(rtmsStreamId: string, eventName: string, message: (record: StreamRecord) => Parameters<WorkerHandle['post']>[0]): boolean {
    const record = this.#streams.get(rtmsStreamId);
    if (record === undefined) {
      this.#logger.info({ rtmsStreamId, event: eventName }, 'webhook for a stream not active here; ignored');
      return false;
    }
    this.#workers.get(record.workerId)?.post(message(record));
    return true;
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
          reason: message.stats.failure ?? message.stats.stopReasonName ?? record?.releasing,
        });
        this.emit('stats', [message.stats]);
        this.emit('streamFinished', message.stats);
        for (const resolve of record?.finishWaiters.splice(0) ?? []) resolve(message.stats);
        return;
      }
      case 'liveBatch':
        this.emit('liveBatch', message);
        return;
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
    // Kept for GET /streams/{id} after the end: counts only, so each entry stays small.
    this.#finished.set(stats.rtmsStreamId, { ...stats, participants: [] });
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
    // A stream being let go must not be reconnected here: it is over for this replica.
    for (const record of orphans) if (record.releasing !== undefined) this.#failOrphan(record, `worker ${exit.reason} while releasing`);
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
      for (const record of orphans) if (record.releasing === undefined) this.#resume(record, `worker_${exit.reason}`);
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

  /**
   * Restarts a stream whose worker died on the least-loaded live worker, from its stored start.
   * In multi-replica mode the lease is confirmed first (a fenced decision): a stream another
   * replica owns by now is dropped here instead of reconnected.
   */
  #resume(record: StreamRecord, reason: string): void {
    const worker = this.#leastLoadedWorker();
    if (worker === undefined) return;
    const previous = record.stats;
    const rtmsStreamId = record.start.rtmsStreamId;
    record.workerId = worker.workerId;
    const post = (): void => {
      this.#logger.warn({ rtmsStreamId, workerId: worker.workerId, reason }, 'resuming stream on another worker');
      worker.post({ type: 'startStream', start: record.start, resume: { previous, reason } });
      for (const userId of record.excluded) worker.post({ type: 'excludeParticipant', rtmsStreamId, userId });
      for (const [subscriptionId, kinds] of record.live ?? []) {
        worker.post({ type: 'liveSubscribe', rtmsStreamId, subscriptionId, kinds });
      }
    };
    const guard = this.#leaseGuard;
    if (guard === undefined) {
      post();
      return;
    }
    guard.confirm(rtmsStreamId).then(
      (owned) => {
        // Meanwhile the stream may have finished or been released, or its new worker died too.
        if (this.#streams.get(rtmsStreamId) !== record || record.workerId !== worker.workerId || record.releasing !== undefined) return;
        if (!this.#workers.has(worker.workerId)) return;
        if (owned) post();
        else this.#failOrphan(record, 'lease lost');
      },
      (error: unknown) => {
        this.#logger.error({ rtmsStreamId, err: describeError(error) }, 'lease check failed; not resuming');
        if (this.#streams.get(rtmsStreamId) === record) this.#failOrphan(record, 'lease check failed');
      },
    );
  }

  #failOrphan(record: StreamRecord, failure: string): void {
    const rtmsStreamId = record.start.rtmsStreamId;
    this.#streams.delete(rtmsStreamId);
    const stats: StreamStats = { ...record.stats, state: 'failed', failure, endedAt: Date.now() };
    this.#remember(stats);
    this.emit('streamState', { rtmsStreamId, product: record.start.product, from: record.stats.state, to: 'failed', reason: failure });
    this.emit('streamFinished', stats);
    for (const resolve of record.finishWaiters.splice(0)) resolve(stats);
  }
}

