import type { ServerResponse } from 'node:http';
import type { ErrorCode } from '../errors.ts';

/**
 * Codes of the HTTP level in `{error, reason}` answers, beside the webhook `ErrorCode`s: a
 * missing or wrong bearer token or a disabled admin API (`ADMIN_UNAUTHORIZED`), too many 401s
 * from one address (`ADMIN_RATE_LIMITED`), a `CONSUMER_TOKEN` where `ADMIN_TOKEN` is needed
 * (`ADMIN_FORBIDDEN`), an unknown stream, route or method, a request target that cannot be
 * parsed (`PATH_INVALID`), and our own failure (`INTERNAL_ERROR`, details in the log only).
 * Stable; clients and dashboards may branch on them (docs/errors.md).
 */
export const HTTP_ANSWER_CODES = [
  'ADMIN_UNAUTHORIZED',
  'ADMIN_RATE_LIMITED',
  'ADMIN_FORBIDDEN',
  'STREAM_NOT_FOUND',
  'ROUTE_NOT_FOUND',
  'METHOD_NOT_ALLOWED',
  'PATH_INVALID',
  'INTERNAL_ERROR',
] as const;
export type HttpErrorCode = Extract<ErrorCode, `WEBHOOK_${string}`> | (typeof HTTP_ANSWER_CODES)[number];

/** Every error answer: `{"error": code, "reason": "one line, no secrets"}`. */
export interface ErrorBody {
  readonly error: HttpErrorCode;
  readonly reason: string;
}

/** Writes `body` as JSON with `status`; responses are per-request state, never cached. */
export function sendJson(response: ServerResponse, status: number, body: unknown, headers: Readonly<Record<string, string>> = {}): void {
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
