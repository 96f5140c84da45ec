import { createHash } from 'node:crypto';
import { appendFile, mkdir, readdir, readFile, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EnvReader } from '../../../src/envReader.ts';
import { createLogger } from '../../../src/logger.ts';
import { readObjectStoreConfig } from '../../../src/objectStore/objectStoreConfig.ts';
import { ObjectStoreUploader, type UploaderObserver } from '../../../src/objectStore/objectStoreUploader.ts';
import { eventually } from '../../support/eventually.ts';
import { S3TestServer, s3TestEnv } from '../../support/s3Server.ts';
import { tempDir, type TempDir } from '../../support/tempDir.ts';
import { wavHeader } from '../../support/wavReader.ts';

const MiB = 1024 * 1024;
const BUCKET = 'recordings';

function chunk(index: number, bytes: number): Buffer {
  const buffer = Buffer.alloc(bytes);
  for (let i = 0; i < bytes; i += 4) buffer.writeUInt32LE((index * 7919 + i) >>> 0, i);
  return buffer;
}

const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

describe('object storage upload against a real S3-compatible server (s3rver)', () => {
  let output: TempDir;
  let server: Awaited<ReturnType<typeof S3TestServer.create>>;
  const failures: string[] = [];
  const kinds: string[] = [];
  const notUploaded: { reason: string; files: number }[] = [];
  const observer: UploaderObserver = {
    uploaded: (kind) => kinds.push(kind),
    failed: (reason) => failures.push(reason),
    retried() {},
    notUploaded: (reason, files) => notUploaded.push({ reason, files }),
    overflowed() {},
  };

  beforeAll(async () => {
    output = await tempDir('rtms-s3-out-');
    server = await S3TestServer.create(BUCKET);
  });
  afterAll(async () => {
    await server.dispose();
    await output.remove();
  });

  async function listKeys(prefix: string): Promise<{ key: string; size: number }[]> {
    const client = server.client();
    const page = await client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix }));
    client.destroy();
    return (page.Contents ?? []).map((item) => ({ key: item.Key ?? '', size: item.Size ?? 0 }));
  }

  async function getObject(key: string): Promise<Buffer> {
    const found = (await server.objects(BUCKET, key)).get('');
    if (found === undefined) throw new Error(`no object ${key}`);
    return found;
  }

  it('streams parts while the file grows, survives the store stopping, and ends with byte-identical objects', async () => {
    const env = {
      ...s3TestEnv(server, `s3://${BUCKET}/tenant-a`),
      OBJECT_STORE_PART_BYTES: String(5 * MiB),
      OBJECT_STORE_PART_INTERVAL_MS: '300',
      OBJECT_STORE_SCAN_INTERVAL_MS: '100',
      OBJECT_STORE_SMALL_FILE_INTERVAL_MS: '200',
    };
    Object.assign(process.env, env);
    const read = new EnvReader(env);
    const config = readObjectStoreConfig(read, env);
    expect(read.problems).toEqual([]);
    const logger = createLogger({ level: 'silent' });
    const uploader = new ObjectStoreUploader({ config: config!, outputDir: output.path, logger, observer, ownedDirectories: () => new Set(['stream-1']) });
    const stream = join(output.path, 'stream-1');
    await mkdir(stream);
    await writeFile(join(stream, 'stream.json'), JSON.stringify({ state: 'live' }));
    const audio = join(stream, 'audio.wav');
    let dataBytes = 0;
    await writeFile(audio, wavHeader(0));
    // Another process's live stream on a shared volume (not ours, stream.json fresh): left to it.
    await mkdir(join(output.path, 'other'));
    await writeFile(join(output.path, 'other', 'stream.json'), JSON.stringify({ state: 'live' }));
    await writeFile(join(output.path, 'other', 'audio.wav'), Buffer.concat([wavHeader(1000), chunk(9, 1000)]));
    const grow = async (bytes: number): Promise<void> => {
      await appendFile(audio, chunk(dataBytes, bytes));
      dataBytes += bytes;
      const handle = await import('node:fs/promises').then((fs) => fs.open(audio, 'r+'));
      await handle.write(wavHeader(dataBytes), 0, 44, 0);
      await handle.close();
    };
    const partsEnd = async (): Promise<number> => {
      const parts = (await listKeys('tenant-a/stream-1/attempts/1/audio.wav.parts/'))
        .map((item) => /(\d{15})-(\d{15})$/.exec(item.key)!)
        .map((m) => [Number(m[1]), Number(m[2])] as const);
      parts.sort((a, b) => a[0] - b[0]);
      // Contiguous, no overlap, no duplicate range: retries rewrote the same keys.
      parts.forEach(([start], i) => expect(start).toBe(i === 0 ? 0 : parts[i - 1]![1]));
      return parts.at(-1)?.[1] ?? 0;
    };
    uploader.start();
    await grow(3 * MiB);
    await eventually(async () => (await partsEnd()) === 44 + dataBytes, { what: 'a part for the first 3 MiB (time-based)' });
    await grow(6 * MiB);
    await eventually(async () => (await partsEnd()) === 44 + dataBytes, { what: 'parts up to 9 MiB' });

    // The store goes away; the stream goes on writing locally.
    await server.stop();
    const failedBefore = failures.length;
    await grow(1 * MiB);
    await eventually(() => failures.length >= failedBefore + 2, { what: 'uploads to fail while the store is down' });
    expect(failures.slice(failedBefore).every((reason) => reason === 'unreachable')).toBe(true);
    await grow(2 * MiB);
    await server.start();
    await eventually(async () => (await partsEnd()) === 44 + dataBytes, { what: 'the parts to catch up after the store returned', timeoutMs: 40_000 });

    // Small files while live, then the stream ends: whole objects, parts removed.
    await writeFile(join(stream, 'events.jsonl'), '{"eventType":"stream.live"}\n');
    await writeFile(join(stream, 'transcript.jsonl'), '{"text":"hello"}\n{"text":"wor');
    await mkdir(join(stream, 'video'));
    await writeFile(join(stream, 'video', '1000.jpg'), chunk(5, 2048));
    await writeFile(join(stream, 'stream.json'), JSON.stringify({ state: 'ended' }));
    await eventually(
      async () => {
        const keys = await listKeys('tenant-a/stream-1/');
        if (!keys.some((item) => item.key.endsWith('/stream.json'))) return false;
        const document = JSON.parse((await getObject('tenant-a/stream-1/attempts/1/stream.json')).toString()) as { objectStore?: { complete: boolean } };
        return document.objectStore?.complete === true;
      },
      { what: 'the final stream.json with its objectStore record', timeoutMs: 30_000 },
    );
    await uploader.stop();

    const keys = (await listKeys('tenant-a/stream-1/')).map((item) => item.key).sort();
    expect(keys).toEqual(
      ['.owner.json', 'audio.wav', 'events.jsonl', 'stream.json', 'transcript.jsonl', 'video/1000.jpg'].map((name) => `tenant-a/stream-1/attempts/1/${name}`),
    );
    for (const name of ['audio.wav', 'events.jsonl', 'transcript.jsonl', 'stream.json', 'video/1000.jpg']) {
      expect(sha256(await getObject(`tenant-a/stream-1/attempts/1/${name}`)), name).toBe(sha256(await readFile(join(stream, name))));
    }
    // Over 5 MiB: one multipart upload (s3rver names a completed multipart upload `ObjectCreated:Post`,
    // a PutObject `ObjectCreated:Put`; this uploader never uses browser POST uploads).
    const eventsOf = (name: string): string[] =>
      server.events.filter((event) => event.key === `tenant-a/stream-1/attempts/1/${name}`).map((event) => event.eventName);
    expect(eventsOf('audio.wav')).toEqual(['ObjectCreated:Post']);
    expect(eventsOf('transcript.jsonl')).toEqual(['ObjectCreated:Put']);
    expect(await listKeys('tenant-a/other/')).toEqual([]);
    const local = JSON.parse(await readFile(join(stream, 'stream.json'), 'utf8')) as { objectStore: unknown };
    expect(local.objectStore).toEqual({ url: `s3://${BUCKET}/tenant-a/stream-1/attempts/1/`, attempt: 1, complete: true, notUploaded: [] });
  }, 120_000);

  it('counts, logs and records in stream.json what could not be stored by the end of the retry window', async () => {
    const env = { ...s3TestEnv(server, `s3://${BUCKET}/tenant-b`), OBJECT_STORE_SCAN_INTERVAL_MS: '100', OBJECT_STORE_RETRY_WINDOW_MS: '1500' };
    Object.assign(process.env, env);
    const read = new EnvReader(env);
    const config = readObjectStoreConfig(read, env)!;
    const outputDir = join(output.path, 'second');
    const stream = join(outputDir, 'stream-2');
    await mkdir(stream, { recursive: true });
    await writeFile(join(stream, 'audio.wav'), Buffer.concat([wavHeader(64_000), chunk(1, 64_000)]));
    await writeFile(join(stream, 'stream.json'), JSON.stringify({ state: 'ended' }));
    await server.stop();
    const uploader = new ObjectStoreUploader({ config, outputDir, logger: createLogger({ level: 'silent' }), observer, ownedDirectories: () => new Set() });
    uploader.start();
    try {
      const record = await eventually(
        async () =>
          (JSON.parse(await readFile(join(stream, 'stream.json'), 'utf8')) as { objectStore?: { complete: boolean; notUploaded: unknown[] } }).objectStore,
        {
          what: 'the objectStore record of a stream the store never took',
        },
      );
      expect(record).toEqual({
        url: `s3://${BUCKET}/tenant-b/stream-2/`,
        attempt: null,
        complete: false,
        notUploaded: [
          { file: 'audio.wav', reason: 'unreachable' },
          { file: 'stream.json', reason: 'unreachable' },
        ],
      });
      expect(notUploaded).toEqual([{ reason: 'unreachable', files: 2 }]);
    } finally {
      await uploader.stop();
      await server.start();
    }
  }, 60_000);

  it('OBJECT_STORE_LOCAL_RETENTION=delete removes a growing file once its object is confirmed, and keeps stream.json', async () => {
    const env = { ...s3TestEnv(server, `s3://${BUCKET}/tenant-c`), OBJECT_STORE_SCAN_INTERVAL_MS: '100', OBJECT_STORE_LOCAL_RETENTION: 'delete' };
    Object.assign(process.env, env);
    const config = readObjectStoreConfig(new EnvReader(env), env)!;
    const outputDir = join(output.path, 'third');
    const stream = join(outputDir, 'stream-3');
    await mkdir(stream, { recursive: true });
    const audio = Buffer.concat([wavHeader(6 * MiB), chunk(3, 6 * MiB)]);
    await writeFile(join(stream, 'audio.wav'), audio);
    await writeFile(join(stream, 'stream.json'), JSON.stringify({ state: 'ended' }));
    const uploader = new ObjectStoreUploader({ config, outputDir, logger: createLogger({ level: 'silent' }), observer, ownedDirectories: () => new Set() });
    uploader.start();
    try {
      await eventually(async () => !(await readdir(stream)).includes('audio.wav'), { what: 'the local audio.wav to be deleted' });
      expect(sha256(await getObject('tenant-c/stream-3/attempts/1/audio.wav'))).toBe(sha256(audio));
      expect((await readdir(stream)).filter((name) => !name.startsWith('.'))).toEqual(['stream.json']);
    } finally {
      await uploader.stop();
    }
  }, 60_000);

  it('a stored stream waits for nothing: the lag is 0 once its stream.json record is stored too, and after a restart', async () => {
    const env = s3TestEnv(server, `s3://${BUCKET}/tenant-d`);
    Object.assign(process.env, env);
    const config = readObjectStoreConfig(new EnvReader(env), env)!;
    const outputDir = join(output.path, 'fourth');
    const stream = join(outputDir, 'stream-4');
    await mkdir(stream, { recursive: true });
    await writeFile(join(stream, 'audio.wav'), Buffer.concat([wavHeader(1000), chunk(4, 1000)]));
    await writeFile(join(stream, 'stream.json'), JSON.stringify({ state: 'ended' }));
    for (const run of ['first', 'restarted']) {
      let now = 1_000_000;
      const uploader = new ObjectStoreUploader({
        config,
        outputDir,
        logger: createLogger({ level: 'silent' }),
        observer,
        ownedDirectories: () => new Set(),
        now: () => now,
      });
      const recordStored = (): Promise<boolean> =>
        getObject('tenant-d/stream-4/attempts/1/stream.json').then(
          (body) => (JSON.parse(body.toString('utf8')) as { objectStore?: { complete?: boolean } }).objectStore?.complete === true,
          () => false,
        );
      try {
        let scans = 0;
        await eventually(
          async () => {
            if (uploader.inFlight > 0) return false;
            if (scans > 0 && (await recordStored())) return true;
            await uploader.scan();
            scans += 1;
            return false;
          },
          { what: `the ${run} uploader to store the stream and its stream.json record` },
        );
        now += 100_000;
        expect(uploader.lagSeconds(), run).toBe(0);
      } finally {
        await uploader.stop();
      }
    }
  }, 60_000);

  it('a file cut back locally (a batch undone after a full disk) has its later parts replaced: the parts stay equal to the file', async () => {
    const env = { ...s3TestEnv(server, `s3://${BUCKET}/tenant-d`), OBJECT_STORE_SCAN_INTERVAL_MS: '100', OBJECT_STORE_PART_INTERVAL_MS: '200' };
    Object.assign(process.env, env);
    const config = readObjectStoreConfig(new EnvReader(env), env)!;
    const outputDir = join(output.path, 'fourth');
    const stream = join(outputDir, 'stream-4');
    await mkdir(stream, { recursive: true });
    await writeFile(join(stream, 'stream.json'), JSON.stringify({ state: 'live' }));
    const index = join(stream, 'audio.wav.index.jsonl');
    await writeFile(index, '{"offset":44}\n{"offset":364}\n');
    const uploader = new ObjectStoreUploader({
      config,
      outputDir,
      logger: createLogger({ level: 'silent' }),
      observer,
      ownedDirectories: () => new Set(['stream-4']),
    });
    const partsOf = async (): Promise<Buffer> => {
      const parts = await server.objects(BUCKET, 'tenant-d/stream-4/attempts/1/audio.wav.index.jsonl.parts/');
      return Buffer.concat([...parts.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([, body]) => body));
    };
    uploader.start();
    try {
      await eventually(async () => (await partsOf()).equals(await readFile(index)), { what: 'the index in parts' });
      // The last line is undone, and another written in its place.
      await truncate(index, '{"offset":44}\n'.length);
      await appendFile(index, '{"offset":999}\n{"offset":1319}\n');
      await eventually(async () => (await partsOf()).equals(await readFile(index)), { what: 'the parts to follow the file that was cut back' });
    } finally {
      await uploader.stop();
    }
  }, 60_000);
});
