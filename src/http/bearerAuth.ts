import { createHash, timingSafeEqual } from 'node:crypto';

const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;
const WWW_AUTHENTICATE = 'Bearer realm="rtms-connector"';

/** Why a request was refused, and the `www-authenticate` challenge to answer with. */
export interface BearerRefusal {
  readonly reason: string;
  readonly challenge: string;
}

/**
 * `Authorization: Bearer <ADMIN_TOKEN>` for the admin API and live consumers. Without a
 * configured token everything is refused. Fixed-length digests are compared, so neither
 * the token's content nor its length leaks through timing.
 */
export class BearerAuth {
  readonly #tokenDigest: Buffer | undefined;

  constructor(token: string | undefined) {
    this.#tokenDigest = token ? digest(token) : undefined;
  }

  /** Undefined when `header` carries the token; otherwise why not. */
  check(header: string | undefined): BearerRefusal | undefined {
    if (this.#tokenDigest === undefined) {
      return { reason: 'admin API disabled: ADMIN_TOKEN is not set', challenge: WWW_AUTHENTICATE };
    }
    if (header === undefined || header === '') {
      return { reason: 'authorization: missing bearer token', challenge: WWW_AUTHENTICATE };
    }
    const match = BEARER.exec(header);
    if (match === null) {
      return { reason: 'authorization: expected "Bearer <token>"', challenge: `${WWW_AUTHENTICATE}, error="invalid_request"` };
    }
    if (!timingSafeEqual(this.#tokenDigest, digest(match[1] ?? ''))) {
      return { reason: 'authorization: invalid bearer token', challenge: `${WWW_AUTHENTICATE}, error="invalid_token"` };
    }
    return undefined;
  }
}

function digest(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}
