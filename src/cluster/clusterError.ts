/**
 * Errors of multi-replica mode, with stable codes like `ConnectorError` (`describeError`
 * reports `code`). Kept here so that the cluster module adds no codes to the core's union.
 */
export type ClusterErrorCode =
  /** Redis did not answer at start-up (REDIS_URL wrong or server down). */
  | 'REDIS_UNAVAILABLE'
  /** A script or command answered something this version does not understand. */
  | 'CLUSTER_REPLY_INVALID';

export class ClusterError extends Error {
  readonly code: ClusterErrorCode;
  readonly retryable: boolean;

  constructor(code: ClusterErrorCode, message: string, options: { readonly retryable?: boolean; readonly cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retryable = options.retryable ?? false;
  }
}
