import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { confirmObject, confirmWhole } from '../../../src/objectStore/objectConfirmation.ts';
import { ObjectStoreError } from '../../../src/objectStore/objectStoreErrors.ts';

const md5 = createHash('md5').update('hello').digest('hex');
/** What S3 answers for an SSE-KMS object: 32 hex characters, but not the data's MD5. */
const other = randomBytes(16).toString('hex');

function reasonOf(run: () => unknown): string | undefined {
  try {
    run();
    return undefined;
  } catch (error) {
    return error instanceof ObjectStoreError ? error.reason : 'not an ObjectStoreError';
  }
}

describe('confirmObject: how a stored object is confirmed', () => {
  it('an ETag equal to the local MD5 confirms, quoted or not, whatever the encryption', () => {
    expect(confirmObject({ ETag: `"${md5}"` }, [md5], 'k')).toBe('etag');
    expect(confirmObject({ ETag: md5.toUpperCase() }, [md5], 'k')).toBe('etag');
    expect(confirmObject({ ETag: `"${md5}"`, ServerSideEncryption: 'AES256' }, [md5], 'k')).toBe('etag');
    expect(confirmObject({ ETag: `"${md5}"`, ServerSideEncryption: 'aws:kms' }, [md5], 'k')).toBe('etag');
    expect(confirmObject({ ETag: '"abc-2"' }, ['x', 'abc-2'], 'k')).toBe('etag');
  });

  it('an MD5-shaped ETag that differs fails as checksum_mismatch, unencrypted or SSE-S3 (whose ETags are MD5s)', () => {
    expect(reasonOf(() => confirmObject({ ETag: `"${other}"` }, [md5], 'k'))).toBe('checksum_mismatch');
    expect(reasonOf(() => confirmObject({ ETag: `"${other}"`, ServerSideEncryption: 'AES256' }, [md5], 'k'))).toBe('checksum_mismatch');
    expect(reasonOf(() => confirmObject({ ETag: `"${other}-3"` }, [`${md5}-3`], 'k'))).toBe('checksum_mismatch');
    // Encryption the store does not name as KMS is no excuse.
    expect(reasonOf(() => confirmObject({ ETag: `"${other}"`, ServerSideEncryption: 'aws:backup' }, [md5], 'k'))).toBe('checksum_mismatch');
    expect(reasonOf(() => confirmObject({ ETag: `"${other}"`, SSECustomerAlgorithm: '' }, [md5], 'k'))).toBe('checksum_mismatch');
  });

  it('SSE-KMS, DSSE-KMS and SSE-C objects, whose ETags are no MD5, are confirmed by the Content-MD5 the store checked', () => {
    expect(confirmObject({ ETag: `"${other}"`, ServerSideEncryption: 'aws:kms' }, [md5], 'k')).toBe('content_md5');
    expect(confirmObject({ ETag: `"${other}"`, ServerSideEncryption: 'aws:kms:dsse' }, [md5], 'k')).toBe('content_md5');
    expect(confirmObject({ ETag: `"${other}"`, SSECustomerAlgorithm: 'AES256' }, [md5], 'k')).toBe('content_md5');
    expect(confirmObject({ ETag: `"${other}-2"`, ServerSideEncryption: 'aws:kms' }, [`${md5}-2`, md5], 'k')).toBe('content_md5');
  });

  it('no ETag, or one that is no MD5 at all, leaves Content-MD5 as the confirmation', () => {
    expect(confirmObject({}, [md5], 'k')).toBe('content_md5');
    expect(confirmObject({ ETag: '""' }, [md5], 'k')).toBe('content_md5');
    expect(confirmObject({ ETag: '"v1-opaque"' }, [md5], 'k')).toBe('content_md5');
  });

  it('a multipart whole is compared by ETag only when its parts were: its ETag is made of theirs', () => {
    expect(confirmWhole('etag', { ETag: `"${md5}-2"` }, [`${md5}-2`], 'k')).toBe('etag');
    expect(reasonOf(() => confirmWhole('etag', { ETag: `"${other}-2"` }, [`${md5}-2`], 'k'))).toBe('checksum_mismatch');
    expect(confirmWhole('etag', { ETag: `"${other}-2"`, ServerSideEncryption: 'aws:kms' }, [`${md5}-2`], 'k')).toBe('content_md5');
    // SSE-C parts; the complete answer names no encryption.
    expect(confirmWhole('content_md5', { ETag: `"${other}-2"` }, [`${md5}-2`], 'k')).toBe('content_md5');
  });

  it('the mismatch names the key and both checksums, and is retried like every upload failure', () => {
    try {
      confirmObject({ ETag: `"${other}"` }, [md5], 'tenant/stream/audio.wav');
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ObjectStoreError);
      const failure = error as ObjectStoreError;
      expect(failure.code).toBe('OBJECT_STORE_FAILED');
      expect(failure.retryable).toBe(true);
      expect(failure.message).toContain('tenant/stream/audio.wav');
      expect(failure.message).toContain(other);
      expect(failure.message).toContain(md5);
    }
  });
});
