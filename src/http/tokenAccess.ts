import type { AuthFailureLimiter } from './authFailureLimiter.ts';
import { BearerAuth } from './bearerAuth.ts';

/**
 * Two bearer tokens: `ADMIN_TOKEN` may do everything; `CONSUMER_TOKEN` only reads (list and
 * snapshot streams, live feeds), so a consumer can be given access without the power to
 * close streams or exclude participants.
 */
export type Access = 'read' | 'write';

export interface AccessRefusal {
  /** 401: no valid token; 403: a valid consumer token used for a write; 429: too many 401s from this address. */
  readonly status: 401 | 403 | 429;
  readonly reason: string;
  readonly challenge: string;
  /** With 429: when the address may try again. */
  readonly retryAfterSeconds?: number;
}

const CHALLENGE = 'Bearer realm="rtms-connector"';

export class TokenAccess {
  readonly #admin: BearerAuth;
  readonly #consumer: BearerAuth | undefined;
  readonly #failures: AuthFailureLimiter | undefined;

  /** `authFailures`: shared by every route that checks a token, so an address's attempts add up. */
  constructor(options: { adminToken: string | undefined; consumerToken?: string | undefined; authFailures?: AuthFailureLimiter | undefined }) {
    this.#admin = new BearerAuth(options.adminToken);
    this.#consumer = options.consumerToken ? new BearerAuth(options.consumerToken) : undefined;
    this.#failures = options.authFailures;
  }

  /** Undefined when `header` grants `access`; otherwise why not. `address`: the client's, for slowing repeated failures. */
  check(header: string | undefined, access: Access, address?: string): AccessRefusal | undefined {
    const retryAfterSeconds = address === undefined ? 0 : (this.#failures?.retryAfterSeconds(address) ?? 0);
    if (retryAfterSeconds > 0) {
      return { status: 429, reason: 'too many failed attempts from this address; retry later', challenge: CHALLENGE, retryAfterSeconds };
    }
    const refusal = this.#refusal(header, access);
    if (refusal?.status === 401 && address !== undefined) this.#failures?.failed(address);
    return refusal;
  }

  #refusal(header: string | undefined, access: Access): AccessRefusal | undefined {
    const admin = this.#admin.check(header);
    if (admin === undefined) return undefined;
    if (this.#consumer === undefined) return { status: 401, ...admin };
    const consumer = this.#consumer.check(header);
    if (consumer !== undefined) return { status: 401, ...consumer };
    if (access === 'read') return undefined;
    return {
      status: 403,
      reason: 'authorization: CONSUMER_TOKEN may only read; closing streams and excluding participants need ADMIN_TOKEN',
      challenge: `${CHALLENGE}, error="insufficient_scope"`,
    };
  }
}
