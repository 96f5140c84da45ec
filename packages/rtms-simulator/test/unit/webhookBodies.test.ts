import { describe, expect, it } from 'vitest';
import { entityIdFor, lifecycleWebhookBody, type StreamIdentity } from '../../src/webhookBodies.ts';

const identity = (product: StreamIdentity['product'], webinarIdKey: StreamIdentity['webinarIdKey'] = 'webinar_uuid'): StreamIdentity => ({
  product,
  rtmsStreamId: '609340fb0d7c4e3a8f1b2c3d4e5f6a7b',
  entityId: 'rBpXn3Jz4k2N8w==',
  sessionKey: 'my-session',
  operatorId: 'op',
  accountId: 'acct',
  meetingNumber: 81234567890,
  webinarIdKey,
});

describe('lifecycleWebhookBody', () => {
  it('builds meeting.rtms_started with the documented flat payload', () => {
    expect(
      lifecycleWebhookBody({ kind: 'rtms_started', stream: identity('meeting'), eventTs: 1000, serverUrls: 'ws://x/signaling', payloadNesting: 'flat' }),
    ).toEqual({
      event: 'meeting.rtms_started',
      event_ts: 1000,
      payload: {
        meeting_uuid: 'rBpXn3Jz4k2N8w==',
        operator_id: 'op',
        rtms_stream_id: '609340fb0d7c4e3a8f1b2c3d4e5f6a7b',
        server_urls: 'ws://x/signaling',
        account_id: 'acct',
        meeting_id: 81234567890,
        is_original_host: true,
      },
    });
  });

  it('names events per product and adds stop_reason to stopped', () => {
    expect(lifecycleWebhookBody({ kind: 'rtms_stopped', stream: identity('contact_center'), eventTs: 1, stopReason: 6, payloadNesting: 'flat' })).toEqual({
      event: 'contact_center.voice_rtms_stopped',
      event_ts: 1,
      payload: { engagement_id: 'rBpXn3Jz4k2N8w==', rtms_stream_id: '609340fb0d7c4e3a8f1b2c3d4e5f6a7b', stop_reason: 6 },
    });
    expect(lifecycleWebhookBody({ kind: 'rtms_interrupted', stream: identity('session'), eventTs: 1, payloadNesting: 'flat' })).toEqual({
      event: 'session.rtms_interrupted',
      event_ts: 1,
      payload: { session_id: 'rBpXn3Jz4k2N8w==', session_key: 'my-session', rtms_stream_id: '609340fb0d7c4e3a8f1b2c3d4e5f6a7b' },
    });
  });

  it('supports the webinar meeting_uuid variant and the payload.object nesting', () => {
    const body = lifecycleWebhookBody({
      kind: 'rtms_started',
      stream: identity('webinar', 'meeting_uuid'),
      eventTs: 1,
      serverUrls: 'ws://x',
      payloadNesting: 'object',
    });
    expect(body.event).toBe('webinar.rtms_started');
    expect(body.payload['account_id']).toBe('acct');
    expect(body.payload['object']).toMatchObject({ meeting_uuid: 'rBpXn3Jz4k2N8w==', webinar_id: 81234567890, server_urls: 'ws://x' });
    expect(body.payload['object']).not.toHaveProperty('webinar_uuid');
  });
});

describe('entityIdFor', () => {
  // Bytes whose base64 has both `+` and `/` (0xfb 0xff 0xbf -> "+/+/"), like real meeting UUIDs.
  const bytes = Buffer.from([0xfb, 0xff, 0xbf, 0xfb, 0xff, 0xbf, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);

  it('keeps meeting, webinar and session UUIDs standard base64 with +, / and == padding', () => {
    for (const product of ['meeting', 'webinar', 'session'] as const) {
      const id = entityIdFor(product, bytes);
      expect(id).toMatch(/^[A-Za-z0-9+/]{22}==$/);
      expect(id).toContain('+');
      expect(id).toContain('/');
    }
  });

  it('makes Contact Center engagement ids URL-safe base64 without padding, like W_VATTk_Q5aW6z5rZtBxAQ', () => {
    const id = entityIdFor('contact_center', bytes);
    expect(id).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(id).toContain('-');
    expect(id).toContain('_');
    expect(Buffer.from(id, 'base64url').equals(bytes)).toBe(true);
  });
});
