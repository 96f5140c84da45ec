import { Counter, Gauge, type Registry } from 'prom-client';
import { UPLOAD_FAILURE_REASONS, type UploadFailureReason } from './objectStoreErrors.ts';
import type { ObjectStoreUploader, UploaderObserver } from './objectStoreUploader.ts';

/** The `kind` label: a part of a growing file, a final whole file, a small file (docs/metrics.md). */
export const UPLOAD_KINDS = ['part', 'final', 'small'] as const;
export type UploadKind = (typeof UPLOAD_KINDS)[number];

/** `rtms_object_store_*` (docs/metrics.md); every label value from a closed list. */
export function objectStoreMetrics(registry: Registry, uploader: () => ObjectStoreUploader | undefined): UploaderObserver {
  const registers = [registry];
  const bytes = new Counter({
    name: 'rtms_object_store_uploaded_bytes_total',
    help: 'Bytes stored in object storage, by kind (part of a growing file, final whole file, small file).',
    labelNames: ['kind'] as const,
    registers,
  });
  const objects = new Counter({
    name: 'rtms_object_store_uploads_total',
    help: 'Objects stored in object storage, by kind.',
    labelNames: ['kind'] as const,
    registers,
  });
  const failures = new Counter({
    name: 'rtms_object_store_failures_total',
    help: 'Failed object-store syncs of a stream, by reason; each is retried with backoff.',
    labelNames: ['reason'] as const,
    registers,
  });
  const retries = new Counter({ name: 'rtms_object_store_retries_total', help: 'Syncs of a stream tried again after a failure.', registers });
  const notUploaded = new Counter({
    name: 'rtms_object_store_not_uploaded_files_total',
    help: 'Files still not stored when OBJECT_STORE_RETRY_WINDOW_MS ended (recorded in stream.json), by the last failure reason.',
    labelNames: ['reason'] as const,
    registers,
  });
  const overflow = new Counter({
    name: 'rtms_object_store_queue_overflow_total',
    help: 'Streams not queued because the upload queue was full (OBJECT_STORE_QUEUE_MAX); found again at the next scan.',
    registers,
  });
  for (const kind of UPLOAD_KINDS) {
    bytes.inc({ kind }, 0);
    objects.inc({ kind }, 0);
  }
  for (const reason of UPLOAD_FAILURE_REASONS) {
    failures.inc({ reason }, 0);
    notUploaded.inc({ reason }, 0);
  }
  new Gauge({
    name: 'rtms_object_store_lag_seconds',
    help: 'Age of the oldest local output not yet in object storage (0: all stored).',
    registers,
    collect() {
      this.set(uploader()?.lagSeconds() ?? 0);
    },
  });
  new Gauge({
    name: 'rtms_object_store_queue_depth',
    help: 'Streams waiting in the upload queue, plus those being synced.',
    registers,
    collect() {
      const current = uploader();
      this.set(current === undefined ? 0 : current.queueDepth + current.inFlight);
    },
  });
  return {
    uploaded(kind: UploadKind, size: number) {
      bytes.inc({ kind }, size);
      objects.inc({ kind });
    },
    failed(reason: UploadFailureReason) {
      failures.inc({ reason });
    },
    retried() {
      retries.inc();
    },
    notUploaded(reason: UploadFailureReason, files: number) {
      notUploaded.inc({ reason }, files);
    },
    overflowed() {
      overflow.inc();
    },
  };
}
