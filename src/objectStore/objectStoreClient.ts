import { createHash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectsCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
  type CompletedPart,
} from '@aws-sdk/client-s3';
import { MIN_PART_BYTES, type ObjectStoreConfig } from './objectStoreConfig.ts';
import { ObjectStoreError, failureOf, statusOf } from './objectStoreErrors.ts';
import { confirmObject, confirmWhole, type Confirmation } from './objectConfirmation.ts';
import { openLocal, readRange } from './localFiles.ts';

/**
 * A request with no connection after this long, or no answer after that long, fails as
 * `unreachable` and its sync is retried (docs/object-storage.md#when-the-store-is-unreachable), ms.
 */
const CONNECTION_TIMEOUT_MS = 5000;
const REQUEST_TIMEOUT_MS = 60_000;

export interface StoredObject {
  readonly key: string;
  readonly size: number;
}

/** What a whole-file upload stored, and the checksums it was confirmed by. */
export interface UploadedFile {
  readonly size: number;
  /** MD5 of the whole content, hex. */
  readonly md5: string;
  readonly multipart: boolean;
  /** `etag` when the store's ETag(s) matched these MD5s; `content_md5` when they are no MD5 (SSE-KMS, SSE-C). */
  readonly confirmedBy: Confirmation;
}

/**
 * The few S3 operations the uploader uses, on `@aws-sdk/client-s3` (docs/object-storage.md).
 * The SDK does no retries of its own (`maxAttempts: 1`): the uploader retries, so every retry
 * is counted. Request checksums are the classic Content-MD5, which every S3-compatible store
 * checks; the SDK's newer trailing checksums are sent only where an operation requires them.
 * Every stored object is confirmed by its ETag against checksums computed here, unless the
 * store says it is encrypted with KMS or a customer key: those ETags are no MD5, and the
 * Content-MD5 the store checked is the confirmation (objectConfirmation.ts).
 */
export class ObjectStoreClient {
  readonly bucket: string;
  readonly #s3: S3Client;

