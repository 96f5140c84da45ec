import http from 'node:http';
import { safeEqual, urlValidationToken, webhookSignature } from '../../../../../src/rtms/signature.ts';

/** One webhook as received: raw bytes, headers, parsed body and whether its signature verified. */
export interface ReceivedWebhook {
  readonly rawBody: Buffer;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: { event: string; event_ts: number; payload: Record<string, unknown> };
  readonly signatureValid: boolean;
}

/**
 * A minimal webhook endpoint for tests: verifies `x-zm-signature` with the shared helper,
 * answers `endpoint.url_validation`, answers 401 to bad signatures and 200 otherwise, and
 * lets the test await specific events. `onEvent` runs for every verified event.
 */
export class WebhookReceiver {
  readonly received: ReceivedWebhook[] = [];
  onEvent: (webhook: ReceivedWebhook) => void = () => {};
  /** Status to answer verified non-validation events with (default 200). */
  status = 200;
  readonly #server: http.Server;
  readonly #secretToken: string;
  readonly #waiters: Array<{ predicate: (webhook: ReceivedWebhook) => boolean; resolve: (webhook: ReceivedWebhook) => void }> = [];

  private constructor(secretToken: string) {
    this.#secretToken = secretToken;
    this.#server = http.createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const rawBody = Buffer.concat(chunks);
        const timestamp = String(request.headers['x-zm-request-timestamp'] ?? '');
        const signature = String(request.headers['x-zm-signature'] ?? '');
        const expected = webhookSignature({ secretToken: this.#secretToken, timestamp, rawBody });
        const webhook: ReceivedWebhook = {
          rawBody,
          headers: request.headers,
          body: JSON.parse(rawBody.toString('utf8')) as ReceivedWebhook['body'],
          signatureValid: safeEqual(expected, signature),
        };
        this.received.push(webhook);
        if (!webhook.signatureValid) {
          response.writeHead(401).end();
          return;
        }
        if (webhook.body.event === 'endpoint.url_validation') {
          const plainToken = String(webhook.body.payload['plainToken']);
          response
            .writeHead(200, { 'content-type': 'application/json' })
            .end(JSON.stringify({ plainToken, encryptedToken: urlValidationToken({ secretToken: this.#secretToken, plainToken }) }));
          return;
        }
        response.writeHead(this.status).end();
        for (let i = this.#waiters.length - 1; i >= 0; i -= 1) {
          const waiter = this.#waiters[i];
          if (waiter !== undefined && waiter.predicate(webhook)) {
            this.#waiters.splice(i, 1);
            waiter.resolve(webhook);
          }
        }
        this.onEvent(webhook);
      });
    });
  }

  static async start(secretToken: string): Promise<WebhookReceiver> {
    const receiver = new WebhookReceiver(secretToken);
    await new Promise<void>((resolve) => receiver.#server.listen(0, '127.0.0.1', resolve));
    return receiver;
  }

  get url(): string {
    const address = this.#server.address();
    if (address === null || typeof address === 'string') throw new Error('not listening');
    return `http://127.0.0.1:${address.port}/webhook`;
  }

  /** Resolves with the first verified webhook (already received or future) matching `predicate`. */
  waitFor(predicate: (webhook: ReceivedWebhook) => boolean): Promise<ReceivedWebhook> {
    const existing = this.received.find((webhook) => webhook.signatureValid && predicate(webhook));
    if (existing !== undefined) return Promise.resolve(existing);
    return new Promise((resolve) => this.#waiters.push({ predicate, resolve }));
  }

  /** Resolves with the first webhook named `event` for `rtmsStreamId`. */
  waitForEvent(event: string, rtmsStreamId?: string, nth = 1): Promise<ReceivedWebhook> {
    let seen = 0;
    return this.waitFor((webhook) => {
      if (webhook.body.event !== event) return false;
      const payload = (webhook.body.payload['object'] ?? webhook.body.payload) as Record<string, unknown>;
      if (rtmsStreamId !== undefined && payload['rtms_stream_id'] !== rtmsStreamId) return false;
      seen += 1;
      return seen >= nth;
    });
  }

  events(event?: string): ReceivedWebhook[] {
    return this.received.filter((webhook) => webhook.signatureValid && (event === undefined || webhook.body.event === event));
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
  }
}
