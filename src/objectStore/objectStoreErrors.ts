import { ConnectorError } from '../errors.ts';

/**
 * Why an object-store operation failed; a closed list, used as the `reason` label of
 * `rtms_object_store_failures_total` and in `stream.json` → `objectStore.notUploaded`.
 */
export const UPLOAD_FAILURE_REASONS = [
  'unreachable',
  'denied',
  'no_bucket',
  'throttled',
  'server_error',
  'checksum_mismatch',
  'local_read',
  'rejected',
] as const;
export type UploadFailureReason = (typeof UPLOAD_FAILURE_REASONS)[number];

/** A failed object-store operation; its message names the key, never a credential. */
export class ObjectStoreError extends ConnectorError {
  readonly reason: UploadFailureReason;

  constructor(reason: UploadFailureReason, message: string, cause?: unknown) {
    super('OBJECT_STORE_FAILED', `${message}: ${reason}${detail(cause)}`, { retryable: true, cause });
    this.reason = reason;
  }
}

/** The SDK's error name (e.g. `NoSuchBucket`) or the socket's code; nothing the store echoed. */
function detail(cause: unknown): string {
  if (cause === undefined || cause === null || typeof cause !== 'object') return '';
  const named = cause as { name?: unknown; code?: unknown };
  const name = typeof named.code === 'string' ? named.code : typeof named.name === 'string' ? named.name : '';
  return /^[A-Za-z_]{1,64}$/.test(name) ? ` (${name})` : '';
}

/** The HTTP status an SDK error carries, if the store answered at all. */
export function statusOf(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } } | null | undefined)?.$metadata?.httpStatusCode;
}

/** Sorts an SDK or socket error into a reason. */
export function failureOf(error: unknown): UploadFailureReason {
  const status = statusOf(error);
  const name = (error as { name?: string } | null | undefined)?.name ?? '';
  if (name === 'NoSuchBucket') return 'no_bucket';
  if (name === 'BadDigest' || name === 'InvalidDigest') return 'checksum_mismatch';
  if (status === 401 || status === 403 || /AccessDenied|InvalidAccessKeyId|SignatureDoesNotMatch|ExpiredToken|CredentialsProviderError/.test(name))
    return 'denied';
  if (status === 429 || status === 503 || /SlowDown|Throttl/.test(name)) return 'throttled';
  if (status !== undefined && status >= 500) return 'server_error';
  if (status !== undefined && status >= 400) return 'rejected';
  return 'unreachable';
}
