import { describe, expect, it } from 'vitest';
import { TokenAccess } from '../../../src/http/tokenAccess.ts';

const ADMIN = 'admin-token-0123456789abcdef0123456789';
const CONSUMER = 'consumer-token-0123456789abcdef012345';

describe('TokenAccess', () => {
  const both = new TokenAccess({ adminToken: ADMIN, consumerToken: CONSUMER });

  it('ADMIN_TOKEN reads and writes; CONSUMER_TOKEN only reads (403 on writes)', () => {
    expect(both.check(`Bearer ${ADMIN}`, 'read')).toBeUndefined();
    expect(both.check(`Bearer ${ADMIN}`, 'write')).toBeUndefined();
    expect(both.check(`Bearer ${CONSUMER}`, 'read')).toBeUndefined();
    expect(both.check(`Bearer ${CONSUMER}`, 'write')).toMatchObject({ status: 403, reason: expect.stringContaining('CONSUMER_TOKEN may only read') });
  });

  it('anything else is 401, and no answer contains a token', () => {
    for (const header of [undefined, '', 'Bearer nope', 'Basic abc']) {
      for (const access of ['read', 'write'] as const) {
        const refusal = both.check(header, access);
        expect(refusal?.status).toBe(401);
        expect(JSON.stringify(refusal)).not.toContain(ADMIN);
        expect(JSON.stringify(refusal)).not.toContain(CONSUMER);
      }
    }
  });

  it('without CONSUMER_TOKEN behaves as before; a consumer token alone allows reads only', () => {
    const adminOnly = new TokenAccess({ adminToken: ADMIN });
    expect(adminOnly.check(`Bearer ${CONSUMER}`, 'read')).toMatchObject({ status: 401, reason: 'authorization: invalid bearer token' });
    expect(new TokenAccess({ adminToken: undefined }).check(`Bearer ${ADMIN}`, 'read')?.reason).toBe('admin API disabled: ADMIN_TOKEN is not set');
    const consumerOnly = new TokenAccess({ adminToken: undefined, consumerToken: CONSUMER });
    expect(consumerOnly.check(`Bearer ${CONSUMER}`, 'read')).toBeUndefined();
    expect(consumerOnly.check(`Bearer ${CONSUMER}`, 'write')?.status).toBe(403);
  });
});
