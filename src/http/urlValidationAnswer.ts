import { WebhookError } from '../errors.ts';
import { urlValidationToken } from '../rtms/signature.ts';

/** Body of the 200 answer to `endpoint.url_validation` (docs/protocol.md#url-validation). */
export interface UrlValidationAnswer {
  readonly plainToken: string;
  /** Lowercase hex HMAC-SHA256(secret token, plainToken). */
  readonly encryptedToken: string;
}

/**
 * Answers Zoom's endpoint challenge.
 *
 * The challenge is answered before signature verification (Zoom's RTMS SDK example does the
 * same), which turns it into an HMAC oracle keyed with the webhook secret token: anyone can
 * ask us for HMAC(secret, X). Webhook signatures are HMAC(secret, "v0:{ts}:{body}"), so a
 * `plainToken` that starts with `v0:` would hand the caller a valid signature for a body of
 * its choice. Such tokens are refused (400); Zoom's random tokens never look like that.
 */
export function answerUrlValidation(options: { secretToken: string; plainToken: string }): UrlValidationAnswer {
  if (options.plainToken.startsWith('v0:')) {
    throw new WebhookError('WEBHOOK_BODY_INVALID', 400, 'payload.plainToken: must not start with "v0:"');
  }
  return {
    plainToken: options.plainToken,
    encryptedToken: urlValidationToken({ secretToken: options.secretToken, plainToken: options.plainToken }),
  };
}
