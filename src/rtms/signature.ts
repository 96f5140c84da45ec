import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * The three HMAC-SHA256 computations of RTMS (docs/protocol.md#url-validation,
 * #signature-verification, #handshake-signature). All
 * produce lowercase hex. Shared by the connector and the simulator so both sides agree.
 */

/** Handshake signature: HMAC(client secret, "client_id,entity_id,rtms_stream_id"). */
export function handshakeSignature(options: { clientId: string; clientSecret: string; entityId: string; rtmsStreamId: string }): string {
  return createHmac('sha256', options.clientSecret).update(`${options.clientId},${options.entityId},${options.rtmsStreamId}`).digest('hex');
}

/** `x-zm-signature` header value: "v0=" + HMAC(secret token, "v0:" + timestamp + ":" + raw body). */
export function webhookSignature(options: { secretToken: string; timestamp: string; rawBody: Buffer | string }): string {
  const hmac = createHmac('sha256', options.secretToken);
  hmac.update(`v0:${options.timestamp}:`);
  hmac.update(options.rawBody);
  return `v0=${hmac.digest('hex')}`;
}

/** `encryptedToken` of the `endpoint.url_validation` answer: HMAC(secret token, plainToken). */
export function urlValidationToken(options: { secretToken: string; plainToken: string }): string {
  return createHmac('sha256', options.secretToken).update(options.plainToken).digest('hex');
}

/** Constant-time string comparison that does not leak length through an exception. */
export function safeEqual(expected: string, actual: string): boolean {
  const a = Buffer.from(expected);
  const b = Buffer.from(actual);
  return a.length === b.length && timingSafeEqual(a, b);
}
