import { ObjectStoreError } from './objectStoreErrors.ts';

/**
 * How a stored object (or part) was confirmed (docs/object-storage.md#checksums): `etag`, its
 * ETag equals an MD5 computed from the local bytes; `content_md5`, the ETag is not an MD5 of the
 * data (an encrypted object, or a store that answers another kind of ETag), so the confirmation
 * is the `Content-MD5` the store checked on the PUT or part, rejecting a different body.
 */
export const CONFIRMATIONS = ['etag', 'content_md5'] as const;
export type Confirmation = (typeof CONFIRMATIONS)[number];

/** What a PutObject, UploadPart or CompleteMultipartUpload answer says about the stored object. */
export interface StoreAnswer {
  readonly ETag?: string | undefined;
  /** `x-amz-server-side-encryption`: `AES256` (SSE-S3), `aws:kms`, `aws:kms:dsse`, … */
  readonly ServerSideEncryption?: string | undefined;
  /** `x-amz-server-side-encryption-customer-algorithm`: set for SSE-C. */
  readonly SSECustomerAlgorithm?: string | undefined;
}

/** S3 documents that these objects' ETags are not an MD5 of the data; SSE-S3 (`AES256`) ETags are. */
const KMS_ENCRYPTION: ReadonlySet<string> = new Set(['aws:kms', 'aws:kms:dsse']);
const MD5_SHAPED = /^[0-9a-f]{32}(-\d+)?$/;

/**
 * Confirms a stored object by `answer`'s ETag against `expected` (lower-case hex MD5s computed
 * locally, or S3's `<md5 of part md5s>-<parts>`). Throws `checksum_mismatch` when the ETag should
 * be an MD5 and is none of them: a store that kept other bytes than those sent.
 */
export function confirmObject(answer: StoreAnswer, expected: readonly string[], key: string): Confirmation {
  const etag = answer.ETag?.replace(/"/g, '').toLowerCase() ?? '';
  if (etag !== '' && expected.includes(etag)) return 'etag';
  if (answer.SSECustomerAlgorithm !== undefined && answer.SSECustomerAlgorithm !== '') return 'content_md5';
  if (answer.ServerSideEncryption !== undefined && KMS_ENCRYPTION.has(answer.ServerSideEncryption)) return 'content_md5';
  // No ETag, or one that is no MD5 at all: nothing to compare; Content-MD5 was still checked.
  if (!MD5_SHAPED.test(etag)) return 'content_md5';
  throw new ObjectStoreError('checksum_mismatch', `object ${key} has ETag ${etag}, expected ${expected.join(' or ')}`);
}

/**
 * A multipart upload's whole object, after its parts were confirmed as `parts`: S3 makes the
 * whole's ETag from the parts' ETags, so when those were no MD5s (an SSE-C answer to
 * CompleteMultipartUpload carries no encryption header of its own), neither is it.
 */
export function confirmWhole(parts: Confirmation, answer: StoreAnswer, expected: readonly string[], key: string): Confirmation {
  return parts === 'etag' ? confirmObject(answer, expected, key) : 'content_md5';
}
