import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EnvReader } from '../../../src/envReader.ts';
import { createLogger } from '../../../src/logger.ts';
import { readObjectStoreConfig } from '../../../src/objectStore/objectStoreConfig.ts';
import { ObjectStoreUploader, type UploaderObserver } from '../../../src/objectStore/objectStoreUploader.ts';
import { freePort } from '../../support/freePort.ts';
import { tempDir, type TempDir } from '../../support/tempDir.ts';

let output: TempDir | undefined;
afterEach(async () => {
  await output?.remove();
});

describe('ObjectStoreUploader with an unreachable store (a port nothing listens on)', () => {
  it('queues at most OBJECT_STORE_QUEUE_MAX streams and counts the rest; counts the failures; the lag grows with the clock', async () => {
    output = await tempDir('rtms-upload-unit-');
    for (const name of ['a', 'b', 'c']) {
      await mkdir(join(output.path, name));
      await writeFile(join(output.path, name, 'stream.json'), JSON.stringify({ state: 'live' }));
      await writeFile(join(output.path, name, 'audio.wav'), Buffer.alloc(100));
    }
    const env = {
      OBJECT_STORE_URL: 's3://bucket/p',
      OBJECT_STORE_ENDPOINT: `http://127.0.0.1:${await freePort()}`,
      OBJECT_STORE_QUEUE_MAX: '1',
      OBJECT_STORE_CONCURRENCY: '1',
      AWS_ACCESS_KEY_ID: 'x',
      AWS_SECRET_ACCESS_KEY: 'y',
    };
    Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'y' });
    const config = readObjectStoreConfig(new EnvReader(env), env)!;
    let now = 1_000_000;
    const counts = { overflowed: 0, failed: [] as string[], retried: 0 };
    const observer: UploaderObserver = {
      uploaded() {},
      failed: (reason) => counts.failed.push(reason),
      retried: () => (counts.retried += 1),
      notUploaded() {},
      overflowed: () => (counts.overflowed += 1),
    };
    const uploader = new ObjectStoreUploader({
      config,
      outputDir: output.path,
      logger: createLogger({ level: 'silent' }),
      observer,
      ownedDirectories: () => new Set(['a', 'b', 'c']),
      now: () => now,
    });
    await uploader.scan();
    // One fits in the queue (and is then started); the two others are counted and left to the next scan.
    expect(counts.overflowed).toBe(2);
    expect(uploader.queueDepth + uploader.inFlight).toBe(1);
    await uploader.finish(5000);
    expect(counts.failed.length).toBeGreaterThanOrEqual(1);
    expect(new Set(counts.failed)).toEqual(new Set(['unreachable']));
    now += 30_000;
    expect(uploader.lagSeconds()).toBe(30);
    // Stream directories removed from OUTPUT_DIR no longer count.
    for (const name of ['a', 'b', 'c']) await rm(join(output.path, name), { recursive: true });
    await uploader.scan();
    expect(uploader.lagSeconds()).toBe(0);
    await uploader.stop();
  });
});