  constructor(config: ObjectStoreConfig) {
    this.bucket = config.bucket;
    this.#s3 = new S3Client({
      region: config.region,
      ...(config.endpoint === undefined ? {} : { endpoint: config.endpoint }),
      forcePathStyle: config.forcePathStyle,
      maxAttempts: 1,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      requestHandler: { connectionTimeout: CONNECTION_TIMEOUT_MS, requestTimeout: REQUEST_TIMEOUT_MS },
    });
  }

  close(): void {
    this.#s3.destroy();
  }

  /**
   * One PUT; the store checks Content-MD5, and its ETag is compared with the MD5 here. `md5`:
   * the body's MD5 when the caller already has it, so it is not computed twice.
   */
  async put(key: string, body: Buffer, md5?: Buffer): Promise<Confirmation> {
    try {
      return await this.#putObject(key, body, false, md5);
    } catch (error) {
      throw wrap(error, key);
    }
  }

  /** A PUT only if no object is at `key` (If-None-Match, where the store supports it): else `exists`. */
  async putIfAbsent(key: string, body: Buffer): Promise<Confirmation | 'exists'> {
    try {
      return await this.#putObject(key, body, true);
    } catch (error) {
      if (statusOf(error) === 412) return 'exists';
      throw wrap(error, key);
    }
  }

  async #putObject(key: string, body: Buffer, ifAbsent: boolean, md5: Buffer = createHash('md5').update(body).digest()): Promise<Confirmation> {
    const result = await this.#s3.send(
      new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentMD5: md5.toString('base64'), ...(ifAbsent ? { IfNoneMatch: '*' } : {}) }),
    );
    return confirmObject(result, [md5.toString('hex')], key);
  }

  /**
   * Uploads `size` bytes of the file at `path` to `key`: one PUT up to 5 MiB, a multipart
   * upload of `partBytes` parts above (read one part at a time). Confirmed by the ETag: the
   * whole content's MD5, or S3's MD5 of the parts' MD5s with `-<parts>` (or by Content-MD5 alone
   * for an encrypted object, `confirmedBy`).
   */
  async uploadFile(key: string, path: string, size: number, partBytes: number): Promise<UploadedFile> {
    const file = await openLocal(path);
    try {
      if (size <= MIN_PART_BYTES) {
        const body = await readRange(file, 0, size, path);
        const md5 = createHash('md5').update(body).digest();
        const confirmedBy = await this.put(key, body, md5);
        return { size, md5: md5.toString('hex'), multipart: false, confirmedBy };
      }
      return await this.#multipart(key, file, path, size, partBytes);
    } finally {
      await file.close();
    }
  }

  async #multipart(key: string, file: FileHandle, path: string, size: number, partBytes: number): Promise<UploadedFile> {
    const whole = createHash('md5');
    const partDigests: Buffer[] = [];
    const parts: CompletedPart[] = [];
    // ETag-confirmed only if every part was (and then the whole).
    let confirmedBy: Confirmation = 'etag';
    try {
      const created = await this.#s3.send(new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: key }));
      const uploadId = created.UploadId;
      for (let offset = 0, number = 1; offset < size; offset += partBytes, number++) {
        const body = await readRange(file, offset, Math.min(partBytes, size - offset), path);
        const digest = createHash('md5').update(body).digest();
        whole.update(body);
        partDigests.push(digest);
        const part = await this.#s3.send(
          new UploadPartCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId, PartNumber: number, Body: body, ContentMD5: digest.toString('base64') }),
        );
        if (confirmObject(part, [digest.toString('hex')], key) === 'content_md5') confirmedBy = 'content_md5';
        parts.push({ PartNumber: number, ETag: part.ETag });
      }
      const done = await this.#s3.send(
        new CompleteMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId, MultipartUpload: { Parts: parts } }),
      );
      const md5 = whole.digest('hex');
      const ofParts = `${createHash('md5').update(Buffer.concat(partDigests)).digest('hex')}-${partDigests.length}`;
      // S3 answers MD5-of-part-MD5s; some compatible stores the whole content's MD5.
      return { size, md5, multipart: true, confirmedBy: confirmWhole(confirmedBy, done, [ofParts, md5], key) };
    } catch (error) {
      throw wrap(error, key);
    }
  }

  async head(key: string): Promise<StoredObject | undefined> {
    try {
      const result = await this.#s3.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return { key, size: result.ContentLength ?? 0 };
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw wrap(error, key);
    }
  }

  /** Every object under `prefix`, and with `delimiter` the "folders" one level down. */
  async list(prefix: string, delimiter?: string): Promise<{ objects: StoredObject[]; folders: string[] }> {
    const objects: StoredObject[] = [];
    const folders: string[] = [];
    let token: string | undefined;
    try {
      do {
        const page = await this.#s3.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, Delimiter: delimiter, ContinuationToken: token }));
        for (const item of page.Contents ?? []) if (item.Key !== undefined) objects.push({ key: item.Key, size: item.Size ?? 0 });
        for (const folder of page.CommonPrefixes ?? []) if (folder.Prefix !== undefined) folders.push(folder.Prefix);
        token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
      } while (token !== undefined);
    } catch (error) {
      throw wrap(error, prefix);
    }
    return { objects, folders };
  }

  async delete(keys: readonly string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += 1000) {
      const batch = keys.slice(i, i + 1000).map((Key) => ({ Key }));
      try {
        await this.#s3.send(new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: batch, Quiet: true } }));
      } catch (error) {
        throw wrap(error, keys[i] ?? '');
      }
    }
  }
}

function wrap(error: unknown, key: string): ObjectStoreError {
  if (error instanceof ObjectStoreError) return error;
  return new ObjectStoreError(failureOf(error), `object store request for ${key} failed`, error);
}
