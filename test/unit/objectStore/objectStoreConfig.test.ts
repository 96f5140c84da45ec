import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config.ts';
import { ConfigError } from '../../../src/errors.ts';
import { attemptNumbers, coveredEnd, parsePartKey, partKey } from '../../../src/objectStore/objectLayout.ts';
import { failureOf } from '../../../src/objectStore/objectStoreErrors.ts';

const required = { ZM_RTMS_CLIENT: 'client-id', ZM_RTMS_SECRET: 'very-secret-value', ZM_WEBHOOK_SECRET_TOKEN: 'token-value' };

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig({ ...required, ...env });
    return [];
  } catch (error) {
    return (error as ConfigError).problems as string[];
  }
}

describe('OBJECT_STORE_* settings', () => {
  it('is off without OBJECT_STORE_URL', () => {
    expect(loadConfig(required).objectStore).toBeUndefined();
  });

  it('reads bucket and prefix, and defaults path style on with an endpoint', () => {
    const config = loadConfig({ ...required, OBJECT_STORE_URL: 's3://my-bucket/a/b/', OBJECT_STORE_ENDPOINT: 'http://127.0.0.1:9000' }).objectStore;
    expect(config).toMatchObject({
      bucket: 'my-bucket',
      prefix: 'a/b',
      endpoint: 'http://127.0.0.1:9000',
      forcePathStyle: true,
      region: 'us-east-1',
      partBytes: 8 * 1024 * 1024,
      partIntervalMs: 10_000,
      localRetention: 'keep',
    });
    expect(loadConfig({ ...required, OBJECT_STORE_URL: 's3://my-bucket', AWS_REGION: 'eu-west-1' }).objectStore).toMatchObject({
      prefix: '',
      forcePathStyle: false,
      region: 'eu-west-1',
    });
  });

  it('refuses bad values with one line each, naming the variable', () => {
    expect(problems({ OBJECT_STORE_URL: 'https://bucket/x' })).toEqual(['OBJECT_STORE_URL: expected a URL starting with s3://']);
    expect(problems({ OBJECT_STORE_URL: 's3://B/x' })[0]).toMatch(/^OBJECT_STORE_URL: expected s3:\/\/bucket\/prefix/);
    expect(problems({ OBJECT_STORE_URL: 's3://bucket/../x' })[0]).toMatch(/^OBJECT_STORE_URL: /);
    expect(problems({ OBJECT_STORE_URL: 's3://bucket/x', OBJECT_STORE_PART_BYTES: '1048576' })[0]).toMatch(
      /^OBJECT_STORE_PART_BYTES: expected an integer from 5242880/,
    );
    expect(problems({ OBJECT_STORE_ENDPOINT: 'http://minio:9000' })).toEqual([
      'OBJECT_STORE_ENDPOINT: set without OBJECT_STORE_URL (expected s3://bucket/prefix)',
    ]);
    expect(problems({ OBJECT_STORE_URL: 's3://bucket/x', OBJECT_STORE_LOCAL_RETENTION: 'forever' })[0]).toMatch(
      /^OBJECT_STORE_LOCAL_RETENTION: expected one of keep, delete/,
    );
  });
});

describe('object layout', () => {
  it('names parts by byte range so that keys sort in byte order, and reads them back', () => {
    const base = 'p/s/attempts/1/';
    const key = partKey(base, 'audio.wav', 0, 327_680);
    expect(key).toBe('p/s/attempts/1/audio.wav.parts/000000000000000-000000000327680');
    expect(parsePartKey(base, key)).toEqual({ file: 'audio.wav', start: 0, end: 327_680 });
    expect(parsePartKey(base, 'p/s/attempts/1/audio.wav')).toBeUndefined();
    expect(partKey(base, 'a', 9, 10) < partKey(base, 'a', 10, 11)).toBe(true);
  });

  it('continues after the parts that cover a file from byte 0 without a hole', () => {
    expect(coveredEnd([])).toBe(0);
    expect(
      coveredEnd([
        { start: 100, end: 250 },
        { start: 0, end: 100 },
      ]),
    ).toBe(250);
    expect(
      coveredEnd([
        { start: 0, end: 100 },
        { start: 150, end: 200 },
      ]),
    ).toBe(100);
    expect(
      coveredEnd([
        { start: 0, end: 100 },
        { start: 0, end: 150 },
        { start: 100, end: 120 },
      ]),
    ).toBe(150);
    expect(attemptNumbers(['p/s/attempts/1/', 'p/s/attempts/12/', 'p/s/attempts/x/'])).toEqual([1, 12]);
  });

  it('sorts SDK and socket errors into closed reasons', () => {
    expect(failureOf({ name: 'NoSuchBucket', $metadata: { httpStatusCode: 404 } })).toBe('no_bucket');
    expect(failureOf({ name: 'AccessDenied', $metadata: { httpStatusCode: 403 } })).toBe('denied');
    expect(failureOf({ name: 'SlowDown', $metadata: { httpStatusCode: 503 } })).toBe('throttled');
    expect(failureOf({ name: 'InternalError', $metadata: { httpStatusCode: 500 } })).toBe('server_error');
    expect(failureOf(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }))).toBe('unreachable');
  });
});
