import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { AddressInfo, Socket } from 'node:net';
import type { Clock } from '../clock.ts';
import type { Config } from '../config.ts';
import { describeError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { AdminRoutes, type StreamControl } from './adminRoutes.ts';
import { AuthFailureLimiter } from './authFailureLimiter.ts';
import { ConnectionLimiter, type ConnectionDropReason } from './connectionLimiter.ts';
import { serves, type ListenerRole, type RouteGroup } from './listenerRole.ts';
import { sendError, sendJson } from './jsonResponse.ts';
import { declaredTooLarge } from './readBody.ts';
import { MemoryWebhookDeduplicator, type WebhookDeduplicator } from './webhookDeduplicator.ts';
import { WebhookHandler, type RtmsWebhookEvent, type WebhookOutcomeListener } from './webhookHandler.ts';
import { WebhookVerifier } from './webhookVerifier.ts';

/** What `GET /metrics` serves, e.g. from prom-client's `register.metrics()` and `contentType`. */
export interface MetricsText {
  readonly contentType: string;
  readonly body: string;
}

export interface HttpServerOptions {
  /** `config.http`: listener address, webhook path, body limit (bytes), timestamp tolerance (s). */
  readonly http: Config['http'];
  /** `ZM_WEBHOOK_SECRET_TOKEN`: webhook signatures and the URL-validation answer. Never logged. */
  readonly webhookSecretToken: string;
  /** `ADMIN_TOKEN`; undefined or empty disables every `/streams` route (401). */
  readonly adminToken: string | undefined;
  /** Slows repeated 401s per address; pass the live feed's too so attempts add up. Default: its own. */
  readonly authFailures?: AuthFailureLimiter;
  /** `CONSUMER_TOKEN`: read-only access to the `GET /streams…` routes. */
  readonly consumerToken?: string | undefined;
  /** Default: an in-memory one (90 min TTL, `http.webhookDedupMaxBytes`) on `clock`. */
  readonly deduplicator?: WebhookDeduplicator | undefined;
  /** Time source for signature freshness, dedup expiry and snapshots. Default `Date.now`. */
  readonly clock?: Pick<Clock, 'now'>;
  readonly logger: Logger;
  /** New verified webhooks, called after the 200 is written (see `WebhookHandlerOptions.onWebhook`). */
  readonly onWebhook: (event: RtmsWebhookEvent) => void | Promise<void>;
  /** One call per webhook request, for metrics; keeps prom-client out of this module. */
  readonly onOutcome?: WebhookOutcomeListener;
  /** `GET /readyz`: true = accepting streams (200), false = draining or starting (503). */
  readonly isReady: () => boolean;
  /**
   * Whether an `rtms_started` for this stream is taken (false: 503, Zoom retries); default
   * `isReady`. Lets a stream already running here move (failover) while new ones are refused.
   */
  readonly acceptsStart?: (rtmsStreamId: string) => boolean;
  readonly metrics: () => Promise<MetricsText>;
  /**
   * WebSocket upgrades (`GET /streams/{id}/live`); returns false for a path it does not
   * serve, which is answered 404.
   */
  readonly onUpgrade?: (request: IncomingMessage, socket: Duplex, head: Buffer) => boolean;
  readonly streams: StreamControl;
  /**
   * Longest time a client may take to send one whole request, ms. Default 30 000: a webhook
   * is a few hundred bytes, and a slow sender must not hold a socket for Node's 300 s default.
   */
  readonly requestTimeoutMs?: number;
  /** Which routes this listener serves (see listenerRole.ts); others answer 404. Default `all`. */
  readonly role?: ListenerRole;
}

/** `GET /healthz` answer: the process is alive and its event loop turns. */
export interface HealthAnswer {
  readonly status: 'ok';
}

/** `GET /readyz` answer: 200 `ready`, 503 `not_ready`. */
export interface ReadinessAnswer {
  readonly status: 'ready' | 'not_ready';
}

type Lifecycle = 'new' | 'listening' | 'closed';

/**
 * The connector's single HTTP listener: Zoom's webhook, probes, Prometheus and the admin
 * API. Every answer is JSON except `/metrics`; every error is `{"error": code, "reason": …}`.
 *
 * | route | answer |
 * |---|---|
 * | `POST {webhookPath}` | see `WebhookHandler` (200, 400, 401, 405, 413) |
 * | `GET /healthz` | 200 `{"status":"ok"}` |
 * | `GET /readyz` | 200 `{"status":"ready"}` / 503 `{"status":"not_ready"}` |
 * | `GET /metrics` | 200 Prometheus text |
 * | `/streams…` | see `AdminRoutes` (bearer `adminToken`) |
 * | anything else | 404 `ROUTE_NOT_FOUND` |
 *
 * Unexpected exceptions answer 500 `INTERNAL_ERROR` without details; the log has them.
 */
export class HttpServer {
  readonly #server: Server;
  readonly #config: Config['http'];
  readonly #logger: Logger;
  readonly #webhook: WebhookHandler;
  readonly #admin: AdminRoutes;
  readonly #isReady: () => boolean;
  readonly #metrics: () => Promise<MetricsText>;
  readonly #connections: ConnectionLimiter;
  readonly #role: ListenerRole;
  #lifecycle: Lifecycle = 'new';
  #closed: Promise<void> | undefined;

  constructor(options: HttpServerOptions) {
    const clock = options.clock ?? { now: Date.now };
    this.#config = options.http;
    this.#logger = options.logger.child({ component: 'http' });
    this.#isReady = options.isReady;
    this.#metrics = options.metrics;
    this.#role = options.role ?? 'all';
    this.#webhook = new WebhookHandler({
      secretToken: options.webhookSecretToken,
      verifier: new WebhookVerifier({
        secretToken: options.webhookSecretToken,
        toleranceSeconds: options.http.webhookToleranceSeconds,
        clock,
      }),
      deduplicator: options.deduplicator ?? new MemoryWebhookDeduplicator({ clock, maxBytes: options.http.webhookDedupMaxBytes }),
      maxBodyBytes: options.http.webhookMaxBodyBytes,
      logger: this.#logger,
      onWebhook: options.onWebhook,
      onOutcome: options.onOutcome,
      acceptsStreams: options.acceptsStart ?? (() => options.isReady()),
    });
    this.#admin = new AdminRoutes({
      adminToken: options.adminToken,
      authFailures: options.authFailures ?? new AuthFailureLimiter({ clock }),
      consumerToken: options.consumerToken,
      streams: options.streams,
      now: () => clock.now(),
      logger: this.#logger,
    });

    const requestTimeout = options.requestTimeoutMs ?? 30_000;
    this.#server = createServer({ requestTimeout, headersTimeout: Math.min(requestTimeout, 60_000) }, (request, response) =>
      this.#onRequest(request, response),
    );
    const maxConnections = options.http.maxConnections;
    this.#connections = new ConnectionLimiter({
      maxConnections,
      onDrop: (reason, total) => {
        // A flood closes thousands: the first and every 1,000th are logged, the metric counts all.
        if (total === 1 || total % 1000 === 0) {
          this.#logger.warn({ reason, total, maxConnections }, 'HTTP_MAX_CONNECTIONS reached: closing connections');
        }
      },
    });
    this.#server.on('connection', (socket: Socket) => this.#connections.accept(socket));
    this.#server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
      this.#connections.upgraded(socket as Socket);
      socket.on('error', () => socket.destroy());
      if (!serves(this.#role, 'admin') || options.onUpgrade?.(request, socket, head) !== true) {
        socket.end('HTTP/1.1 404 Not Found\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
      }
    });
    // An oversized webhook announced with `expect: 100-continue` is refused before the
    // client sends it; anything else gets the usual 100 and normal handling.
    this.#server.on('checkContinue', (request: IncomingMessage, response: ServerResponse) => {
      if (!(pathOf(request.url) === this.#config.webhookPath && declaredTooLarge(request, this.#config.webhookMaxBodyBytes))) {
        response.writeContinue();
      }
      this.#onRequest(request, response);
    });
  }

  /** Connections open now, and how many `HTTP_MAX_CONNECTIONS` has closed, by reason. */
  get connections(): { readonly open: number; readonly dropped: Readonly<Record<ConnectionDropReason, number>> } {
    return { open: this.#connections.open, dropped: this.#connections.dropped };
  }

  /** Bound address once listening, else undefined. */
  get address(): { readonly host: string; readonly port: number } | undefined {
    const address = this.#server.address();
    if (address === null || typeof address === 'string') return undefined;
    return { host: address.address, port: address.port };
  }

  /** Starts listening on `config.host`:`config.port` (0 = any free port). Rejects on bind errors. */
  listen(): Promise<{ readonly port: number }> {
    if (this.#lifecycle !== 'new') return Promise.reject(new Error(`HttpServer: listen() when ${this.#lifecycle}`));
    this.#lifecycle = 'listening';
    return new Promise((resolve, reject) => {
      const onError = (error: Error): void => {
        this.#lifecycle = 'closed';
        reject(error);
      };
      this.#server.once('error', onError);
      this.#server.listen(this.#config.port, this.#config.host, () => {
        this.#server.off('error', onError);
        this.#server.on('error', (error) => this.#logger.error({ err: describeError(error) }, 'http server error'));
        const { port } = this.#server.address() as AddressInfo;
        this.#logger.info({ host: this.#config.host, port, webhookPath: this.#config.webhookPath, role: this.#role }, 'http listening');
        resolve({ port });
      });
    });
  }

  /**
   * Stops accepting connections, closes idle keep-alive ones and resolves when in-flight
   * requests have been answered. Idempotent; safe before `listen()`.
   */
  close(): Promise<void> {
    this.#closed ??= new Promise<void>((resolve, reject) => {
      const wasListening = this.#server.listening;
      this.#lifecycle = 'closed';
      if (!wasListening) {
        resolve();
        return;
      }
      this.#server.close((error) => (error === undefined ? resolve() : reject(error)));
      this.#server.closeIdleConnections();
    });
    return this.#closed;
  }

  /** Like `close()` but also cuts connections with requests in flight. Idempotent. */
  destroy(): Promise<void> {
    const closed = this.close();
    this.#server.closeAllConnections();
    return closed;
  }

  #onRequest(request: IncomingMessage, response: ServerResponse): void {
    this.#connections.requestStarted(request.socket, request, response);
    this.#route(request, response).catch((error: unknown) => {
      this.#logger.error({ err: describeError(error), method: request.method }, 'http request failed');
      if (response.headersSent) response.destroy();
      else sendError(response, 500, 'INTERNAL_ERROR', 'internal error');
    });
  }

  async #route(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = pathOf(request.url);
    if (path === undefined) return sendError(response, 400, 'PATH_INVALID', 'path: expected an origin-form request target');
    const group = routeGroup(path, this.#config.webhookPath);
    if (group !== undefined && !serves(this.#role, group)) return sendError(response, 404, 'ROUTE_NOT_FOUND', 'no such route');
    if (path === this.#config.webhookPath) return this.#webhook.handle(request, response);

    switch (path) {
      case '/healthz':
        if (!this.#allowGet(request, response)) return;
        return sendJson(response, 200, { status: 'ok' } satisfies HealthAnswer);
      case '/readyz': {
        if (!this.#allowGet(request, response)) return;
        const ready = this.#isReady();
        return sendJson(response, ready ? 200 : 503, { status: ready ? 'ready' : 'not_ready' } satisfies ReadinessAnswer);
      }
      case '/metrics': {
        if (!this.#allowGet(request, response)) return;
        const metrics = await this.#metrics();
        response.writeHead(200, {
          'content-type': metrics.contentType,
          'content-length': String(Buffer.byteLength(metrics.body)),
          'cache-control': 'no-store',
        });
        response.end(metrics.body);
        return;
      }
    }

    const segments = path.slice(1).split('/');
    if (segments[0] === 'streams') return this.#admin.handle(request, response, segments);
    sendError(response, 404, 'ROUTE_NOT_FOUND', 'no such route');
  }

  #allowGet(request: IncomingMessage, response: ServerResponse): boolean {
    if (request.method === 'GET' || request.method === 'HEAD') return true;
    sendError(response, 405, 'METHOD_NOT_ALLOWED', `method ${request.method ?? ''} not allowed here`, { allow: 'GET, HEAD' });
    return false;
  }
}

/** Creates the HTTP listener; call `listen()` to start it. */
export function createHttpServer(options: HttpServerOptions): HttpServer {
  return new HttpServer(options);
}

function routeGroup(path: string, webhookPath: string): RouteGroup | undefined {
  if (path === webhookPath) return 'webhook';
  if (path === '/healthz' || path === '/readyz') return 'probe';
  if (path === '/metrics') return 'metrics';
  if (path === '/streams' || path.startsWith('/streams/')) return 'admin';
  return undefined;
}

/** The raw (still percent-encoded) path of a request target, without the query; undefined if not origin-form. */
function pathOf(target: string | undefined): string | undefined {
  if (target === undefined || !target.startsWith('/')) return undefined;
  const end = target.search(/[?#]/);
  return end === -1 ? target : target.slice(0, end);
}
