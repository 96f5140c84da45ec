import type { ServerResponse } from 'node:http';
import type { ErrorCode } from '../errors.ts';

/**
 * Codes in `{error, reason}` answers: the webhook `ErrorCode`s plus the HTTP-level ones
 * below. Stable; clients and dashboards may branch on them.
 */
export type HttpErrorCode =
  | Extract<ErrorCode, `WEBHOOK_${string}`>
  /** Missing, malformed or wrong bearer token, or the admin API is disabled (no `ADMIN_TOKEN`). */
  | 'ADMIN_UNAUTHORIZED'
  /** Too many 401s from this address lately (`AuthFailureLimiter`); see `retry-after`. */
  | 'ADMIN_RATE_LIMITED'
  /** A valid `CONSUMER_TOKEN` used where `ADMIN_TOKEN` is needed (closing, excluding). */
  | 'ADMIN_FORBIDDEN'
  /** No stream with that id is known to this instance. */
  | 'STREAM_NOT_FOUND'
  | 'ROUTE_NOT_FOUND'
  | 'METHOD_NOT_ALLOWED'
  /** Request target that cannot be parsed or percent-decoded. */
  | 'PATH_INVALID'
  /** Something failed on our side; details are in the log only. */
  | 'INTERNAL_ERROR';

/** Every error answer: `{"error": code, "reason": "one line, no secrets"}`. */
export interface ErrorBody {
  readonly error: HttpErrorCode;
  readonly reason: string;
}

/** Writes `body` as JSON with `status`; responses are per-request state, never cached. */
export function sendJson(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Readonly<Record<string, string>> = {},
): void {
  const payload = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(payload)),
    'cache-control': 'no-store',
    ...headers,
  });
  response.end(payload);
}

export function sendError(
  response: ServerResponse,
  status: number,
  error: HttpErrorCode,
  reason: string,
  headers: Readonly<Record<string, string>> = {},
): void {
  const body: ErrorBody = { error, reason };
  sendJson(response, status, body, headers);
}
