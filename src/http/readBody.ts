import type { IncomingMessage } from 'node:http';

/** Outcome of reading a request body; not an exception because both failures are expected traffic. */
export type BodyReadResult =
  | { readonly ok: true; readonly body: Buffer }
  /** `tooLarge`: declared or streamed size above the limit; the rest was not read. */
  | { readonly ok: false; readonly reason: 'tooLarge' }
  /** `aborted`: the client went away (or the socket failed) before the body ended. */
  | { readonly ok: false; readonly reason: 'aborted' };

/** True when `content-length` announces more than `maxBytes`. */
export function declaredTooLarge(request: IncomingMessage, maxBytes: number): boolean {
  const declared = request.headers['content-length'];
  // Node's parser has already refused a malformed content-length with 400.
  return declared !== undefined && Number(declared) > maxBytes;
}

/**
 * Reads a request body into one Buffer, holding at most `maxBytes`.
 *
 * `content-length` is checked first so an oversized announced body is refused without
 * reading a byte; chunked bodies are counted while streaming and reading stops at the
 * first chunk past the limit. Chunks are kept in a list and concatenated once at the end.
 * Never rejects: a client that disconnects mid-body yields `aborted`.
 */
export function readBody(request: IncomingMessage, options: { maxBytes: number }): Promise<BodyReadResult> {
  const { maxBytes } = options;
  if (declaredTooLarge(request, maxBytes)) return Promise.resolve({ ok: false, reason: 'tooLarge' });

  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let length = 0;

    const finish = (result: BodyReadResult): void => {
      request.off('data', onData);
      request.off('end', onEnd);
      request.off('error', onAborted);
      request.off('close', onClose);
      // Keep a no-op error listener: a late socket error on a request we stopped reading
      // must not become an uncaught exception.
      request.on('error', ignore);
      resolve(result);
    };
    const onData = (chunk: Buffer): void => {
      length += chunk.length;
      if (length > maxBytes) {
        // Stop pulling data; the caller answers 413 with `connection: close`, after which
        // Node discards what is still in flight and closes the socket.
        request.pause();
        chunks.length = 0;
        finish({ ok: false, reason: 'tooLarge' });
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => finish({ ok: true, body: Buffer.concat(chunks, length) });
    const onAborted = (): void => finish({ ok: false, reason: 'aborted' });
    const onClose = (): void => {
      if (!request.complete) onAborted();
    };

    request.on('data', onData);
    request.on('end', onEnd);
    request.on('error', onAborted);
    request.on('close', onClose);
  });
}

function ignore(): void {}
