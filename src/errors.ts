/**
 * The connector's one error base, `ConnectorError`, with a stable `code` from `ERROR_CODES`.
 * Callers branch on `code` and `retryable`, never on `message`. Messages never contain secrets
 * (client secret, webhook secret token, signatures): they are logged and may be returned to
 * HTTP clients. What each code means and what the operator does: docs/errors.md.
 */

export const ERROR_CODES = [
  'CONFIG_INVALID',
  'WEBHOOK_SIGNATURE_INVALID',
  'WEBHOOK_TIMESTAMP_STALE',
  'WEBHOOK_BODY_INVALID',
  'WEBHOOK_BODY_TOO_LARGE',
  'WEBHOOK_EVENT_UNKNOWN',
  'WEBHOOK_NOT_ACCEPTING',
  'ILLEGAL_TRANSITION',
  'RTMS_HANDSHAKE_REJECTED',
  'RTMS_CONNECTION_FAILED',
  'RTMS_CONNECTION_LOST',
  'RTMS_PROTOCOL_VIOLATION',
  'RTMS_HOST_NOT_ALLOWED',
  'RTMS_CERTIFICATE_REJECTED',
  'SINK_WRITE_FAILED',
  'OBJECT_STORE_FAILED',
  'WORKER_FAILED',
  'IPC_UNKNOWN_MESSAGE',
  'REDIS_UNAVAILABLE',
  'CLUSTER_REPLY_INVALID',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export interface ConnectorErrorOptions {
  readonly retryable?: boolean;
  readonly cause?: unknown;
}

export class ConnectorError<Code extends ErrorCode = ErrorCode> extends Error {
  readonly code: Code;
  readonly retryable: boolean;

  constructor(code: Code, message: string, options: ConnectorErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retryable = options.retryable ?? false;
  }
}

/** Start-up configuration problems; `problems` holds one line per variable. */
export class ConfigError extends ConnectorError {
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super('CONFIG_INVALID', `invalid configuration:\n${problems.join('\n')}`);
    this.problems = problems;
  }
}

/** A webhook request we refuse; `status` is the HTTP status to answer with. */
export class WebhookError extends ConnectorError {
  readonly status: 400 | 401 | 404 | 413 | 503;

  constructor(code: ErrorCode, status: 400 | 401 | 404 | 413 | 503, message: string) {
    super(code, message);
    this.status = status;
  }
}

/** Zoom answered a handshake with a non-zero status code. */
export class HandshakeRejectedError extends ConnectorError {
  /** Undefined when Zoom closed the socket without answering (no status). */
  readonly statusCode: number | undefined;
  readonly statusName: string;
  readonly channel: string;

  constructor(options: { channel: string; statusCode: number | undefined; statusName: string; reason: string; retryable: boolean }) {
    const status = options.statusCode === undefined ? options.statusName : `${options.statusName} (${options.statusCode})`;
    super('RTMS_HANDSHAKE_REJECTED', `${options.channel} handshake rejected: ${status}${options.reason ? `: ${options.reason}` : ''}`, {
      retryable: options.retryable,
    });
    this.statusCode = options.statusCode;
    this.statusName = options.statusName;
    this.channel = options.channel;
  }
}

export class IllegalTransitionError extends ConnectorError {
  constructor(from: string, to: string) {
    super('ILLEGAL_TRANSITION', `illegal stream state transition ${from} -> ${to}`);
  }
}

/** Turns anything thrown into a short, secret-free description for logs and events. */
export function describeError(error: unknown): { code: string; message: string; retryable: boolean } {
  if (error instanceof ConnectorError) {
    // instanceof narrows to ConnectorError<any>: the code is one of ERROR_CODES all the same.
    return { code: error.code as ErrorCode, message: error.message, retryable: error.retryable };
  }
  if (error instanceof Error) {
    const code = (error as NodeJS.ErrnoException).code;
    return { code: typeof code === 'string' ? code : 'UNEXPECTED', message: error.message, retryable: false };
  }
  return { code: 'UNEXPECTED', message: String(error), retryable: false };
}
