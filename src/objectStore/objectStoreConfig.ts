import type { EnvReader } from '../envReader.ts';

/** S3's smallest part of a multipart upload, except the last (docs/object-storage.md). */
export const MIN_PART_BYTES = 5 * 1024 * 1024;

export const LOCAL_RETENTIONS = ['keep', 'delete'] as const;
export type LocalRetention = (typeof LOCAL_RETENTIONS)[number];

/**
 * `OBJECT_STORE_…` settings (docs/object-storage.md). Credentials are not here: the AWS SDK's
 * standard chain finds them (environment, shared config, container and pod identity).
 */
export interface ObjectStoreConfig {
  readonly bucket: string;
  /** Key prefix without a trailing slash ('' for the bucket's root). */
  readonly prefix: string;
  /** An S3-compatible store's URL (MinIO, Ceph, R2, GCS interop); undefined for AWS S3. */
  readonly endpoint: string | undefined;
  readonly forcePathStyle: boolean;
  readonly region: string;
  /** A growing file's bytes become a part object once this many are new, or … */
  readonly partBytes: number;
  /** … once the oldest of them waited this long, ms. */
  readonly partIntervalMs: number;
  /** How often the output directory is looked at, ms. */
  readonly scanIntervalMs: number;
  /** Small files (`stream.json`, `events.jsonl`, …) are uploaded at most this often while they change, ms. */
  readonly smallFileIntervalMs: number;
  /** Uploads in flight at once (each holds at most one part in memory). */
  readonly concurrency: number;
  /** Upload jobs waiting at most; more are counted as overflow and found again at a later scan. */
  readonly queueMax: number;
  /** After a stream ends, how long its final uploads are retried before what is left is given up, ms. */
  readonly retryWindowMs: number;
  readonly localRetention: LocalRetention;
}

/** Reads `OBJECT_STORE_*`; undefined when `OBJECT_STORE_URL` is unset (no object storage). */
export function readObjectStoreConfig(read: EnvReader, env: Readonly<Record<string, string | undefined>>): ObjectStoreConfig | undefined {
  const url = read.url('OBJECT_STORE_URL', ['s3:']);
  const endpoint = read.url('OBJECT_STORE_ENDPOINT', ['http:', 'https:']);
  const forcePathStyle = read.bool('OBJECT_STORE_FORCE_PATH_STYLE', endpoint !== undefined);
  const region = read.string('OBJECT_STORE_REGION', env['AWS_REGION'] ?? env['AWS_DEFAULT_REGION'] ?? 'us-east-1');
  const settings = {
    partBytes: read.int('OBJECT_STORE_PART_BYTES', 8 * 1024 * 1024, MIN_PART_BYTES, 5 * 1024 * 1024 * 1024),
    partIntervalMs: read.int('OBJECT_STORE_PART_INTERVAL_MS', 10_000, 100, 3_600_000),
    scanIntervalMs: read.int('OBJECT_STORE_SCAN_INTERVAL_MS', 2000, 50, 60_000),
    smallFileIntervalMs: read.int('OBJECT_STORE_SMALL_FILE_INTERVAL_MS', 10_000, 0, 3_600_000),
    concurrency: read.int('OBJECT_STORE_CONCURRENCY', 4, 1, 64),
    queueMax: read.int('OBJECT_STORE_QUEUE_MAX', 10_000, 1, 1_000_000),
    retryWindowMs: read.int('OBJECT_STORE_RETRY_WINDOW_MS', 600_000, 1000, 7 * 86_400_000),
    localRetention: read.oneOf('OBJECT_STORE_LOCAL_RETENTION', LOCAL_RETENTIONS, 'keep'),
  };
  if (url === undefined) {
    read.check(endpoint === undefined, 'OBJECT_STORE_ENDPOINT: set without OBJECT_STORE_URL (expected s3://bucket/prefix)');
    return undefined;
  }
  const parsed = parseObjectStoreUrl(url);
  read.check(parsed !== undefined, 'OBJECT_STORE_URL: expected s3://bucket/prefix with a bucket name of 3 to 63 lowercase letters, digits, dots and hyphens');
  if (parsed === undefined) return undefined;
  return { ...parsed, endpoint, forcePathStyle, region, ...settings };
}

export function parseObjectStoreUrl(url: string): { bucket: string; prefix: string } | undefined {
  const match = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/.exec(url);
  if (match === null) return undefined;
  const prefix = (match[2] ?? '').replace(/^\/+|\/+$/g, '');
  if (prefix.split('/').some((segment) => segment === '.' || segment === '..')) return undefined;
  return { bucket: match[1] ?? '', prefix };
}
