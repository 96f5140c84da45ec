import { createHash, timingSafeEqual } from 'node:crypto';
import type { AuthFailureLimiter } from './authFailureLimiter.ts';

const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;
const WWW_AUTHENTICATE = 'Bearer realm="rtms-connector"';

/**
 * Why a request was refused, and the `www-authenticate` challenge to answer with. 429: its
 * address failed too often (see `AuthFailureLimiter`); answer `retry-after`.
 */
export interface BearerRefusal {
  readonly status: 401 | 429;
  readonly reason: string;
  readonly challenge: string;
  readonly retryAfterSeconds?: number;
}

/**
 * `Authorization: Bearer <ADMIN_TOKEN>` for the admin API and live consumers. Without a
 * configured token everything is refused. Fixed-length digests are compared, so neither
 * the token's content nor its length leaks through timing.
 */
export class BearerAuth {
  readonly #tokenDigest: Buffer | undefined;
  readonly #failures: AuthFailureLimiter | undefined;

  /** `failures`: shared by every route that checks the token, so an address's attempts add up. */
  constructor(token: string | undefined, failures?: AuthFailureLimiter) {
    this.#tokenDigest = token ? digest(token) : undefined;
    this.#failures = failures;
  }

  /** Undefined when `header` carries the token; otherwise why not. `address`: the client's, for slowing repeated failures. */
  check(header: string | undefined, address?: string): BearerRefusal | undefined {
    if (this.#tokenDigest === undefined) {
      return { status: 401, reason: 'admin API disabled: ADMIN_TOKEN is not set', challenge: WWW_AUTHENTICATE };
    }
    const retryAfterSeconds = address === undefined ? 0 : (this.#failures?.retryAfterSeconds(address) ?? 0);
    if (retryAfterSeconds > 0) {
      return { status: 429, reason: 'too many failed attempts from this address; retry later', challenge: WWW_AUTHENTICATE, retryAfterSeconds };
    }
    const refusal = refusalOf(this.#tokenDigest, header);
    if (refusal !== undefined && address !== undefined) this.#failures?.failed(address);
    return refusal;
  }
}

/** Why `header` does not carry the token whose digest is `tokenDigest`; undefined when it does. */
function refusalOf(tokenDigest: Buffer, header: string | undefined): BearerRefusal | undefined {
  if (header === undefined || header === '') {
    return { status: 401, reason: 'authorization: missing bearer token', challenge: WWW_AUTHENTICATE };
  }
  const match = BEARER.exec(header);
  if (match === null) {
    return { status: 401, reason: 'authorization: expected "Bearer <token>"', challenge: `${WWW_AUTHENTICATE}, error="invalid_request"` };
  }
  if (!timingSafeEqual(tokenDigest, digest(match[1] ?? ''))) {
    return { status: 401, reason: 'authorization: invalid bearer token', challenge: `${WWW_AUTHENTICATE}, error="invalid_token"` };
  }
  return undefined;
}

function digest(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}
