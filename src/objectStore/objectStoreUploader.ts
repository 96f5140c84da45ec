import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../logger.ts';
import { errnoCode } from '../sinks/streamCheckpoint.ts';
import { ObjectStoreClient } from './objectStoreClient.ts';
import type { ObjectStoreConfig } from './objectStoreConfig.ts';
import { ObjectStoreError, failureOf, type UploadFailureReason } from './objectStoreErrors.ts';
import type { UploadKind } from './objectStoreMetrics.ts';
import type { Confirmation } from './objectConfirmation.ts';
import { StreamUpload } from './streamUpload.ts';

/** What the uploader reports, for metrics (objectStoreMetrics.ts). */
export interface UploaderObserver {
  /** An object stored and confirmed, and how (objectConfirmation.ts). */
  uploaded(kind: UploadKind, bytes: number, confirmedBy: Confirmation): void;
  failed(reason: UploadFailureReason): void;
  retried(): void;
  notUploaded(reason: UploadFailureReason, files: number): void;
  overflowed(): void;
}

const NO_OBSERVER: UploaderObserver = { uploaded() {}, failed() {}, retried() {}, notUploaded() {}, overflowed() {} };
const MAX_BACKOFF_MS = 30_000;

interface Entry {
  readonly upload: StreamUpload;
  failures: number;
  retryAt: number;
  queued: boolean;
  owned: boolean;
}

/**
 * Copies `OUTPUT_DIR` to object storage (docs/object-storage.md), in the main thread, off the
 * frame path: the workers write files as ever, and this reads them. Every `scanIntervalMs` it
 * lists the stream directories and queues each one that is not settled (a bounded queue of at
 * most `queueMax` streams; one more is counted as overflow and simply found again at the next
 * scan, because the local files are the source of truth). `concurrency` streams sync at once,
 * each holding at most one part in memory. A failed sync is retried with backoff (1 s doubling
 * to 30 s); once a finished stream has waited `retryWindowMs`, what is still not stored is
 * counted, logged and recorded in its `stream.json`.
 */
export class ObjectStoreUploader {
  readonly client: ObjectStoreClient;
  readonly #config: ObjectStoreConfig;
  readonly #outputDir: string;
  readonly #logger: Logger;
  readonly #observer: UploaderObserver;
  readonly #now: () => number;
  readonly #streams = new Map<string, Entry>();
  readonly #queue: Entry[] = [];
  #running = 0;
  #timer: NodeJS.Timeout | undefined;
  #scanning: Promise<void> | undefined;
  #stopped = false;
  readonly #idleWaiters: (() => void)[] = [];

  readonly #ownedDirectories: () => ReadonlySet<string>;

  /** `ownedDirectories`: the directory names of the streams this process runs now. */
  constructor(options: {
    config: ObjectStoreConfig;
    outputDir: string;
    logger: Logger;
    ownedDirectories: () => ReadonlySet<string>;
    observer?: UploaderObserver;
    now?: () => number;
  }) {
    this.#ownedDirectories = options.ownedDirectories;
    this.#config = options.config;
    this.#outputDir = options.outputDir;
    this.#logger = options.logger;
    this.#observer = options.observer ?? NO_OBSERVER;
    this.#now = options.now ?? Date.now;
    this.client = new ObjectStoreClient(options.config);
  }

  get queueDepth(): number {
    return this.#queue.length;
  }

  get inFlight(): number {
    return this.#running;
  }

