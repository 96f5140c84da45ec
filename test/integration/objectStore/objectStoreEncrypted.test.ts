import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EnvReader } from '../../../src/envReader.ts';
import { createLogger } from '../../../src/logger.ts';
import type { Confirmation } from '../../../src/objectStore/objectConfirmation.ts';
import { ObjectStoreClient } from '../../../src/objectStore/objectStoreClient.ts';
import { readObjectStoreConfig, type ObjectStoreConfig } from '../../../src/objectStore/objectStoreConfig.ts';
import { ObjectStoreError } from '../../../src/objectStore/objectStoreErrors.ts';
import { ObjectStoreUploader, type UploaderObserver } from '../../../src/objectStore/objectStoreUploader.ts';
import { eventually } from '../../support/eventually.ts';
import { S3EtagProxy } from '../../support/s3EtagProxy.ts';
import { s3TestEnv } from '../../support/s3Server.ts';
import { tempDir, type TempDir } from '../../support/tempDir.ts';
import { wavHeader } from '../../support/wavReader.ts';
import { s3ServerForFile } from './s3Fixture.ts';

const MiB = 1024 * 1024;
const BUCKET = 'encrypted';
const s3 = s3ServerForFile(BUCKET);

function chunk(index: number, bytes: number): Buffer {
  const buffer = Buffer.alloc(bytes);
  for (let i = 0; i < bytes; i += 4) buffer.writeUInt32LE((index * 7919 + i) >>> 0, i);
  return buffer;
}

const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');
/** Where the uploader stores the test's stream (named `stream`), first attempt. */
const attempt = (config: ObjectStoreConfig): string => `${config.prefix}/stream/attempts/1/`;

/** A finished stream: a WAV over 5 MiB (a multipart upload of 3 parts), a 3 MiB H.264 and small files (single PUTs). */
const FILES: Record<string, Buffer> = {
  'audio.wav': Buffer.concat([wavHeader(12 * MiB), chunk(1, 12 * MiB)]),
  'video.h264': chunk(2, 3 * MiB),
  'transcript.jsonl': Buffer.from('{"text":"hello"}\n'),
  'events.jsonl': Buffer.from('{"eventType":"stream.ended"}\n'),
};

