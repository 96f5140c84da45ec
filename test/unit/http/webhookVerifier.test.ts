import { describe, expect, it } from 'vitest';
import { WebhookError } from '../../../src/errors.ts';
import { webhookSignature } from '../../../src/rtms/signature.ts';
import { WebhookVerifier } from '../../../src/http/webhookVerifier.ts';

const SECRET = 'webhook-secret-token-0123';
const NOW_MS = 1_730_000_000_000;
const NOW_S = NOW_MS / 1000;
const BODY = Buffer.from('{"event":"meeting.rtms_started","event_ts":1730000000000,"payload":{"x":"é"}}');

function verifier(toleranceSeconds = 300): WebhookVerifier {
  return new WebhookVerifier({ secretToken: SECRET, toleranceSeconds, clock: { now: () => NOW_MS } });
}

function headers(options: { secret?: string; timestamp?: string; body?: Buffer } = {}): Record<string, string> {
  const timestamp = options.timestamp ?? String(NOW_S);
  return {
    'x-zm-request-timestamp': timestamp,
    'x-zm-signature': webhookSignature({ secretToken: options.secret ?? SECRET, timestamp, rawBody: options.body ?? BODY }),
  };
}

function failure(run: () => void): WebhookError {
  try {
    run();
  } catch (error) {
    if (error instanceof WebhookError) return error;
    throw error;
  }
  throw new Error('expected a WebhookError');
}

describe('WebhookVerifier', () => {
  it('accepts a request signed with the secret token over the raw bytes', () => {
    expect(() => verifier().verify(headers(), BODY)).not.toThrow();
  });

  it('accepts timestamps at the edge of the tolerance both ways', () => {
    expect(() => verifier().verify(headers({ timestamp: String(NOW_S - 300) }), BODY)).not.toThrow();
    expect(() => verifier().verify(headers({ timestamp: String(NOW_S + 300) }), BODY)).not.toThrow();
  });

  it('accepts an uppercase hex digest', () => {
    const h = headers();
    h['x-zm-signature'] = `v0=${h['x-zm-signature']!.slice(3).toUpperCase()}`;
    expect(() => verifier().verify(h, BODY)).not.toThrow();
  });

  it('rejects a signature made with another secret', () => {
    const error = failure(() => verifier().verify(headers({ secret: 'other-secret' }), BODY));
    expect(error.code).toBe('WEBHOOK_SIGNATURE_INVALID');
    expect(error.status).toBe(401);
    expect(error.message).toBe('x-zm-signature: does not match the request body and timestamp');
  });

  it('rejects a tampered body, even by one byte', () => {
    const tampered = Buffer.from(BODY);
    tampered[tampered.length - 3] = 0x41;
    const error = failure(() => verifier().verify(headers(), tampered));
    expect(error.code).toBe('WEBHOOK_SIGNATURE_INVALID');
  });

  it('rejects a re-serialised body (signature is over raw bytes)', () => {
    const reserialised = Buffer.from(JSON.stringify(JSON.parse(BODY.toString()), null, 1));
    expect(failure(() => verifier().verify(headers(), reserialised)).code).toBe('WEBHOOK_SIGNATURE_INVALID');
  });

  it('rejects a genuine but stale timestamp as stale', () => {
    const error = failure(() => verifier().verify(headers({ timestamp: String(NOW_S - 301) }), BODY));
    expect(error.code).toBe('WEBHOOK_TIMESTAMP_STALE');
    expect(error.status).toBe(401);
    expect(error.message).toBe('x-zm-request-timestamp: 301 s in the past, allowed ±300 s');
  });

  it('rejects a timestamp from the future', () => {
    const error = failure(() => verifier().verify(headers({ timestamp: String(NOW_S + 3600) }), BODY));
    expect(error.code).toBe('WEBHOOK_TIMESTAMP_STALE');
    expect(error.message).toContain('in the future');
  });

  it('treats a millisecond timestamp as stale, not as valid', () => {
    expect(failure(() => verifier().verify(headers({ timestamp: String(NOW_MS) }), BODY)).code).toBe('WEBHOOK_TIMESTAMP_STALE');
  });

  it('reports a forged signature as invalid even when the timestamp is also stale', () => {
    const h = { ...headers({ secret: 'other', timestamp: String(NOW_S - 10_000) }) };
    expect(failure(() => verifier().verify(h, BODY)).code).toBe('WEBHOOK_SIGNATURE_INVALID');
  });

  it.each([
    ['missing signature', { 'x-zm-request-timestamp': String(NOW_S) }, 'x-zm-signature: missing'],
    ['missing timestamp', { 'x-zm-signature': `v0=${'a'.repeat(64)}` }, 'x-zm-request-timestamp: missing'],
    ['no headers', {}, 'x-zm-signature: missing'],
    ['empty signature', { 'x-zm-signature': '', 'x-zm-request-timestamp': String(NOW_S) }, 'x-zm-signature: missing'],
    [
      'wrong scheme',
      { 'x-zm-signature': `v1=${'a'.repeat(64)}`, 'x-zm-request-timestamp': String(NOW_S) },
      'x-zm-signature: expected "v0=" followed by 64 hex digits',
    ],
    ['short digest', { 'x-zm-signature': 'v0=abc', 'x-zm-request-timestamp': String(NOW_S) }, 'x-zm-signature: expected "v0=" followed by 64 hex digits'],
    [
      'non-numeric timestamp',
      { 'x-zm-signature': `v0=${'a'.repeat(64)}`, 'x-zm-request-timestamp': 'yesterday' },
      'x-zm-request-timestamp: expected integer seconds since the epoch',
    ],
  ])('rejects %s', (_name, h, message) => {
    const error = failure(() => verifier().verify(h, BODY));
    expect(error.code).toBe('WEBHOOK_SIGNATURE_INVALID');
    expect(error.status).toBe(401);
    expect(error.message).toBe(message);
  });

  it('never puts the secret or the expected signature in a message', () => {
    const expected = headers()['x-zm-signature']!;
    const cases = [
      () => verifier().verify(headers({ secret: 'x' }), BODY),
      () => verifier().verify(headers({ timestamp: String(NOW_S - 999) }), BODY),
      () => verifier().verify({ 'x-zm-signature': 'v0=zz', 'x-zm-request-timestamp': String(NOW_S) }, BODY),
    ];
    for (const run of cases) {
      const message = failure(run).message;
      expect(message).not.toContain(SECRET);
      expect(message).not.toContain(expected.slice(3));
    }
  });

  it('refuses an empty secret token at construction', () => {
    expect(() => new WebhookVerifier({ secretToken: '' })).toThrow(TypeError);
  });
});
