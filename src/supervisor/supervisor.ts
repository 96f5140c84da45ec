import { EventEmitter } from 'node:events';
import type { Config } from '../config.ts';
import type { MediaKind } from '../vocabulary/mediaKind.ts';
import { describeError } from '../errors.ts';
import type { WebhookEvent } from '../http/webhookEvent.ts';
import type { SupervisorToWorker, WorkerToSupervisor } from '../ipc/messages.ts';
import type { Logger } from '../logger.ts';
import type { StreamStart } from '../rtms/products.ts';
import { recordRejection } from '../sinks/rejectionRecord.ts';
import { initialStreamStats, type StreamStats } from '../vocabulary/streamStats.ts';
import { OrphanRecovery } from './orphanRecovery.ts';
import { FinishedHistory } from './finishedHistory.ts';
import { Placement } from './placement.ts';
import { isServerFailover } from './serverFailover.ts';
import { newStreamRecord, startMessages, type StreamRecord } from './streamRecord.ts';
import type { StartStreamOptions, SupervisorEvents, SupervisorOptions } from './supervisorTypes.ts';
import { dispatchWebhook } from './webhookDispatch.ts';
import { applyWorkerReport } from './workerReports.ts';
import { WorkerPool, type WorkerMetricsCollection, type WorkerPoolPort } from './workerPool.ts';
import type { StreamRefusal } from '../vocabulary/reasons.ts';

export type { LeaseGuard } from './streamRecord.ts';
export type { StartStreamOptions, SupervisorEvents, SupervisorOptions } from './supervisorTypes.ts';

/** Longest wait for a worker to let go of a stream in `release()`, ms. */
const RELEASE_TIMEOUT_MS = 10_000;

/**
 * Owns the stream registry visible to operators, admits streams against `MAX_STREAMS`
 * synchronously (a stream is admitted or `rejected`, never half-started), places each on the
 * least-loaded worker, and routes Zoom's lifecycle webhooks to the worker that hosts the
 * stream.
 */
export class Supervisor extends EventEmitter<SupervisorEvents> {
  readonly #config: Config;
  readonly #logger: Logger;
  readonly #pool: WorkerPoolPort;
  readonly #placement = new Placement();
  readonly #orphans: OrphanRecovery;
  readonly #streams = new Map<string, StreamRecord>();
  readonly #finished = new FinishedHistory();
  #accepting = true;
  #closing: Promise<void> | undefined;