  /** Seconds since the oldest local bytes not yet in the store were first seen (0: none wait). */
  lagSeconds(): number {
    let oldest: number | undefined;
    for (const { upload } of this.#streams.values()) {
      const pending = upload.oldestPending();
      if (pending !== undefined && (oldest === undefined || pending < oldest)) oldest = pending;
    }
    return oldest === undefined ? 0 : Math.max(0, (this.#now() - oldest) / 1000);
  }

  start(): void {
    const tick = (): void => {
      this.#timer = setTimeout(() => void this.scan().finally(() => !this.#stopped && tick()), this.#config.scanIntervalMs);
      this.#timer.unref();
    };
    void this.scan();
    tick();
  }

  /** Stops scanning; the syncs in flight finish (or fail) first. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#queue.length = 0;
    await this.#scanning;
    while (this.#running > 0) await new Promise<void>((resolve) => this.#idleWaiters.push(resolve));
    this.client.close();
  }

  /**
   * At shutdown: scan and sync again until every finished stream, and every one of `streams`
   * (the directories of the streams that ran at the signal), is settled (stored, its
   * `stream.json` record too), for at most `budgetMs`, pausing between rounds (500 ms after
   * failures); then stop, abandoning requests in flight. What is not stored stays on local disk
   * and is continued at the next start.
   */
  async finish(budgetMs: number, streams: ReadonlySet<string> = new Set()): Promise<void> {
    const deadline = Date.now() + Math.max(0, budgetMs);
    let timer: NodeJS.Timeout | undefined;
    const rounds = async (): Promise<void> => {
      while (!this.#stopped && Date.now() < deadline) {
        for (const entry of this.#streams.values()) entry.retryAt = 0;
        // A scan already under way may have passed a stream that was syncing: a fresh one.
        await this.#scanning;
        await this.scan();
        while (this.#running > 0 || this.#queue.length > 0) await new Promise<void>((resolve) => this.#idleWaiters.push(resolve));
        const entries = [...this.#streams.values()];
        // `streams` were running at the signal: their final stream.json may still be on its way.
        if (entries.every(({ upload }) => upload.settled || (upload.finishedAt === undefined && !streams.has(upload.name)))) return;
        await new Promise((resolve) => setTimeout(resolve, entries.some((entry) => entry.failures > 0) ? 500 : 100));
      }
    };
    await Promise.race([rounds(), new Promise<void>((resolve) => (timer = setTimeout(resolve, Math.max(0, budgetMs))))]);
    clearTimeout(timer);
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.client.close();
  }

  /** One look at the output directory; exposed for tests and the shutdown path. */
  scan(): Promise<void> {
    this.#scanning ??= this.#scanOnce().finally(() => (this.#scanning = undefined));
    return this.#scanning;
  }

  async #scanOnce(): Promise<void> {
    let names: string[];
    try {
      names = (await readdir(this.#outputDir, { withFileTypes: true }))
        .filter((entry) => entry.isDirectory() && !entry.name.startsWith('.'))
        .map((entry) => entry.name);
    } catch (error) {
      this.#logger.warn({ code: errnoCode(error) }, 'object store: output directory not readable');
      return;
    }
    const now = this.#now();
    const owned = this.#ownedDirectories();
    // A directory removed from OUTPUT_DIR (by an operator, or retention elsewhere) is forgotten.
    const present = new Set(names);
    for (const [name, entry] of this.#streams) if (!present.has(name) && !entry.queued) this.#streams.delete(name);
    for (const name of names.sort()) {
      let entry = this.#streams.get(name);
      if (entry === undefined) {
        const upload = new StreamUpload({
          name,
          directory: join(this.#outputDir, name),
          config: this.#config,
          client: this.client,
          observer: this.#observer,
          logger: this.#logger,
          now: this.#now,
        });
        this.#streams.set(name, (entry = { upload, failures: 0, retryAt: 0, queued: false, owned: false }));
      }
      if (entry.queued || entry.retryAt > now) continue;
      if (entry.upload.settled) {
        if (!(await entry.upload.changedSinceSettled())) continue;
        entry.upload.settled = false;
      }
      if (entry.upload.finishedAt !== undefined && now - entry.upload.finishedAt >= this.#config.retryWindowMs) {
        await this.#giveUp(entry);
        continue;
      }
      if (this.#queue.length >= this.#config.queueMax) {
        this.#observer.overflowed();
        continue;
      }
      entry.queued = true;
      entry.owned = owned.has(name);
      this.#queue.push(entry);
    }
    this.#pump();
  }

  #pump(): void {
    while (this.#running < this.#config.concurrency && this.#queue.length > 0 && !this.#stopped) {
      const entry = this.#queue.shift();
      if (entry === undefined) break;
      this.#running += 1;
      void this.#sync(entry).finally(() => {
        entry.queued = false;
        this.#running -= 1;
        if (this.#running === 0) for (const resolve of this.#idleWaiters.splice(0)) resolve();
        this.#pump();
      });
    }
  }

  async #sync(entry: Entry): Promise<void> {
    if (entry.failures > 0) this.#observer.retried();
    try {
      await entry.upload.sync(entry.owned);
      if (entry.failures > 0) this.#logger.info({ stream: entry.upload.name, failures: entry.failures }, 'object store: uploads caught up');
      entry.failures = 0;
      entry.retryAt = 0;
    } catch (error) {
      const reason = error instanceof ObjectStoreError ? error.reason : failureOf(error);
      entry.upload.lastFailure = reason;
      entry.failures += 1;
      entry.retryAt = this.#now() + Math.min(MAX_BACKOFF_MS, 1000 * 2 ** Math.min(entry.failures - 1, 5));
      this.#observer.failed(reason);
      // Once per incident in the log; every failure in the metrics.
      if (entry.failures === 1)
        this.#logger.warn(
          { stream: entry.upload.name, reason, err: error instanceof Error ? error.message : String(error) },
          'object store: upload failed; retrying',
        );
    }
  }

  async #giveUp(entry: Entry): Promise<void> {
    const reason = entry.upload.lastFailure ?? 'unreachable';
    const left = await entry.upload.giveUp().catch(() => []);
    if (left.length === 0) return;
    this.#observer.notUploaded(reason, left.length);
    this.#logger.error(
      { stream: entry.upload.name, reason, files: left.map((item) => item.file) },
      'object store: files not uploaded within OBJECT_STORE_RETRY_WINDOW_MS',
    );
  }
}
