import type { IncomingMessage, ServerResponse } from 'node:http';
import { describeError, WebhookError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { boundEventTs } from './eventTsBound.ts';
import { sendError, sendJson, type HttpErrorCode } from './jsonResponse.ts';
import { readBody } from './readBody.ts';
import { answerUrlValidation } from './urlValidationAnswer.ts';
import { dedupKey, type WebhookDeduplicator } from './webhookDeduplicator.ts';
import type { WebhookEvent } from './webhookEvent.ts';
import { KNOWN_WEBHOOK_EVENTS, parseJson, parseWebhookJson, URL_VALIDATION_EVENT } from './webhookParser.ts';
import { SIGNATURE_HEADER, type WebhookVerifier } from './webhookVerifier.ts';

/**
 * Largest unsigned body that is parsed, to see whether it is Zoom's URL challenge (a
 * ~150-byte JSON object with a `plainToken` of at most 256 characters). Nesting that fits in
 * 1 KiB costs nothing to parse.
 */
export const MAX_UNSIGNED_BODY_BYTES = 1024;

/** A webhook the connector acts on: every `WebhookEvent` except the URL challenge. */
export type RtmsWebhookEvent = Exclude<WebhookEvent, { kind: 'urlValidation' }>;

/** How a request to the webhook path ended, for `rtms_webhooks_total{outcome,reason}`. */
export type WebhookOutcome = 'accepted' | 'duplicate' | 'rejected';

/**
 * Called exactly once per request to the webhook path. `reason` is set for `rejected` only:
 * a `WEBHOOK_*` error code, `METHOD_NOT_ALLOWED`, `REQUEST_ABORTED` (client left
 * mid-body) or `INTERNAL_ERROR`: a small, fixed set, safe as a metric label.
 * `endpoint.url_validation` answered counts as `accepted`.
 */
export type WebhookOutcomeListener = (outcome: WebhookOutcome, reason?: string) => void;

export interface WebhookHandlerOptions {
  /** Webhook secret token, for the URL-validation answer. Never logged. */
  readonly secretToken: string;
  readonly verifier: WebhookVerifier;
  readonly deduplicator: WebhookDeduplicator;
  /** Largest accepted body, bytes; more is answered 413 unread. */
  readonly maxBodyBytes: number;
  readonly logger: Logger;
  /**
   * Receives each new (non-duplicate) verified event, on a later turn of the event loop
   * after the 200 has been written, so nothing it does can delay Zoom's 3 s deadline. A
   * throw or rejection is logged; the delivery is not retried (Zoom already has its 200).
   */
  readonly onWebhook: (event: RtmsWebhookEvent) => void | Promise<void>;
  readonly onOutcome?: WebhookOutcomeListener | undefined;
  /**
   * False while the instance drains (SIGTERM) or cannot write OUTPUT_DIR: an `rtms_started`
   * for this stream then gets 503 before its dedup key is claimed, so Zoom's retry (or another
   * replica) can still take the stream.
   */
  readonly acceptsStreams: (rtmsStreamId: string) => boolean;
}

/** `{"status": "accepted" | "duplicate"}`: the 200 answer to a verified webhook. */
export interface WebhookAck {
  readonly status: 'accepted' | 'duplicate';
}

/**
 * `POST {webhookPath}` (docs/protocol.md#webhooks):
 *
 * 1. read the raw body, at most `maxBodyBytes` (413 `WEBHOOK_BODY_TOO_LARGE`);
 * 2. an unsigned body of at most `MAX_UNSIGNED_BODY_BYTES` that is `endpoint.url_validation`
 *    → 200 `{plainToken, encryptedToken}` (as Zoom's SDK example does), 400 when malformed;
 * 3. verify `x-zm-signature` and freshness on the raw bytes (401), then parse (400); a
 *    signed `endpoint.url_validation` is answered like an unsigned one;
 * 4. while draining, `rtms_started` → 503 `WEBHOOK_NOT_ACCEPTING` (key not claimed);
 * 5. claim the dedup key: a repeat → 200 `{"status":"duplicate"}`;
 * 6. 200 `{"status":"accepted"}`, then `onWebhook(event)` once the response is done.
 *
 * Logs carry the event name, stream id, outcome and error code; never the body, the
 * signature header or the token.
 */
export class WebhookHandler {
  readonly #secretToken: string;
  readonly #verifier: WebhookVerifier;
  readonly #deduplicator: WebhookDeduplicator;
  readonly #maxBodyBytes: number;
  readonly #logger: Logger;
  readonly #onWebhook: (event: RtmsWebhookEvent) => void | Promise<void>;
  readonly #onOutcome: WebhookOutcomeListener | undefined;
  readonly #acceptsStreams: (rtmsStreamId: string) => boolean;

  constructor(options: WebhookHandlerOptions) {
    this.#secretToken = options.secretToken;
    this.#verifier = options.verifier;
    this.#deduplicator = options.deduplicator;
    this.#maxBodyBytes = options.maxBodyBytes;
    this.#logger = options.logger;
    this.#onWebhook = options.onWebhook;
    this.#onOutcome = options.onOutcome;
    this.#acceptsStreams = options.acceptsStreams;
  }

  /** Answers one request to the webhook path. Never rejects. */
  async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    // Tracked from the start: if the client leaves while we await the deduplicator, the
    // response's 'close' has already fired by the time we would listen for it.
    let responseClosed = false;
    response.once('close', () => {
      responseClosed = true;
    });
    let eventName: string | undefined;
    try {
      if (request.method !== 'POST') {
        this.#outcome('rejected', 'METHOD_NOT_ALLOWED', eventName);
        sendError(response, 405, 'METHOD_NOT_ALLOWED', `method ${request.method ?? ''} not allowed here`, { allow: 'POST' });
        return;
      }

      const read = await readBody(request, { maxBytes: this.#maxBodyBytes });
      if (!read.ok) {
        if (read.reason === 'aborted') {
          this.#outcome('rejected', 'REQUEST_ABORTED', eventName);
          return;
        }
        // `connection: close` lets Node drop the unread rest of the body with the socket
        // instead of reading it to reuse the connection.
        throw new WebhookError('WEBHOOK_BODY_TOO_LARGE', 413, `body: larger than ${this.#maxBodyBytes} bytes`);
      }

      // Zoom's SDK example answers the URL challenge without a signature. Only an unsigned
      // body small enough to be one is parsed; everything else is verified on its raw bytes
      // first, so an anonymous client never makes us parse (a deeply nested 64 KB body costs
      // ~10x a flat one) and learns nothing about our parser.
      if (request.headers[SIGNATURE_HEADER] === undefined && read.body.length <= MAX_UNSIGNED_BODY_BYTES) {
        const json = parseJsonOrUndefined(read.body);
        if (knownEventName(json) === URL_VALIDATION_EVENT) {
          eventName = URL_VALIDATION_EVENT;
          this.#answerChallenge(response, json);
          return;
        }
      }
      this.#verifier.verify(request.headers, read.body);
      const json = parseJson(read.body);
      eventName = knownEventName(json);
      const parsed = parseWebhookJson(json);
      if (parsed.kind === 'urlValidation') {
        this.#answerChallenge(response, json);
        return;
      }
      const { event, clampedFrom } = boundEventTs(parsed, Number(request.headers['x-zm-request-timestamp']));
      if (clampedFrom !== undefined && event.kind === 'started') {
        this.#logger.warn(
          { event: event.event, rtmsStreamId: event.start.rtmsStreamId, eventTs: clampedFrom, orderedAt: event.start.eventTs },
          'event_ts far ahead of the request timestamp; ordered by the request timestamp',
        );
      }

      if (event.kind === 'started' && !this.#acceptsStreams(event.start.rtmsStreamId)) {
        throw new WebhookError(
          'WEBHOOK_NOT_ACCEPTING',
          503,
          'not accepting new streams (shutting down, or OUTPUT_DIR unusable); retry later or on another instance',
        );
      }
      const fresh = await this.#claim(event);
      const streamId = rtmsStreamIdOf(event);
      if (!fresh) {
        this.#outcome('duplicate', undefined, event.event, streamId);
        sendJson(response, 200, { status: 'duplicate' } satisfies WebhookAck);
        return;
      }
      this.#outcome('accepted', undefined, event.event, streamId);
      sendJson(response, 200, { status: 'accepted' } satisfies WebhookAck);
      // After the answer is out (or the client is gone: the key is claimed, so Zoom's retry
      // would be dropped as a duplicate and this is the only chance to act on the event).
      if (responseClosed) this.#dispatch(event);
      else response.once('close', () => this.#dispatch(event));
    } catch (error) {
      this.#reject(response, error, eventName);
    }
  }

  #answerChallenge(response: ServerResponse, json: unknown): void {
    const challenge = parseWebhookJson(json);
    if (challenge.kind !== 'urlValidation') throw new Error('url_validation parsed as another kind');
    const answer = answerUrlValidation({ secretToken: this.#secretToken, plainToken: challenge.plainToken });
    this.#outcome('accepted', undefined, URL_VALIDATION_EVENT);
    sendJson(response, 200, answer);
  }

  async #claim(event: RtmsWebhookEvent): Promise<boolean> {
    const key = dedupKey(event);
    if (key === undefined) return true;
    try {
      return await this.#deduplicator.claim(key);
    } catch (error) {
      // Fail open: a lost stream (Zoom's next retry is 5 min away, past the 60 s grace)
      // is worse than a repeat, which the supervisor treats as a no-op or a failover.
      this.#logger.warn({ event: event.event, err: describeError(error) }, 'webhook dedup unavailable, accepting');
      return true;
    }
  }

  #dispatch(event: RtmsWebhookEvent): void {
    setImmediate(() => {
      try {
        const result = this.#onWebhook(event);
        if (result instanceof Promise) {
          result.catch((error: unknown) => this.#dispatchFailed(event, error));
        }
      } catch (error) {
        this.#dispatchFailed(event, error);
      }
    });
  }

  #dispatchFailed(event: RtmsWebhookEvent, error: unknown): void {
    this.#logger.error({ event: event.event, rtmsStreamId: rtmsStreamIdOf(event), err: describeError(error) }, 'webhook handler failed');
  }

  #reject(response: ServerResponse, error: unknown, eventName: string | undefined): void {
    if (error instanceof WebhookError) {
      this.#outcome('rejected', error.code, eventName);
      if (response.headersSent) return;
      const headers: Record<string, string> = error.status === 413 ? { connection: 'close' } : {};
      sendError(response, error.status, error.code as HttpErrorCode, error.message, headers);
      return;
    }
    this.#outcome('rejected', 'INTERNAL_ERROR', eventName);
    this.#logger.error({ err: describeError(error) }, 'webhook request failed');
    if (response.headersSent) {
      response.destroy();
      return;
    }
    sendError(response, 500, 'INTERNAL_ERROR', 'internal error');
  }

  #outcome(outcome: WebhookOutcome, reason: string | undefined, event: string | undefined, rtmsStreamId?: string): void {
    const fields = { event, rtmsStreamId, outcome, code: reason };
    if (outcome === 'rejected') this.#logger.warn(fields, 'webhook');
    else this.#logger.info(fields, 'webhook');
    if (this.#onOutcome === undefined) return;
    try {
      if (reason === undefined) this.#onOutcome(outcome);
      else this.#onOutcome(outcome, reason);
    } catch (error) {
      this.#logger.error({ err: describeError(error) }, 'webhook outcome listener failed');
    }
  }
}

/** JSON of a small unsigned body, or undefined: it is only looked at for the URL challenge. */
function parseJsonOrUndefined(body: Buffer): unknown {
  try {
    return parseJson(body);
  } catch {
    return undefined;
  }
}

/** The event name when it is one we know (a bounded set, safe to log), else undefined. */
function knownEventName(json: unknown): string | undefined {
  if (typeof json !== 'object' || json === null) return undefined;
  const event = (json as Record<string, unknown>)['event'];
  return typeof event === 'string' && KNOWN_WEBHOOK_EVENTS.includes(event) ? event : undefined;
}

function rtmsStreamIdOf(event: RtmsWebhookEvent): string | undefined {
  switch (event.kind) {
    case 'started':
      return event.start.rtmsStreamId;
    case 'interrupted':
    case 'stopped':
      return event.rtmsStreamId;
    case 'concurrencyLimited':
    case 'concurrencyNearLimit':
      return undefined;
  }
}
