/**
 * `--object-store` for `npm run bench -- perf`: the connector uploads its output to a real
 * S3-compatible server (s3rver, test/support/s3Server.ts) on this machine while the load runs,
 * so the perf table's connector CPU and RSS include the uploads (docs/object-storage.md).
 * Prints what the store holds at the end.
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { S3TestServer, s3TestEnv } from '../../test/support/s3Server.ts';

export interface BenchObjectStore {
  readonly env: Readonly<Record<string, string>>;
  /** Stops the server; resolves with the objects and bytes it stored. */
  stop(): Promise<{ objects: number; bytes: number }>;
}

export async function startBenchObjectStore(): Promise<BenchObjectStore> {
  const server = await S3TestServer.create('bench');
  return {
    env: { ...s3TestEnv(server, 's3://bench/perf'), OBJECT_STORE_SCAN_INTERVAL_MS: '2000' },
    async stop() {
      await server.stop();
      const totals = { objects: 0, bytes: 0 };
      for (const name of await readdir(server.directory, { recursive: true })) {
        // s3rver keeps each object's content as `<key>._S3rver_object`.
        if (!name.endsWith('._S3rver_object')) continue;
        totals.objects += 1;
        totals.bytes += (await stat(join(server.directory, name))).size;
      }
      await server.dispose();
      return totals;
    },
  };
}
