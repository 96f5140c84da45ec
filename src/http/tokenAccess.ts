import { BearerAuth } from './bearerAuth.ts';

/**
 * Two bearer tokens: `ADMIN_TOKEN` may do everything; `CONSUMER_TOKEN` only reads (list and
 * snapshot streams, live feeds), so a consumer can be given access without the power to
 * close streams or exclude participants.
 */
export type Access = 'read' | 'write';

export interface AccessRefusal {
  /** 401: no valid token; 403: a valid consumer token used for a write. */
  readonly status: 401 | 403;
  readonly reason: string;
  readonly challenge: string;
}

export class TokenAccess {
  readonly #admin: BearerAuth;
  readonly #consumer: BearerAuth | undefined;

  constructor(options: { adminToken: string | undefined; consumerToken?: string | undefined }) {
    this.#admin = new BearerAuth(options.adminToken);
    this.#consumer = options.consumerToken ? new BearerAuth(options.consumerToken) : undefined;
  }

  /** Undefined when `header` grants `access`; otherwise why not. */
  check(header: string | undefined, access: Access): AccessRefusal | undefined {
    const admin = this.#admin.check(header);
    if (admin === undefined) return undefined;
    if (this.#consumer === undefined) return { status: 401, ...admin };
    const consumer = this.#consumer.check(header);
    if (consumer !== undefined) return { status: 401, ...consumer };
    if (access === 'read') return undefined;
    return {
      status: 403,
      reason: 'authorization: CONSUMER_TOKEN may only read; closing streams and excluding participants need ADMIN_TOKEN',
      challenge: 'Bearer realm="rtms-connector", error="insufficient_scope"',
    };
  }
}
