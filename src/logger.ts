import pino, { type Logger } from 'pino';
import type { LogLevel } from './config.ts';

export type { Logger };

/**
 * Paths never written to logs: credentials, signatures, and what people said or are called
 * (transcript and chat text, user names). Log data goes in fields under these names so the
 * redaction catches it.
 */
export const REDACTED_PATHS: readonly string[] = [
  'clientSecret',
  'webhookSecretToken',
  'secret',
  'signature',
  'adminToken',
  'consumerToken',
  'authorization',
  'headers.authorization',
  'headers["x-zm-signature"]',
  'text',
  'userName',
  'user_name',
  '*.clientSecret',
  '*.webhookSecretToken',
  '*.signature',
  '*.text',
  '*.userName',
  '*.user_name',
  // Further shapes (test/unit/ops/loggerRedaction.test.ts): a logged config or options
  // object, request headers one level down, URL-validation answers, raw RTMS messages
  // (`content.data` is transcript or chat text, or media), participant lists.
  'secretToken',
  'encryptedToken',
  '*.secret',
  '*.secretToken',
  '*.adminToken',
  '*.consumerToken',
  '*.authorization',
  '*.encryptedToken',
  '*.credentials.clientSecret',
  '*.credentials.webhookSecretToken',
  '*.headers.authorization',
  '*.headers["x-zm-signature"]',
  'content.data',
  'content.user_name',
  '*.content.data',
  '*.content.user_name',
  'participants[*].userName',
  'participants[*].user_name',
];

/** Root logger; child loggers bind `rtmsStreamId` (and `worker`) for everything per stream. */
export function createLogger(options: { level: LogLevel; name?: string; destination?: pino.DestinationStream }): Logger {
  return pino(
    {
      name: options.name ?? 'rtms-connector',
      level: options.level,
      redact: { paths: [...REDACTED_PATHS], censor: '[redacted]' },
      base: { pid: process.pid },
    },
    options.destination ?? stdoutDestination(),
  );
}

/**
 * Synchronous writes to fd 1. With pino's default (asynchronous) stdout, lines still queued
 * when the reader of stdout has gone (`| head`, a dead log shipper) make the exit-time
 * flush retry EPIPE forever, so `process.exit` never returns: SIGTERM and the force-exit
 * timer hang. Written synchronously, the first EPIPE surfaces at once and pino turns the
 * destination into a no-op. Log volume is low (lifecycle events, never per frame).
 */
function stdoutDestination(): pino.DestinationStream {
  return pino.destination({ fd: 1, sync: true });
}