describe('object storage on a bucket whose ETags are no MD5 (an SSE-KMS bucket, through a real proxy to s3rver)', () => {
  let output: TempDir;
  beforeAll(async () => {
    output = await tempDir('rtms-s3-kms-');
  });
  afterAll(async () => {
    await output.remove();
  });

  function configFor(endpoint: string, tenant: string, extra: Record<string, string> = {}): ObjectStoreConfig {
    const env = {
      ...s3TestEnv(s3.server, `s3://${BUCKET}/${tenant}`),
      OBJECT_STORE_ENDPOINT: endpoint,
      OBJECT_STORE_PART_BYTES: String(5 * MiB),
      OBJECT_STORE_SCAN_INTERVAL_MS: '100',
      ...extra,
    };
    // The SDK's credential chain reads the environment.
    Object.assign(process.env, env);
    const read = new EnvReader(env);
    const config = readObjectStoreConfig(read, env);
    expect(read.problems).toEqual([]);
    return config!;
  }

  async function finishedStream(name: string): Promise<string> {
    const directory = join(output.path, name, 'stream');
    await mkdir(directory, { recursive: true });
    for (const [file, bytes] of Object.entries(FILES)) await writeFile(join(directory, file), bytes);
    await writeFile(join(directory, 'stream.json'), JSON.stringify({ state: 'ended' }));
    return directory;
  }

  /** Runs an uploader on `name`'s finished stream until it is recorded as stored, or a sync failed; `stored`: its last `stream stored` log line. */
  async function store(
    name: string,
    config: ObjectStoreConfig,
  ): Promise<{
    confirmed: { kind: string; confirmedBy: Confirmation }[];
    failures: string[];
    stored: { confirmedBy?: Record<Confirmation, number> } | undefined;
  }> {
    const directory = await finishedStream(name);
    const confirmed: { kind: string; confirmedBy: Confirmation }[] = [];
    const failures: string[] = [];
    const observer: UploaderObserver = {
      uploaded: (kind, _bytes, confirmedBy) => confirmed.push({ kind, confirmedBy }),
      failed: (reason) => failures.push(reason),
      retried() {},
      notUploaded() {},
      overflowed() {},
    };
    const lines: string[] = [];
    const logger = createLogger({ level: 'info', destination: { write: (line: string) => lines.push(line) } });
    const uploader = new ObjectStoreUploader({ config, outputDir: join(output.path, name), logger, observer, ownedDirectories: () => new Set() });
    uploader.start();
    try {
      await eventually(
        async () => {
          if (failures.length > 0) return true;
          const record = (JSON.parse(await readFile(join(directory, 'stream.json'), 'utf8')) as { objectStore?: { complete: boolean } }).objectStore;
          // Settled once the record is in the store too (the uploader stores stream.json again).
          return record?.complete === true && (await s3.objects(`${attempt(config)}stream.json`)).get('')?.includes('"objectStore"') === true;
        },
        { what: `the stream of ${name} stored and recorded`, timeoutMs: 30_000 },
      );
    } finally {
      await uploader.stop();
    }
    const logged = lines.map((line) => JSON.parse(line) as { msg: string; confirmedBy?: Record<Confirmation, number> });
    return { confirmed, failures, stored: logged.findLast((line) => line.msg === 'object store: stream stored') };
  }

  async function expectStoredAsLocal(config: ObjectStoreConfig): Promise<void> {
    const stored = await s3.objects(attempt(config));
    expect([...stored.keys()].sort()).toEqual(['.owner.json', ...Object.keys(FILES), 'stream.json'].sort());
    for (const [file, bytes] of Object.entries(FILES)) expect(sha256(stored.get(file)!), file).toBe(sha256(bytes));
    const eventsOf = (file: string): string[] => s3.server.events.filter((event) => event.key === `${attempt(config)}${file}`).map((event) => event.eventName);
    // Over 5 MiB: one completed multipart upload; the others single PUTs.
    expect(eventsOf('audio.wav')).toEqual(['ObjectCreated:Post']);
    expect(eventsOf('video.h264')).toEqual(['ObjectCreated:Put']);
  }

  it('SSE-KMS answers (random ETags, x-amz-server-side-encryption: aws:kms): single PUTs and a multipart upload are confirmed by Content-MD5 and stored byte for byte', async () => {
    const proxy = await S3EtagProxy.start({ target: s3.server.port, encryption: 'aws:kms' });
    try {
      const config = configFor(proxy.endpoint, 'kms');
      const { confirmed, failures, stored } = await store('kms', config);
      expect(failures).toEqual([]);
      // Every answer the store gave for a stored object was rewritten: 3 parts, 1 complete, the PUTs.
      expect(proxy.rewritten.part).toBe(3);
      expect(proxy.rewritten.complete).toBe(1);
      expect(proxy.rewritten.put).toBeGreaterThanOrEqual(5);
      expect(proxy.etagsReplaced).toBe(proxy.rewritten.put + proxy.rewritten.part + proxy.rewritten.complete);
      // audio.wav, video.h264, transcript.jsonl whole; events.jsonl and stream.json (again with its record).
      expect(confirmed.filter((item) => item.kind === 'final')).toHaveLength(3);
      expect(confirmed.length).toBeGreaterThanOrEqual(5);
      expect(new Set(confirmed.map((item) => item.confirmedBy))).toEqual(new Set(['content_md5']));
      expect(stored?.confirmedBy).toEqual({ etag: 0, content_md5: confirmed.length });
      await expectStoredAsLocal(config);
    } finally {
      await proxy.close();
    }
  }, 60_000);

  it('the same stream straight to s3rver (MD5 ETags) is confirmed by ETag', async () => {
    const config = configFor(s3.server.endpoint, 'plain');
    const { confirmed, failures, stored } = await store('plain', config);
    expect(failures).toEqual([]);
    expect(confirmed.length).toBeGreaterThanOrEqual(5);
    expect(new Set(confirmed.map((item) => item.confirmedBy))).toEqual(new Set(['etag']));
    expect(stored?.confirmedBy).toEqual({ etag: confirmed.length, content_md5: 0 });
    await expectStoredAsLocal(config);
  }, 60_000);

  it('random ETags WITHOUT the encryption header (a store answering a wrong MD5) still fail as checksum_mismatch: single PUT, multipart, and the uploader records it', async () => {
    const proxy = await S3EtagProxy.start({ target: s3.server.port, encryption: undefined });
    try {
      const config = configFor(proxy.endpoint, 'wrong', { OBJECT_STORE_RETRY_WINDOW_MS: '1000' });
      const client = new ObjectStoreClient(config);
      const local = join(output.path, 'wrong-local');
      await mkdir(local, { recursive: true });
      try {
        for (const [file, bytes] of [
          ['video.h264', FILES['video.h264']!],
          ['audio.wav', FILES['audio.wav']!],
        ] as const) {
          await writeFile(join(local, file), bytes);
          const failure = await client.uploadFile(`${config.prefix}/direct/${file}`, join(local, file), bytes.length, config.partBytes).then(
            () => undefined,
            (error: unknown) => error,
          );
          expect(failure, file).toBeInstanceOf(ObjectStoreError);
          expect((failure as ObjectStoreError).reason, file).toBe('checksum_mismatch');
        }
      } finally {
        client.close();
      }
      expect(proxy.rewritten.put).toBe(1);
      // The first part's ETag already fails: the upload is never completed.
      expect(proxy.rewritten.part).toBe(1);
      expect(proxy.rewritten.complete).toBe(0);
      expect(proxy.etagsReplaced).toBe(2);

      // The uploader: retried, then recorded as not uploaded for that reason.
      const directory = await finishedStream('wrong');
      const failures: string[] = [];
      const confirmed: string[] = [];
      const observer: UploaderObserver = {
        uploaded: (kind) => confirmed.push(kind),
        failed: (reason) => failures.push(reason),
        retried() {},
        notUploaded() {},
        overflowed() {},
      };
      const uploader = new ObjectStoreUploader({
        config,
        outputDir: join(output.path, 'wrong'),
        logger: createLogger({ level: 'silent' }),
        observer,
        ownedDirectories: () => new Set(),
      });
      uploader.start();
      try {
        const record = await eventually(
          async () =>
            (JSON.parse(await readFile(join(directory, 'stream.json'), 'utf8')) as { objectStore?: { complete: boolean; notUploaded: { reason: string }[] } })
              .objectStore,
          { what: 'the objectStore record of a stream the store answered wrong checksums for' },
        );
        expect(record.complete).toBe(false);
        expect(new Set(record.notUploaded.map((item) => item.reason))).toEqual(new Set(['checksum_mismatch']));
        expect(failures.length).toBeGreaterThanOrEqual(1);
        expect(new Set(failures)).toEqual(new Set(['checksum_mismatch']));
        expect(confirmed).toEqual([]);
      } finally {
        await uploader.stop();
      }
    } finally {
      await proxy.close();
    }
  }, 60_000);
});
