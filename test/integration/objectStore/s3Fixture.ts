import { afterAll, beforeAll } from 'vitest';
import { S3TestServer } from '../../support/s3Server.ts';

type Server = Awaited<ReturnType<typeof S3TestServer.create>>;

/** One s3rver with `bucket` for the test file that calls this (started before its tests, removed after). */
export function s3ServerForFile(bucket: string): { readonly server: Server; objects(prefix: string): Promise<Map<string, Buffer>> } {
  let server: Server | undefined;
  beforeAll(async () => {
    server = await S3TestServer.create(bucket);
  });
  afterAll(async () => {
    await server?.dispose();
  });
  return {
    get server(): Server {
      if (server === undefined) throw new Error('the S3 test server is not started');
      return server;
    },
    objects: (prefix) => server!.objects(bucket, prefix),
  };
}
