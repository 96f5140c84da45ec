import { ConnectorError, type ErrorCode } from '../errors.ts';

/**
 * Errors of multi-replica mode: a `ConnectorError` whose code is one of the cluster's
 * (`REDIS_UNAVAILABLE`: Redis did not answer at start-up; `CLUSTER_REPLY_INVALID`: a script or
 * command answered something this version does not understand). See docs/errors.md.
 */
export type ClusterErrorCode = Extract<ErrorCode, 'REDIS_UNAVAILABLE' | 'CLUSTER_REPLY_INVALID'>;

export class ClusterError extends ConnectorError<ClusterErrorCode> {}
