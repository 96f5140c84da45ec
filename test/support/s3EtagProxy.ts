import { randomBytes } from 'node:crypto';
import { createServer, request, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** The store answers the proxy rewrites: PutObject, UploadPart, CompleteMultipartUpload. */
type Rewritten = 'put' | 'part' | 'complete';

const HEX32 = /[0-9a-f]{32}/i;
const ETAG_ELEMENT = /<ETag>(.*?)<\/ETag>/g;

/**
 * A real HTTP proxy on 127.0.0.1 in front of the S3 test server (s3Server.ts) that answers like
 * a bucket with default SSE-KMS encryption (docs/object-storage.md#checksums): every request is
 * forwarded unchanged, and the answers of PUT object, upload part and complete multipart upload
 * get `x-amz-server-side-encryption: <encryption>` and a random 32-hex ETag instead of the
 * store's MD5 (the header, and the `<ETag>` of the complete answer). Like such a bucket, it knows
 * its own ETags: the parts named in a complete request are mapped back to the store's. With
 * `encryption: undefined` the ETags are replaced without the header: a store that answers a
 * wrong MD5. Signatures stay valid: the Host header is kept, and s3rver skips payload hashes.
 */
export class S3EtagProxy {
  readonly encryption: string | undefined;
  /** Answers rewritten so far, by operation. */
  readonly rewritten: Record<Rewritten, number> = { put: 0, part: 0, complete: 0 };
  /** ETags replaced so far (one per rewritten answer when each carried one). */
  etagsReplaced = 0;
  readonly #target: number;
  readonly #server: Server;
  /** Store ETag (hex) for each ETag handed out. */
  readonly #real = new Map<string, string>();

  private constructor(target: number, encryption: string | undefined) {
    this.#target = target;
    this.encryption = encryption;
    this.#server = createServer((req, res) => {
      this.#forward(req, res).catch(() => res.destroy());
    });
  }

  /** A proxy to the store on 127.0.0.1:`target`, listening on a port of its own (port 0, no race). */
  static async start(options: { target: number; encryption: string | undefined }): Promise<S3EtagProxy> {
    const proxy = new S3EtagProxy(options.target, options.encryption);
    await new Promise<void>((resolve, reject) => {
      proxy.#server.once('error', reject);
      proxy.#server.listen(0, '127.0.0.1', resolve);
    });
    return proxy;
  }

  get endpoint(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  async #forward(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const operation = operationOf(req.method ?? '', new URL(req.url ?? '/', 'http://proxy'));
    let body = await readAll(req);
    // The client names its parts by the ETags it was given; the store knows them by its own.
    if (operation === 'complete')
      body = Buffer.from(body.toString('utf8').replace(ETAG_ELEMENT, (element) => element.replace(HEX32, (etag) => this.#real.get(etag) ?? etag)));
    // The body is whole here: sent with its length, without waiting for a 100 Continue.
    const headers: IncomingHttpHeaders = { ...req.headers };
    delete headers['transfer-encoding'];
    delete headers.expect;
    if (headers['content-length'] !== undefined || body.length > 0) headers['content-length'] = String(body.length);
    const upstream = await new Promise<IncomingMessage>((resolve, reject) => {
      const outgoing = request({ host: '127.0.0.1', port: this.#target, method: req.method, path: req.url, headers }, resolve);
      outgoing.once('error', reject);
      outgoing.end(body);
    });
    let answer = await readAll(upstream);
    const answerHeaders: IncomingHttpHeaders = { ...upstream.headers };
    if (operation !== undefined && upstream.statusCode === 200) {
      if (operation === 'complete')
        answer = Buffer.from(answer.toString('utf8').replace(ETAG_ELEMENT, (element) => element.replace(HEX32, (etag) => this.#fake(etag))));
      else if (answerHeaders.etag !== undefined) answerHeaders.etag = answerHeaders.etag.replace(HEX32, (etag) => this.#fake(etag));
      if (this.encryption !== undefined) answerHeaders['x-amz-server-side-encryption'] = this.encryption;
      answerHeaders['content-length'] = String(answer.length);
      delete answerHeaders['transfer-encoding'];
      this.rewritten[operation] += 1;
    }
    res.writeHead(upstream.statusCode ?? 502, answerHeaders);
    res.end(answer);
  }

  #fake(real: string): string {
    const fake = randomBytes(16).toString('hex');
    this.etagsReplaced += 1;
    this.#real.set(fake, real);
    return fake;
  }
}

function operationOf(method: string, url: URL): Rewritten | undefined {
  // Path style: /<bucket>/<key>; a bucket alone is no object.
  if (url.pathname.split('/').filter(Boolean).length < 2) return undefined;
  const upload = url.searchParams.has('uploadId');
  if (method === 'PUT') return upload && url.searchParams.has('partNumber') ? 'part' : upload ? undefined : 'put';
  if (method === 'POST' && upload) return 'complete';
  return undefined;
}

async function readAll(stream: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
