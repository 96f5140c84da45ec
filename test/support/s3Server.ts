import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { createInterface } from 'node:readline';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { freePort } from './freePort.ts';
import { tempDir, type TempDir } from './tempDir.ts';

/** s3rver's entry point, resolved from here (the child runs `node -e` in any working directory). */
const S3RVER = createRequire(import.meta.url).resolve('s3rver');

/**
 * A real S3-compatible server for tests: s3rver (docs/object-storage.md#testing) in a child
 * process on a free port, storing into `directory` so that `stop()` then `start()` keeps every
 * object and multipart part, like a store that was unreachable for a while. Its object-created
 * events (`s3:ObjectCreated:Put`, `…:CompleteMultipartUpload`) are collected in `events`.
 */
export class S3TestServer {
  readonly directory: string;
  readonly events: { eventName: string; key: string; size: number }[] = [];
  port = 0;
  #child: ChildProcess | undefined;

  constructor(directory: string) {
    this.directory = directory;
  }

  /** A started server in a fresh temporary directory, with `bucket` created; `dispose()` removes both. */
  static async create(bucket: string): Promise<S3TestServer & { dispose(): Promise<void> }> {
    const directory: TempDir = await tempDir('rtms-s3-store-');
    const server = new S3TestServer(directory.path);
    await server.start();
    await server.createBucket(bucket);
    return Object.assign(server, {
      async dispose() {
        await server.stop();
        await directory.remove();
      },
    });
  }

  /** Every object of `bucket` under `prefix` (at most 1000), by key relative to `prefix`, with its bytes. */
  async objects(bucket: string, prefix: string): Promise<Map<string, Buffer>> {
    const client = this.client();
    try {
      const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
      const result = new Map<string, Buffer>();
      for (const item of page.Contents ?? []) {
        const body = await client.send(new GetObjectCommand({ Bucket: bucket, Key: item.Key! }));
        result.set(item.Key!.slice(prefix.length), Buffer.from(await body.Body!.transformToByteArray()));
      }
      return result;
    } finally {
      client.destroy();
    }
  }

  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    if (this.port === 0) this.port = await freePort();
    const script = `
      const S3rver = require(${JSON.stringify(S3RVER)});
      const server = new S3rver({ port: ${this.port}, address: '127.0.0.1', directory: ${JSON.stringify(this.directory)}, silent: true });
      server.on('event', (e) => { const r = e.Records[0]; console.log(JSON.stringify({ eventName: r.eventName, key: r.s3.object.key, size: r.s3.object.size })); });
      server.run().then(() => console.log('ready'));`;
    const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    this.#child = child;
    const lines = createInterface({ input: child.stdout });
    await new Promise<void>((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`s3rver exited with ${code}`)));
      lines.on('line', (line) => {
        if (line === 'ready') resolve();
        else if (line.startsWith('{')) this.events.push(JSON.parse(line) as { eventName: string; key: string; size: number });
      });
    });
  }

  /** Stops the server at once (SIGKILL): requests in flight fail like a store that went away. */
  async stop(): Promise<void> {
    const child = this.#child;
    if (child === undefined || child.exitCode !== null) return;
    child.kill('SIGKILL');
    await once(child, 'exit');
    this.#child = undefined;
  }

  client(): S3Client {
    return new S3Client({
      endpoint: this.endpoint,
      forcePathStyle: true,
      region: 'us-east-1',
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
  }

  async createBucket(bucket: string): Promise<void> {
    const client = this.client();
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
    client.destroy();
  }
}

/** The environment an uploader needs to reach the test server (s3rver's fixed test credentials). */
export function s3TestEnv(server: S3TestServer, url: string): Record<string, string> {
  return {
    OBJECT_STORE_URL: url,
    OBJECT_STORE_ENDPOINT: server.endpoint,
    AWS_ACCESS_KEY_ID: 'S3RVER',
    AWS_SECRET_ACCESS_KEY: 'S3RVER',
    AWS_REGION: 'us-east-1',
  };
}
