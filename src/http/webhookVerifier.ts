import type { IncomingHttpHeaders } from 'node:http';
import type { Clock } from '../clock.ts';
import { WebhookError } from '../errors.ts';
import { safeEqual, webhookSignature } from '../rtms/signature.ts';

/** Header carrying `v0=<hex HMAC-SHA256>` (docs/protocol.md#signature-verification). */
export const SIGNATURE_HEADER = 'x-zm-signature';
/** Header carrying the signing time, integer seconds since the epoch. */
export const TIMESTAMP_HEADER = 'x-zm-request-timestamp';

const SIGNATURE_FORMAT = /^v0=[0-9a-fA-F]{64}$/;
// Seconds need at most 11 digits for millennia; 13 are let through so that a timestamp
// sent in milliseconds by mistake is reported as stale (what it is to us), not malformed.
const TIMESTAMP_FORMAT = /^\d{1,13}$/;

export interface WebhookVerifierOptions {
  /** The app's webhook secret token (not the OAuth client secret). Never logged or echoed. */
  readonly secretToken: string;
  /** Accepted distance between `x-zm-request-timestamp` and the clock, seconds, both ways. Default 300. */
  readonly toleranceSeconds?: number;
  /** Time source; default `Date.now`. */
  readonly clock?: Pick<Clock, 'now'>;
}

/**
 * Checks that a webhook comes from Zoom and is fresh:
 * `x-zm-signature` must equal `"v0=" + hex(HMAC-SHA256(secretToken, "v0:{timestamp}:{raw body}"))`
 * over the raw body bytes (re-serialised JSON would not match), compared in constant time;
 * then `x-zm-request-timestamp` (seconds) must lie within ±`toleranceSeconds` of the clock.
 *
 * The signature is checked before the timestamp so that `WEBHOOK_TIMESTAMP_STALE` is only
 * ever reported for a genuine but old (replayed) request; anything forged is
 * `WEBHOOK_SIGNATURE_INVALID`. Error messages name the header and the problem, never the
 * secret or the expected signature.
 */
export class WebhookVerifier {
  readonly #secretToken: string;
  readonly #toleranceSeconds: number;
  readonly #clock: Pick<Clock, 'now'>;

  constructor(options: WebhookVerifierOptions) {
    if (options.secretToken === '') throw new TypeError('WebhookVerifier: secretToken must not be empty');
    this.#secretToken = options.secretToken;
    this.#toleranceSeconds = options.toleranceSeconds ?? 300;
    this.#clock = options.clock ?? { now: Date.now };
  }

  /** Throws `WebhookError` (401) unless the request is signed with the secret token and fresh. */
  verify(headers: IncomingHttpHeaders, rawBody: Buffer): void {
    const signature = singleHeader(headers, SIGNATURE_HEADER);
    const timestamp = singleHeader(headers, TIMESTAMP_HEADER);
    if (signature === undefined) throw invalid(`${SIGNATURE_HEADER}: missing`);
    if (timestamp === undefined) throw invalid(`${TIMESTAMP_HEADER}: missing`);
    if (!SIGNATURE_FORMAT.test(signature)) throw invalid(`${SIGNATURE_HEADER}: expected "v0=" followed by 64 hex digits`);
    if (!TIMESTAMP_FORMAT.test(timestamp)) throw invalid(`${TIMESTAMP_HEADER}: expected integer seconds since the epoch`);

    const expected = webhookSignature({ secretToken: this.#secretToken, timestamp, rawBody });
    // Both sides have the same length here (format checked above), so the comparison
    // leaks nothing through timing; lowercase because Zoom's hex digest is lowercase.
    if (!safeEqual(expected, `v0=${signature.slice(3).toLowerCase()}`)) {
      throw invalid(`${SIGNATURE_HEADER}: does not match the request body and timestamp`);
    }

    const skewSeconds = Math.round(this.#clock.now() / 1000 - Number(timestamp));
    if (Math.abs(skewSeconds) > this.#toleranceSeconds) {
      throw new WebhookError(
        'WEBHOOK_TIMESTAMP_STALE',
        401,
        `${TIMESTAMP_HEADER}: ${Math.abs(skewSeconds)} s ${skewSeconds > 0 ? 'in the past' : 'in the future'}, ` + `allowed ±${this.#toleranceSeconds} s`,
      );
    }
  }
}

function singleHeader(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  // Node joins repeated custom headers with ", ", which then fails the format check;
  // an array cannot come from a single genuine signature either.
  if (typeof value !== 'string') return undefined;
  const trimmed = value.trim();
  return trimmed === '' ? undefined : trimmed;
}

function invalid(message: string): WebhookError {
  return new WebhookError('WEBHOOK_SIGNATURE_INVALID', 401, message);
}