  constructor(options: SupervisorOptions) {
    super();
    this.#config = options.config;
    this.#logger = options.logger.child({ component: 'supervisor' });
    this.#pool = options.pool ?? new WorkerPool({ config: this.#config, logger: this.#logger });
    this.#pool.on('ready', (workerId) => this.#onWorkerReady(workerId));
    this.#pool.on('message', (workerId, message) => this.#onWorkerMessage(workerId, message));
    this.#orphans = new OrphanRecovery({
      placement: this.#placement,
      logger: this.#logger,
      leaseGuard: options.leaseGuard,
      record: (id) => this.#streams.get(id),
      accepting: () => this.#accepting,
      postStart: (record, workerId, previous) => this.#postStart(record, workerId, previous),
      fail: (record, failure) => this.#failOrphan(record, failure),
      waiting: (record) => {
        const from = record.stats.state;
        record.stats = { ...record.stats, state: 'waitingReconnect' };
        this.emit('streamState', {
          rtmsStreamId: record.start.rtmsStreamId,
          product: record.start.product,
          from,
          to: 'waitingReconnect',
          reason: record.resumeReason,
        });
      },
    });
    this.#pool.on('exit', (exit) => {
      this.#orphans.workerExited(exit);
      this.emit('workerExit', exit);
    });
    this.#pool.on('respawnFailed', (error) => this.#orphans.respawnFailed(error));
  }

  /** Spawns `WORKER_THREADS` workers and waits for each to be ready. */
  async start(): Promise<void> {
    const workers = await this.#pool.start();
    this.#logger.info({ workers, maxStreams: this.#config.maxStreams }, 'supervisor started');
  }

  get capacity(): number {
    return this.#config.maxStreams;
  }

  get activeStreams(): number {
    return this.#streams.size;
  }

  get workerCount(): number {
    return this.#pool.size;
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
    return this.#accepting && this.#placement.workerCount > 0;
  }

  /** Acts on a verified webhook. Synchronous: the HTTP answer has already been sent. */
  handleWebhook(event: WebhookEvent): void {
    dispatchWebhook(event, {
      started: (start) => this.#onStarted(start),
      interrupt: (id, eventTs, name) => this.interrupt(id, eventTs, name),
      stop: (id, stopReason, name) => this.stop(id, stopReason, name),
      zoomConcurrency: (state) => this.emit('zoomConcurrency', state),
      logger: this.#logger,
    });
  }

  /**
   * Admits a stream and starts it on the least-loaded worker, without a webhook (multi-replica
   * mode: this replica won its lease). Returns the refusal (`max_streams`, `shutting_down`,
   * `no_worker`, `already_active`) without emitting `rejected`: the caller decides what a
   * refusal means, e.g. leaving the stream to another replica.
   */
  startStream(start: StreamStart, options: StartStreamOptions = {}): StreamRefusal | undefined {
    if (this.#streams.has(start.rtmsStreamId)) return 'already_active';
    const refusal = this.#admissionRefusal();
    if (refusal !== undefined) return refusal;
    if (this.#placement.workerCount === 0) return 'no_worker';
    this.#admit(start, options);
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
    if (!isServerFailover(existing, start, this.#logger)) return true;
    const urlsChanged = existing.start.serverUrls !== start.serverUrls;
    existing.start = start;
    this.#logger.info({ rtmsStreamId: start.rtmsStreamId, urlsChanged }, 'rtms_started for an active stream: failover');
    // A stream between workers resumes with the new start.
    this.#send(existing, { type: 'failoverStream', start });
    return true;
  }

  /** `*.rtms_interrupted`: rejoin signaling and media. False when the stream is not active here. */
  interrupt(rtmsStreamId: string, eventTs: number, eventName = 'rtms_interrupted'): boolean {
    return this.#forward(rtmsStreamId, eventName, (record) => ({ type: 'interruptStream', rtmsStreamId: record.start.rtmsStreamId, eventTs }));
  }

  /** `*.rtms_stopped`: the stream is over. False when it is not active here. */
  stop(rtmsStreamId: string, stopReason: number, eventName = 'rtms_stopped'): boolean {
    return this.#forward(rtmsStreamId, eventName, (record) => {
      record.stopRequested = stopReason;
      return { type: 'stopStream', rtmsStreamId: record.start.rtmsStreamId, stopReason };
    });
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
    // Between workers there is no session to let go: the stream is over here at once.
    if (!record.startPosted) {
      this.#failOrphan(record, `released while between workers (${reason})`);
      return Promise.resolve(this.#finished.get(rtmsStreamId));
    }
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
      this.#send(record, { type: 'releaseStream', rtmsStreamId, reason });
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
    // Kept on the record: a stream between workers (or whose worker dies now) closes once resumed.
    record.closeRequested = true;
    this.#send(record, { type: 'closeStream', rtmsStreamId });
    return true;
  }

  /** Every live worker's metrics registry; a worker that does not answer in time gives its previous one. */
  collectWorkerMetrics(timeoutMs = 1000): Promise<WorkerMetricsCollection> {
    return this.#pool.collectMetrics(timeoutMs);
  }

  /** Starts sending the stream's events and `kinds` frames as `liveBatch` events; false when not active here. */
  subscribeLive(rtmsStreamId: string, subscriptionId: number, kinds: readonly MediaKind[]): boolean {
    const record = this.#streams.get(rtmsStreamId);
    if (record === undefined) return false;
    (record.live ??= new Map()).set(subscriptionId, kinds);
    this.#send(record, { type: 'liveSubscribe', rtmsStreamId, subscriptionId, kinds });
    return true;
  }

  unsubscribeLive(rtmsStreamId: string, subscriptionId: number): void {
    const record = this.#streams.get(rtmsStreamId);
    if (record?.live?.delete(subscriptionId)) this.#send(record, { type: 'liveUnsubscribe', rtmsStreamId, subscriptionId });
  }

  /** Excludes a participant from capture from now on; false when the stream is not active here. */
  excludeParticipant(rtmsStreamId: string, userId: string): boolean {
    const record = this.#streams.get(rtmsStreamId);
    if (record === undefined) return false;
    record.excluded.add(userId);
    this.#send(record, { type: 'excludeParticipant', rtmsStreamId, userId });
    return true;
  }

  /** Stops admitting, closes every stream (STREAM_CLOSE) and stops the workers. Idempotent. */
  close(graceMs: number = this.#config.shutdownGraceMs): Promise<void> {
    this.#closing ??= (async () => {
      this.#accepting = false;
      await this.#pool.close(graceMs);
      this.#logger.info('supervisor closed');
    })();
    return this.#closing;
  }

  #onStarted(start: StreamStart): void {
    if (this.failover(start)) return;
    const refusal = this.#admissionRefusal() ?? (this.#placement.workerCount === 0 ? 'no_worker' : undefined);
    if (refusal !== undefined) {
      this.#reject(start, refusal);
      return;
    }
    this.#admit(start, {});
  }

  #admit(start: StreamStart, options: StartStreamOptions): void {
    const resume = options.resume;
    const stats: StreamStats =
      resume === undefined
        ? initialStreamStats(start, 'idle')
        : { ...resume.previous, state: 'idle', endedAt: undefined, failure: undefined, stopReason: undefined, stopReasonName: undefined };
    const record = newStreamRecord(start, stats, options.excluded ?? [], resume?.reason);
    this.#streams.set(start.rtmsStreamId, record);
    this.#finished.delete(start.rtmsStreamId);
    this.emit('streamState', { rtmsStreamId: start.rtmsStreamId, product: start.product, from: undefined, to: 'idle', reason: resume?.reason ?? 'admitted' });
    const workerId = this.#placement.place(start.rtmsStreamId);
    if (workerId !== undefined) this.#postStart(record, workerId, resume === undefined ? undefined : stats);
  }

  /** Starts the stream's session on its worker (a resume with `previous`), with everything asked for it so far. */
  #postStart(record: StreamRecord, workerId: number, previous: StreamStats | undefined): void {
    for (const message of startMessages(record, previous)) this.#pool.post(workerId, message);
    record.startPosted = true;
  }

  /** Sends to the session that holds the stream; false while it has none (its start re-applies what the record keeps). */
  #send(record: StreamRecord, message: SupervisorToWorker): boolean {
    const workerId = this.#placement.workerOf(record.start.rtmsStreamId);
    if (workerId === undefined || !record.startPosted) return false;
    return this.#pool.post(workerId, message);
  }

  #admissionRefusal(): StreamRefusal | undefined {
    if (!this.#accepting) return 'shutting_down';
    if (this.#streams.size >= this.#config.maxStreams) return 'max_streams';
    return undefined;
  }

  #reject(start: StreamStart, reason: StreamRefusal): void {
    this.#logger.warn({ rtmsStreamId: start.rtmsStreamId, product: start.product, reason, maxStreams: this.#config.maxStreams }, 'stream rejected');
    const stats = { ...initialStreamStats(start, 'rejected'), failure: reason, endedAt: Date.now() };
    this.#finished.remember(stats);
    recordRejection({ outputDir: this.#config.outputDir, start, reason, at: stats.endedAt }).catch((error: unknown) =>
      this.#logger.error({ rtmsStreamId: start.rtmsStreamId, err: describeError(error) }, 'could not record the rejection in the output directory'),
    );
    this.emit('streamState', { rtmsStreamId: start.rtmsStreamId, product: start.product, from: undefined, to: 'rejected', reason });
    this.emit('streamFinished', stats);
  }

  #forward(rtmsStreamId: string, eventName: string, message: (record: StreamRecord) => SupervisorToWorker): boolean {
    const record = this.#streams.get(rtmsStreamId);
    if (record === undefined) {
      this.#logger.info({ rtmsStreamId, event: eventName }, 'webhook for a stream not active here; ignored');
      return false;
    }
    if (!this.#send(record, message(record)))
      this.#logger.info({ rtmsStreamId, event: eventName }, 'stream is between workers; its resume applies the webhook');
    return true;
  }

  /** Reports from a worker about a stream count only from the worker that holds it now. */
  #owns(workerId: number, rtmsStreamId: string): boolean {
    return this.#placement.workerOf(rtmsStreamId) === workerId;
  }

  #onWorkerMessage(workerId: number, message: WorkerToSupervisor): void {
    applyWorkerReport(workerId, message, {
      record: (id) => this.#streams.get(id),
      owns: (worker, id) => this.#owns(worker, id),
      stateChanged: (change) => this.emit('streamState', change),
      stats: (streams) => this.emit('stats', streams),
      finished: (id, record, stats, reason) => this.#end(id, record, stats, reason, true),
      liveBatch: (batch) => this.emit('liveBatch', batch),
      logger: this.#logger,
    });
  }

  #onWorkerReady(workerId: number): void {
    this.#placement.addWorker(workerId);
    this.#orphans.placeWaiting();
  }

  #failOrphan(record: StreamRecord, failure: string): void {
    this.#end(record.start.rtmsStreamId, record, { ...record.stats, state: 'failed', failure, endedAt: Date.now() }, failure, false);
  }

  /** The stream is over here: its slot is free and whoever waits for it gets the final statistics. */
  #end(rtmsStreamId: string, record: StreamRecord | undefined, stats: StreamStats, reason: string | undefined, reported: boolean): void {
    this.#streams.delete(rtmsStreamId);
    this.#placement.remove(rtmsStreamId);
    this.#finished.remember(stats);
    this.emit('streamState', { rtmsStreamId, product: stats.product, from: record?.stats.state, to: stats.state, reason });
    if (reported) this.emit('stats', [stats]);
    this.emit('streamFinished', stats);
    for (const resolve of record?.finishWaiters.splice(0) ?? []) resolve(stats);
  }
}
