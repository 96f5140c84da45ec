import { readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '../logger.ts';
import { WAV_HEADER_BYTES } from '../media/wavWriter.ts';
import { errnoCode, STREAM_JSON } from '../sinks/streamCheckpoint.ts';
import type { ObjectStoreClient } from './objectStoreClient.ts';
import { isStreamed, listFiles, readPart, signatureOf, type LocalFile } from './localFiles.ts';
import type { ObjectStoreConfig } from './objectStoreConfig.ts';
import type { UploaderObserver } from './objectStoreUploader.ts';
import type { UploadKind } from './objectStoreMetrics.ts';
import { ObjectStoreError, type UploadFailureReason } from './objectStoreErrors.ts';
import type { Confirmation } from './objectConfirmation.ts';
import { OWNER_OBJECT, PARTS_SUFFIX, attemptNumbers, attemptPrefix, coveredEnd, parsePartKey, partKey, streamPrefix } from './objectLayout.ts';

/** The local record of a stream's uploads, beside its files (not uploaded itself). */
export const MARKER = '.object-store.json';
const FINISHED_STATES = new Set(['ended', 'failed', 'rejected']);
/**
 * A directory that no process of ours holds and whose `stream.json` was not refreshed for this
 * long has no writer (the sink refreshes it every few seconds): its parts are stored too.
 */
export const ORPHAN_AFTER_MS = 60_000;

/** `final`: ended, failed or rejected; `released`: let go to another owner, who may continue the directory. */
type Finished = 'final' | 'released' | undefined;

/** What a stream's sync reports itself, for metrics (objectStoreMetrics.ts). */
type UploadObserver = Pick<UploaderObserver, 'uploaded'>;

interface Marker {
  attempt: number;
  /** `<size>:<mtime>` of each file as last uploaded whole (for growing files: and its parts deleted). */
  uploaded: Record<string, string>;
  /** `<size>:<mtime>` of each growing file whose final object is stored. */
  finals: Record<string, string>;
  /** Files given up on at the end of the retry window, with the reason. */
  notUploaded?: { file: string; reason: UploadFailureReason }[] | undefined;
}

interface FileState {
  /** Bytes of a growing file covered by parts. */
  streamedTo: number;
  /** When bytes not yet uploaded were first seen (lag), ms. */
  pendingSince: number | undefined;
  /** When this small file was last uploaded, ms. */
  uploadedAt: number;
  /** The last part this process stored, and its bytes' MD5: checked again before the next one. */
  lastPart?: { start: number; end: number; md5: string } | undefined;
}

/**
 * One stream directory's uploads (docs/object-storage.md): parts of growing files while the
 * stream runs, every file whole once the stream is finished (then its parts are deleted), small
 * files whenever they change (at most every `smallFileIntervalMs`). `sync()` does what is due
 * and throws the first failure; the caller retries it later. What is in the store is read back
 * once per process (a list of the attempt's keys), so a restarted process continues where the
 * store is, never writing a second copy of a range.
 */
export class StreamUpload {
  readonly name: string;
  readonly directory: string;
  /** Set when the stream was first seen finished, ms. */
  finishedAt: number | undefined;
  /** Everything of the finished stream is stored, or given up on. */
  settled = false;
  lastFailure: UploadFailureReason | undefined;
  readonly #config: ObjectStoreConfig;
  readonly #client: ObjectStoreClient;
  readonly #observer: UploadObserver;
  readonly #logger: Logger;
  readonly #now: () => number;
  #marker: Marker | undefined;
  #listed = false;
  readonly #files = new Map<string, FileState>();
  #settledSignature = '';
  /** How the objects this process stored (parts, finals, small files) were confirmed; logged when the stream is stored. */
  readonly #confirmedBy: Record<Confirmation, number> = { etag: 0, content_md5: 0 };

  constructor(options: {
    name: string;
    directory: string;
    config: ObjectStoreConfig;
    client: ObjectStoreClient;
    observer: UploadObserver;
    logger: Logger;
    now: () => number;
  }) {
    this.name = options.name;
    this.directory = options.directory;
    this.#config = options.config;
    this.#client = options.client;
    this.#observer = options.observer;
    this.#logger = options.logger;
    this.#now = options.now;
  }

  get attempt(): number | undefined {
    return this.#marker?.attempt;
  }

  /** The oldest not-yet-uploaded bytes' first sighting, ms (undefined: nothing waits). */
  oldestPending(): number | undefined {
    let oldest: number | undefined;
    for (const file of this.#files.values())
      if (file.pendingSince !== undefined && (oldest === undefined || file.pendingSince < oldest)) oldest = file.pendingSince;
    return oldest;
  }

  /** Whether a settled stream changed since (its `stream.json` was rewritten): then it is synced again. */
  async changedSinceSettled(): Promise<boolean> {
    return (await signatureOf(join(this.directory, STREAM_JSON))) !== this.#settledSignature;
  }

  /**
   * `owned`: a stream of this process writes the directory. Another process's live directory
   * (a shared volume) is left to that process, so two uploaders never cut parts of one file.
   */
  async sync(owned: boolean): Promise<void> {
    const finishedKind = await this.#readFinished();
    const finished = finishedKind !== undefined;
    if (!owned && !finished && !(await this.#orphaned())) return;
    if (finished && this.finishedAt === undefined) this.finishedAt = this.#now();
    if (!finished) this.finishedAt = undefined;
    // What waits is noted before the store is asked anything: the lag counts while it is away.
    const files = await listFiles(this.directory, this.#marker?.uploaded);
    const now = this.#now();
    for (const file of files) {
      const state = this.#state(file.name);
      if (isStreamed(file.name) ? file.size > state.streamedTo : this.#marker?.uploaded[file.name] !== file.signature) state.pendingSince ??= now;
    }
    const marker = await this.#claim();
    const base = attemptPrefix(this.#config.prefix, this.name, marker.attempt);
    if (!this.#listed) await this.#readStore(base);
    for (const file of files) {
      // Stored whole: nothing of it waits, whatever the look before the claim thought.
      if (marker.uploaded[file.name] === file.signature) this.#state(file.name).pendingSince = undefined;
      else if (isStreamed(file.name)) await this.#syncStreamed(base, marker, file, finishedKind);
      else await this.#syncSmall(base, marker, file, finished);
    }
    if (finished) await this.#settle(marker, [], finishedKind === 'final');
  }

  /** The retry window ended: what is still not stored is recorded as not uploaded. */
  async giveUp(): Promise<{ file: string; reason: UploadFailureReason }[]> {
    const marker = this.#marker;
    const files = await listFiles(this.directory, marker?.uploaded);
    const reason = this.lastFailure ?? 'unreachable';
    const left = files.filter((file) => marker?.uploaded[file.name] !== file.signature).map((file) => ({ file: file.name, reason }));
    await this.#settle(marker, left, (await this.#readFinished()) === 'final');
    for (const state of this.#files.values()) state.pendingSince = undefined;
    return left;
  }

  async #readFinished(): Promise<Finished> {
    try {
      const document = JSON.parse(await readFile(join(this.directory, STREAM_JSON), 'utf8')) as Record<string, unknown>;
      if (typeof document['released'] === 'string') return 'released';
      return typeof document['state'] === 'string' && FINISHED_STATES.has(document['state']) ? 'final' : undefined;
    } catch {
      return undefined;
    }
  }

  async #orphaned(): Promise<boolean> {
    try {
      return this.#now() - (await stat(join(this.directory, STREAM_JSON))).mtimeMs >= ORPHAN_AFTER_MS;
    } catch {
      return false;
    }
  }

  /** This process's attempt number: the local record's, or the next free one in the store. */
  async #claim(): Promise<Marker> {
    if (this.#marker !== undefined) return this.#marker;
    try {
      const local = JSON.parse(await readFile(join(this.directory, MARKER), 'utf8')) as Marker;
      if (Number.isSafeInteger(local.attempt) && local.attempt > 0)
        return (this.#marker = { attempt: local.attempt, uploaded: local.uploaded ?? {}, finals: local.finals ?? {}, notUploaded: local.notUploaded });
    } catch {
      // None yet: claim one.
    }
    const { folders } = await this.#client.list(`${streamPrefix(this.#config.prefix, this.name)}attempts/`, '/');
    const owner = Buffer.from(JSON.stringify({ host: hostname(), pid: process.pid, at: new Date(this.#now()).toISOString() }));
    for (let attempt = Math.max(0, ...attemptNumbers(folders)) + 1; ; attempt++) {
      // Conditional create where the store supports it: two claimants never share a number.
      const claimed = await this.#client.putIfAbsent(`${attemptPrefix(this.#config.prefix, this.name, attempt)}${OWNER_OBJECT}`, owner);
      if (claimed === 'exists') continue;
      this.#marker = { attempt, uploaded: {}, finals: {} };
      await this.#saveMarker();
      this.#logger.info({ stream: this.name, attempt }, 'object store: stream output claimed');
      return this.#marker;
    }
  }

  /** Reads back which parts the store holds for this attempt (a restarted process continues there). */
  async #readStore(base: string): Promise<void> {
    const { objects } = await this.#client.list(base);
    const parts = new Map<string, { start: number; end: number }[]>();
    for (const object of objects) {
      const part = parsePartKey(base, object.key);
      if (part !== undefined) parts.set(part.file, [...(parts.get(part.file) ?? []), part]);
    }
    for (const [file, ranges] of parts) this.#state(file).streamedTo = coveredEnd(ranges);
    this.#listed = true;
  }

  #state(file: string): FileState {
    let state = this.#files.get(file);
    if (state === undefined) this.#files.set(file, (state = { streamedTo: 0, pendingSince: undefined, uploadedAt: 0 }));
    return state;
  }

  async #syncStreamed(base: string, marker: Marker, file: LocalFile, finished: Finished): Promise<void> {
    const state = this.#state(file.name);
    const now = this.#now();
    if (file.size > state.streamedTo) state.pendingSince ??= now;
    const path = join(this.directory, file.name);
    if (finished !== undefined) {
      if (marker.finals[file.name] !== file.signature) {
        const result = await this.#client.uploadFile(`${base}${file.name}`, path, file.size, this.#config.partBytes);
        this.#uploaded('final', result.size, result.confirmedBy);
        marker.finals[file.name] = file.signature;
      }
      // Done only once its parts are gone too: a failed delete is tried again, not the upload.
      const { objects } = await this.#client.list(`${base}${file.name}${PARTS_SUFFIX}`);
      if (objects.length > 0) await this.#client.delete(objects.map((object) => object.key));
      marker.uploaded[file.name] = file.signature;
      await this.#saveMarker();
      // Not for a released stream: its next owner may continue the directory, and a missing
      // file would be written again under the same name (docs/object-storage.md).
      if (this.#config.localRetention === 'delete' && finished === 'final') await this.#deleteLocal(path, file);
      state.pendingSince = undefined;
      return;
    }
    // Cut back locally (a batch undone after a full disk, docs/reliability.md), perhaps written
    // again since: the parts past the cut hold bytes the file no longer has; they go, and
    // streaming resumes there.
    const due = (): boolean =>
      file.size - state.streamedTo >= this.#config.partBytes ||
      (file.size > state.streamedTo && now - (state.pendingSince ?? now) >= this.#config.partIntervalMs);
    // Checked only when a part is due, so a quiet file costs no reads.
    const cut = file.size < state.streamedTo ? file.size : due() ? await this.#lastPartChanged(path, state) : undefined;
    if (cut !== undefined) await this.#replaceFrom(base, file.name, state, cut);
    while (due()) {
      const length = Math.min(this.#config.partBytes, file.size - state.streamedTo);
      let body = await readPart(path, state.streamedTo, length);
      // JSON lines are cut back after a restart (docs/output.md): only whole lines go to parts.
      if (file.name.endsWith('.jsonl')) body = body.subarray(0, body.lastIndexOf(0x0a) + 1);
      if (body.length === 0) break;
      this.#logger.debug({ stream: this.name, file: file.name, start: state.streamedTo, end: state.streamedTo + body.length }, 'object store: part');
      const md5 = createHash('md5').update(body).digest();
      const confirmedBy = await this.#client.put(partKey(base, file.name, state.streamedTo, state.streamedTo + body.length), body, md5);
      this.#uploaded('part', body.length, confirmedBy);
      // A WAV's first part is remembered without its header (rewritten at every flush).
      const skip = file.name.endsWith('.wav') ? Math.max(0, WAV_HEADER_BYTES - state.streamedTo) : 0;
      const kept = skip === 0 ? md5.toString('hex') : createHash('md5').update(body.subarray(skip)).digest('hex');
      state.lastPart = { start: state.streamedTo, end: state.streamedTo + body.length, md5: kept };
      state.streamedTo += body.length;
      state.pendingSince = file.size > state.streamedTo ? this.#now() : undefined;
    }
  }

  /**
   * Where the last stored part starts, if the file's bytes there are no longer the part's. A
   * WAV's header is rewritten at every flush (docs/output.md), so its first 44 bytes are not compared.
   */
  async #lastPartChanged(path: string, state: FileState): Promise<number | undefined> {
    const last = state.lastPart;
    if (last === undefined || last.end !== state.streamedTo) return undefined;
    const from = path.endsWith('.wav') ? Math.max(last.start, WAV_HEADER_BYTES) : last.start;
    if (from >= last.end) return undefined;
    const bytes = await readPart(path, from, last.end - from);
    return createHash('md5').update(bytes).digest('hex') === last.md5 ? undefined : last.start;
  }

  /** Deletes the parts that reach past `cut` and continues streaming from what remains. */
  async #replaceFrom(base: string, file: string, state: FileState, cut: number): Promise<void> {
    const { objects } = await this.#client.list(`${base}${file}${PARTS_SUFFIX}`);
    const parts = objects.map((object) => ({ key: object.key, ...parsePartKey(base, object.key)! }));
    const stale = parts.filter((part) => part.end > cut);
    if (stale.length > 0) await this.#client.delete(stale.map((part) => part.key));
    state.streamedTo = coveredEnd(parts.filter((part) => part.end <= cut));
    state.lastPart = undefined;
    this.#logger.warn({ stream: this.name, file, cut, parts: stale.length }, 'object store: file cut back locally; its later parts replaced');
  }

  async #syncSmall(base: string, marker: Marker, file: LocalFile, finished: boolean): Promise<void> {
    const state = this.#state(file.name);
    const now = this.#now();
    state.pendingSince ??= now;
    if (!finished && now - state.uploadedAt < this.#config.smallFileIntervalMs) return;
    const result = await this.#client.uploadFile(`${base}${file.name}`, join(this.directory, file.name), file.size, this.#config.partBytes);
    this.#uploaded('small', result.size, result.confirmedBy);
    marker.uploaded[file.name] = file.signature;
    state.uploadedAt = now;
    state.pendingSince = undefined;
  }

  #uploaded(kind: UploadKind, bytes: number, confirmedBy: Confirmation): void {
    this.#observer.uploaded(kind, bytes, confirmedBy);
    this.#confirmedBy[confirmedBy] += 1;
  }

  async #deleteLocal(path: string, file: LocalFile): Promise<void> {
    // Confirmed by checksum (uploadFile compared the ETag, or the store checked Content-MD5 of an
    // encrypted object); only then is the local copy let go.
    await unlink(path).catch((error: unknown) =>
      this.#logger.warn({ stream: this.name, file: file.name, code: errnoCode(error) }, 'object store: local copy not deleted'),
    );
  }

  /**
   * All stored (or given up on): recorded once in `stream.json` → `objectStore` (then uploaded
   * again), when `record`: not for a released stream, whose next owner may be rewriting
   * `stream.json` on a shared volume (the local `.object-store.json` keeps it then).
   */
  async #settle(marker: Marker | undefined, notUploaded: { file: string; reason: UploadFailureReason }[], record: boolean): Promise<void> {
    // No attempt when the store was never reached: the stream's prefix is all there is to say.
    const location = marker === undefined ? streamPrefix(this.#config.prefix, this.name) : attemptPrefix(this.#config.prefix, this.name, marker.attempt);
    const objectStore = { url: `s3://${this.#client.bucket}/${location}`, attempt: marker?.attempt ?? null, complete: notUploaded.length === 0, notUploaded };
    const path = join(this.directory, STREAM_JSON);
    try {
      const document = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
      if (record && JSON.stringify(document['objectStore']) !== JSON.stringify(objectStore)) {
        const temp = join(this.directory, '.stream.json.object-store.tmp');
        await writeFile(temp, `${JSON.stringify({ ...document, objectStore }, null, 2)}\n`);
        await rename(temp, path);
        this.#logger.info({ stream: this.name, complete: objectStore.complete }, 'object store: recorded in stream.json');
        // The record itself goes to the store with the next sync (stream.json changed).
        if (notUploaded.length === 0) return;
      }
    } catch (error) {
      this.#logger.warn({ stream: this.name, code: errnoCode(error) }, 'object store: stream.json not updated');
    }
    if (marker !== undefined) {
      marker.notUploaded = notUploaded;
      await this.#saveMarker().catch(() => undefined);
    }
    this.#settledSignature = await signatureOf(path);
    this.settled = true;
    // `confirmedBy`: objects this process stored, by how (docs/object-storage.md#checksums).
    if (notUploaded.length === 0)
      this.#logger.info({ stream: this.name, attempt: marker?.attempt, confirmedBy: this.#confirmedBy }, 'object store: stream stored');
  }

  async #saveMarker(): Promise<void> {
    const temp = join(this.directory, `${MARKER}.tmp`);
    try {
      await writeFile(temp, JSON.stringify(this.#marker));
      await rename(temp, join(this.directory, MARKER));
    } catch (error) {
      throw new ObjectStoreError('local_read', `cannot record uploads in ${this.name}`, error);
    }
  }
}
