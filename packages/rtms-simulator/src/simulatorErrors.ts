/**
 * Errors thrown by the simulator's programmatic API. Callers branch on `code`, never on
 * `message`. Kept apart from `src/errors.ts` because these describe the stand-in for Zoom,
 * not the connector.
 */
export const SIMULATOR_ERROR_CODES = [
  /** A webhook POST failed: connection error, timeout (Zoom's 3 s deadline) or non-2xx answer. */
  'WEBHOOK_DELIVERY_FAILED',
  /** The `endpoint.url_validation` answer was missing, malformed or carried a wrong token. */
  'URL_VALIDATION_FAILED',
  /** The stream ended before the awaited condition was met. */
  'STREAM_ENDED',
  /** The simulator was closed. */
  'SIMULATOR_CLOSED',
  /** An option passed to the simulator is invalid. */
  'INVALID_OPTION',
  /** A command-line argument is invalid (`ArgsError`). */
  'INVALID_ARGUMENT',
  /** The TLS certificates (`tls` option) could not be read or made. */
  'TLS_SETUP_FAILED',
] as const;
export type SimulatorErrorCode = (typeof SIMULATOR_ERROR_CODES)[number];

export class SimulatorError extends Error {
  readonly code: SimulatorErrorCode;
  /** HTTP status of the webhook answer, when one was received. */
  readonly httpStatus: number | undefined;

  constructor(code: SimulatorErrorCode, message: string, options: { httpStatus?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SimulatorError';
    this.code = code;
    this.httpStatus = options.httpStatus;
  }
}
