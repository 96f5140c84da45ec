import http from 'node:http';
import https from 'node:https';
import type { Logger } from 'pino';
import { webhookSignature } from './connectorShared.ts';
import { SimulatorError } from './simulatorErrors.ts';

/** What a webhook POST got back. */
export interface WebhookResponse {
  readonly status: number;
  /** Response body as text, cut at 64 KiB. */
  readonly body: string;
}

export interface WebhookPostOptions {
  /** Key for `x-zm-signature`; default: the simulator's webhook secret token. */
  readonly secretToken?: string;
  /** `x-zm-request-timestamp` in seconds since the epoch; default: now. */
  readonly timestamp?: number | string;
  /** Leave out `x-zm-signature` and `x-zm-request-timestamp` entirely. */
  readonly unsigned?: boolean;
  /** Target URL; default: the simulator's webhook URL. */
  readonly url?: string;
}

const MAX_RESPONSE_BYTES = 64 * 1024;

/**
 * Signs and POSTs webhooks the way Zoom does (docs/protocol.md#signature-verification): raw JSON body,
 * `x-zm-request-timestamp` in seconds, `x-zm-signature: v0=<hex HMAC>`. A request that has
 * no answer within the deadline (Zoom: 3 s) fails. `close()` aborts whatever is in flight.
 */
export class WebhookSender {
  readonly #url: string;
  readonly #secretToken: string;
  readonly #timeoutMs: number;
  readonly #logger: Logger;
  readonly #now: () => number;
  readonly #abort = new AbortController();
  readonly #httpAgent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  readonly #httpsAgent = new https.Agent({ keepAlive: true, maxSockets: 64 });

  /**
   * @param options.timeoutMs answer deadline per request, ms (default 3000, Zoom's).
   * @param options.now wall clock, ms epoch (default Date.now).
   */
  constructor(options: { url: string; secretToken: string; timeoutMs?: number; logger: Logger; now?: () => number }) {
    const parsed = new URL(options.url);
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw new SimulatorError('INVALID_OPTION', `webhookUrl must be http:// or https://, got ${parsed.protocol}`);
    }
    this.#url = options.url;
    this.#secretToken = options.secretToken;
    this.#timeoutMs = options.timeoutMs ?? 3000;
    this.#logger = options.logger;
    this.#now = options.now ?? Date.now;
  }

  get url(): string {
    return this.#url;
  }

  /**
   * POSTs `body` (an object is JSON-serialised; a string or Buffer is sent as is) and resolves
   * with the answer, whatever its status. Rejects with `SimulatorError('WEBHOOK_DELIVERY_FAILED')`
   * on connection errors, the deadline, or after `close()`.
   */
  async post(body: unknown, options: WebhookPostOptions = {}): Promise<WebhookResponse> {
    if (this.#abort.signal.aborted) throw new SimulatorError('SIMULATOR_CLOSED', 'the simulator is closed');
    const raw = Buffer.isBuffer(body) ? body : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
    const target = new URL(options.url ?? this.#url);
    const headers: Record<string, string> = {
      'content-type': 'application/json; charset=utf-8',
      'content-length': String(raw.length),
      'user-agent': 'Zoom Marketplace/1.0a (rtms-connector simulator)',
    };
    if (options.unsigned !== true) {
      const timestamp = String(options.timestamp ?? Math.floor(this.#now() / 1000));
      headers['x-zm-request-timestamp'] = timestamp;
      headers['x-zm-signature'] = webhookSignature({ secretToken: options.secretToken ?? this.#secretToken, timestamp, rawBody: raw });
    }
    const signal = AbortSignal.any([this.#abort.signal, AbortSignal.timeout(this.#timeoutMs)]);
    const transport = target.protocol === 'https:' ? https : http;
    const agent = target.protocol === 'https:' ? this.#httpsAgent : this.#httpAgent;
    return new Promise<WebhookResponse>((resolve, reject) => {
      const request = transport.request(target, { method: 'POST', headers, agent, signal }, (response) => {
        const chunks: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          if (size < MAX_RESPONSE_BYTES) chunks.push(chunk.subarray(0, MAX_RESPONSE_BYTES - size));
          size += chunk.length;
        });
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        response.on('error', (error) => reject(this.#failure(target, error, signal)));
      });
      request.on('error', (error) => reject(this.#failure(target, error, signal)));
      request.end(raw);
    });
  }

  #failure(target: URL, error: Error, signal: AbortSignal): SimulatorError {
    if (this.#abort.signal.aborted) return new SimulatorError('SIMULATOR_CLOSED', 'the simulator is closed', { cause: error });
    const reason = signal.aborted ? `no answer within ${this.#timeoutMs} ms` : error.message;
    this.#logger.debug({ err: error, url: target.origin }, 'webhook delivery failed');
    return new SimulatorError('WEBHOOK_DELIVERY_FAILED', `webhook POST to ${target.origin}${target.pathname} failed: ${reason}`, { cause: error });
  }

  /** Aborts in-flight requests and closes kept-alive connections. Idempotent. */
  close(): void {
    this.#abort.abort();
    this.#httpAgent.destroy();
    this.#httpsAgent.destroy();
  }
}
