import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { handshakeSignature, safeEqual, urlValidationToken, webhookSignature } from '../../../src/rtms/signature.ts';

describe('RTMS signatures', () => {
  it('signs the handshake as HMAC-SHA256(secret, "client,entity,stream") in lowercase hex', () => {
    const signature = handshakeSignature({ clientId: 'cid', clientSecret: 'sec', entityId: 'uuid==', rtmsStreamId: 'abc123' });
    // Reference value computed independently of the implementation's string building.
    expect(signature).toBe(createHmac('sha256', 'sec').update('cid,uuid==,abc123').digest('hex'));
    expect(signature).toMatch(/^[0-9a-f]{64}$/);
  });

  it('signs webhooks over v0:timestamp:raw body', () => {
    const body = '{"event":"meeting.rtms_started"}';
    expect(webhookSignature({ secretToken: 'tok', timestamp: '1700000000', rawBody: body })).toBe(
      `v0=${createHmac('sha256', 'tok').update(`v0:1700000000:${body}`).digest('hex')}`,
    );
    expect(webhookSignature({ secretToken: 'tok', timestamp: '1700000000', rawBody: Buffer.from(body) })).toBe(
      webhookSignature({ secretToken: 'tok', timestamp: '1700000000', rawBody: body }),
    );
  });

  it('answers the URL validation challenge', () => {
    expect(urlValidationToken({ secretToken: 'tok', plainToken: 'plain' })).toBe(createHmac('sha256', 'tok').update('plain').digest('hex'));
  });

  it('compares without throwing on different lengths', () => {
    expect(safeEqual('abc', 'abc')).toBe(true);
    expect(safeEqual('abc', 'abd')).toBe(false);
    expect(safeEqual('abc', 'abcd')).toBe(false);
  });
});
