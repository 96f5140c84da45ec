import { describe, expect, it } from 'vitest';
import { WebhookError } from '../../../src/errors.ts';
import { KNOWN_WEBHOOK_EVENTS, MAX_ID_LENGTH, parseWebhook, pickSignalingUrl } from '../../../src/http/webhookParser.ts';
import type { WebhookEvent } from '../../../src/http/webhookEvent.ts';
import {
  ENGAGEMENT_ID,
  EVENT_TS,
  example,
  MEETING_UUID,
  SEED_EXAMPLES,
  SERVER_URLS,
  SESSION_ID,
  SESSION_KEY,
  STREAM_ID,
  WEBINAR_UUID,
} from './webhookFixtures.ts';

function parse(body: unknown): WebhookEvent {
  return parseWebhook(Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)));
}

function rejection(body: unknown): WebhookError {
  try {
    parse(body);
  } catch (error) {
    if (error instanceof WebhookError) return error;
    throw error;
  }
  throw new Error('expected a WebhookError');
}

describe('parseWebhook: the 14 seed examples (flat payload)', () => {
  it('knows exactly the 14 RTMS events plus endpoint.url_validation', () => {
    expect([...KNOWN_WEBHOOK_EVENTS].sort()).toEqual([...Object.keys(SEED_EXAMPLES), 'endpoint.url_validation'].sort());
    expect(Object.keys(SEED_EXAMPLES)).toHaveLength(14);
  });

  it('meeting.rtms_started', () => {
    expect(parse(SEED_EXAMPLES['meeting.rtms_started'])).toEqual({
      kind: 'started',
      event: 'meeting.rtms_started',
      eventTs: EVENT_TS,
      start: {
        product: 'meeting',
        rtmsStreamId: STREAM_ID,
        entityIdKey: 'meeting_uuid',
        entityId: MEETING_UUID,
        serverUrls: SERVER_URLS,
        signalingUrl: SERVER_URLS,
        eventTs: EVENT_TS,
        operatorId: '30R7kT7bTIKSNUFEuH_Qlg',
        accountId: 'acc_123',
      },
    });
  });

  it('webinar.rtms_started', () => {
    expect(parse(SEED_EXAMPLES['webinar.rtms_started'])).toMatchObject({
      kind: 'started',
      start: { product: 'webinar', entityIdKey: 'webinar_uuid', entityId: WEBINAR_UUID, rtmsStreamId: STREAM_ID },
    });
  });

  it('session.rtms_started carries session_key', () => {
    expect(parse(SEED_EXAMPLES['session.rtms_started'])).toEqual({
      kind: 'started',
      event: 'session.rtms_started',
      eventTs: EVENT_TS,
      start: {
        product: 'session',
        rtmsStreamId: STREAM_ID,
        entityIdKey: 'session_id',
        entityId: SESSION_ID,
        serverUrls: SERVER_URLS,
        signalingUrl: SERVER_URLS,
        eventTs: EVENT_TS,
        accountId: 'acc_123',
        sessionKey: SESSION_KEY,
      },
    });
  });

  it('contact_center.voice_rtms_started', () => {
    expect(parse(SEED_EXAMPLES['contact_center.voice_rtms_started'])).toEqual({
      kind: 'started',
      event: 'contact_center.voice_rtms_started',
      eventTs: EVENT_TS,
      start: {
        product: 'contact_center',
        rtmsStreamId: STREAM_ID,
        entityIdKey: 'engagement_id',
        entityId: ENGAGEMENT_ID,
        serverUrls: SERVER_URLS,
        signalingUrl: SERVER_URLS,
        eventTs: EVENT_TS,
      },
    });
  });

  it.each([
    ['meeting.rtms_interrupted', 'meeting', MEETING_UUID],
    ['webinar.rtms_interrupted', 'webinar', WEBINAR_UUID],
    ['session.rtms_interrupted', 'session', SESSION_ID],
    ['contact_center.voice_rtms_interrupted', 'contact_center', ENGAGEMENT_ID],
  ])('%s', (event, product, entityId) => {
    expect(parse(SEED_EXAMPLES[event])).toEqual({ kind: 'interrupted', event, eventTs: EVENT_TS, product, rtmsStreamId: STREAM_ID, entityId });
  });

  it.each([
    ['meeting.rtms_stopped', 'meeting', MEETING_UUID],
    ['webinar.rtms_stopped', 'webinar', WEBINAR_UUID],
    ['session.rtms_stopped', 'session', SESSION_ID],
    ['contact_center.voice_rtms_stopped', 'contact_center', ENGAGEMENT_ID],
  ])('%s', (event, product, entityId) => {
    expect(parse(SEED_EXAMPLES[event])).toEqual({
      kind: 'stopped',
      event,
      eventTs: EVENT_TS,
      product,
      rtmsStreamId: STREAM_ID,
      entityId,
      stopReason: 1,
    });
  });

  it('rtms.concurrency_limited', () => {
    expect(parse(SEED_EXAMPLES['rtms.concurrency_limited'])).toEqual({
      kind: 'concurrencyLimited',
      event: 'rtms.concurrency_limited',
      eventTs: EVENT_TS,
      concurrencyNumber: 1,
      operatorId: '30R7kT7bTIKSNUFEuH_Qlg',
      entity: { key: 'meeting_uuid', id: MEETING_UUID },
    });
  });

  it('rtms.concurrency_limited without id_field (before Oct 2025)', () => {
    expect(parse(example('rtms.concurrency_limited', { id_field: undefined }))).toEqual({
      kind: 'concurrencyLimited',
      event: 'rtms.concurrency_limited',
      eventTs: EVENT_TS,
      concurrencyNumber: 1,
      operatorId: '30R7kT7bTIKSNUFEuH_Qlg',
    });
  });

  it('rtms.concurrency_near_limit', () => {
    expect(parse(example('rtms.concurrency_near_limit', { concurrency_limit: 2000, concurrency_number: 1650, percentage: 82 }))).toEqual({
      kind: 'concurrencyNearLimit',
      event: 'rtms.concurrency_near_limit',
      eventTs: EVENT_TS,
      concurrencyLimit: 2000,
      concurrencyNumber: 1650,
      percentage: 82,
    });
  });

  it('endpoint.url_validation', () => {
    expect(parse({ event: 'endpoint.url_validation', event_ts: EVENT_TS, payload: { plainToken: 'qgg8vlvZRS6UYooatFL8Aw' } })).toEqual({
      kind: 'urlValidation',
      event: 'endpoint.url_validation',
      plainToken: 'qgg8vlvZRS6UYooatFL8Aw',
    });
  });
});

describe('parseWebhook: documented variants', () => {
  it('reads fields from payload.object when they are not flat', () => {
    const body = {
      event: 'meeting.rtms_started',
      event_ts: EVENT_TS,
      payload: {
        account_id: 'acc_123',
        object: { meeting_uuid: MEETING_UUID, rtms_stream_id: STREAM_ID, server_urls: SERVER_URLS, operator_id: 'op' },
      },
    };
    expect(parse(body)).toMatchObject({
      kind: 'started',
      start: { entityId: MEETING_UUID, rtmsStreamId: STREAM_ID, serverUrls: SERVER_URLS, operatorId: 'op', accountId: 'acc_123' },
    });
  });

  it('prefers flat fields over payload.object', () => {
    const body = example('meeting.rtms_stopped', { object: { rtms_stream_id: 'nested-id', stop_reason: 9 } });
    expect(parse(body)).toMatchObject({ rtmsStreamId: STREAM_ID, stopReason: 1 });
  });

  it('stopped and interrupted from payload.object', () => {
    const body = {
      event: 'webinar.rtms_stopped',
      event_ts: EVENT_TS,
      payload: { object: { webinar_uuid: WEBINAR_UUID, rtms_stream_id: STREAM_ID, stop_reason: 18 } },
    };
    expect(parse(body)).toMatchObject({ kind: 'stopped', entityId: WEBINAR_UUID, stopReason: 18 });
  });

  it('webinar with meeting_uuid keeps meeting_uuid as the handshake key', () => {
    const body = example('webinar.rtms_started', { webinar_uuid: undefined, meeting_uuid: MEETING_UUID });
    expect(parse(body)).toMatchObject({ start: { product: 'webinar', entityIdKey: 'meeting_uuid', entityId: MEETING_UUID } });
  });

  it('webinar with both ids prefers the documented webinar_uuid', () => {
    const body = example('webinar.rtms_started', { meeting_uuid: MEETING_UUID });
    expect(parse(body)).toMatchObject({ start: { entityIdKey: 'webinar_uuid', entityId: WEBINAR_UUID } });
  });

  it('webinar interrupted with meeting_uuid', () => {
    const body = example('webinar.rtms_interrupted', { webinar_uuid: undefined, meeting_uuid: MEETING_UUID });
    expect(parse(body)).toMatchObject({ kind: 'interrupted', entityId: MEETING_UUID });
  });

  it('comma-separated server_urls: kept verbatim, first wss:// picked', () => {
    const serverUrls = 'https://rtms.zoom.us/api, ws://10.0.0.1:8080,wss://rtms-a.zoom.us:443 , wss://rtms-b.zoom.us:443';
    const event = parse(example('meeting.rtms_started', { server_urls: serverUrls }));
    expect(event).toMatchObject({ start: { serverUrls, signalingUrl: 'wss://rtms-a.zoom.us:443' } });
  });

  it('falls back to ws:// when there is no wss://', () => {
    const event = parse(example('session.rtms_started', { server_urls: 'http://a.example,ws://127.0.0.1:9000' }));
    expect(event).toMatchObject({ start: { signalingUrl: 'ws://127.0.0.1:9000' } });
  });

  it('accepts any integer stop_reason (full RTMS_STOP_REASON enum)', () => {
    expect(parse(example('meeting.rtms_stopped', { stop_reason: 18 }))).toMatchObject({ stopReason: 18 });
  });

  it('leaves out descriptive fields of the wrong type instead of refusing the stream', () => {
    const event = parse(example('meeting.rtms_started', { operator_id: 42, account_id: null }));
    expect(event).not.toHaveProperty('start.operatorId');
    expect(event).not.toHaveProperty('start.accountId');
  });

  it('pickSignalingUrl ignores blanks and unparseable entries', () => {
    expect(pickSignalingUrl(' , wss://, wss://ok.example ')).toBe('wss://ok.example');
    expect(pickSignalingUrl('')).toBeUndefined();
  });
});

describe('parseWebhook: malformed bodies', () => {
  it.each<[string, unknown, string, string]>([
    ['invalid JSON', '{"event": "meeting.rtms_started",', 'WEBHOOK_BODY_INVALID', 'body: expected JSON, got invalid JSON'],
    ['empty body', '', 'WEBHOOK_BODY_INVALID', 'body: expected JSON, got invalid JSON'],
    ['a JSON array', '[1,2]', 'WEBHOOK_BODY_INVALID', 'body: expected a JSON object, got array'],
    ['no event', { event_ts: EVENT_TS, payload: {} }, 'WEBHOOK_BODY_INVALID', 'event: expected a non-empty string, missing'],
    ['event not a string', { event: 7, event_ts: EVENT_TS, payload: {} }, 'WEBHOOK_BODY_INVALID', 'event: expected a non-empty string, got number'],
    ['unknown event', { event: 'meeting.started', event_ts: EVENT_TS, payload: {} }, 'WEBHOOK_EVENT_UNKNOWN', 'event: unknown event "meeting.started"'],
    ['no payload', { event: 'meeting.rtms_stopped', event_ts: EVENT_TS }, 'WEBHOOK_BODY_INVALID', 'payload: expected an object, missing'],
    [
      'payload is a string',
      { event: 'meeting.rtms_stopped', event_ts: EVENT_TS, payload: 'x' },
      'WEBHOOK_BODY_INVALID',
      'payload: expected an object, got string',
    ],
    [
      'event_ts missing',
      example('meeting.rtms_stopped', {}, { event_ts: undefined }),
      'WEBHOOK_BODY_INVALID',
      'event_ts: expected an integer (ms since the epoch), missing',
    ],
    [
      'event_ts as string',
      example('meeting.rtms_stopped', {}, { event_ts: '1730000000000' }),
      'WEBHOOK_BODY_INVALID',
      'event_ts: expected an integer (ms since the epoch), got string',
    ],
    [
      'event_ts fractional',
      example('meeting.rtms_stopped', {}, { event_ts: 1.5 }),
      'WEBHOOK_BODY_INVALID',
      'event_ts: expected an integer (ms since the epoch), got non-integer number',
    ],
    [
      'missing rtms_stream_id',
      example('meeting.rtms_started', { rtms_stream_id: undefined }),
      'WEBHOOK_BODY_INVALID',
      'payload.rtms_stream_id: expected a non-empty string, missing',
    ],
    [
      'empty rtms_stream_id',
      example('meeting.rtms_started', { rtms_stream_id: '' }),
      'WEBHOOK_BODY_INVALID',
      'payload.rtms_stream_id: expected a non-empty string, got empty string',
    ],
    [
      'numeric rtms_stream_id',
      example('meeting.rtms_interrupted', { rtms_stream_id: 12 }),
      'WEBHOOK_BODY_INVALID',
      'payload.rtms_stream_id: expected a non-empty string, got number',
    ],
    [
      'missing meeting_uuid',
      example('meeting.rtms_started', { meeting_uuid: undefined }),
      'WEBHOOK_BODY_INVALID',
      'payload.meeting_uuid: expected a non-empty string, missing',
    ],
    [
      'webinar without any id',
      example('webinar.rtms_started', { webinar_uuid: undefined }),
      'WEBHOOK_BODY_INVALID',
      'payload.webinar_uuid: expected a non-empty string (or payload.meeting_uuid), missing',
    ],
    [
      'session without session_id',
      example('session.rtms_stopped', { session_id: undefined }),
      'WEBHOOK_BODY_INVALID',
      'payload.session_id: expected a non-empty string, missing',
    ],
    [
      'missing server_urls',
      example('meeting.rtms_started', { server_urls: undefined }),
      'WEBHOOK_BODY_INVALID',
      'payload.server_urls: expected a non-empty string, missing',
    ],
    [
      'server_urls as array',
      example('meeting.rtms_started', { server_urls: ['wss://a'] }),
      'WEBHOOK_BODY_INVALID',
      'payload.server_urls: expected a non-empty string, got array',
    ],
    [
      'no ws url',
      example('contact_center.voice_rtms_started', { server_urls: 'https://a.example,http://b.example' }),
      'WEBHOOK_BODY_INVALID',
      'payload.server_urls: expected a ws:// or wss:// URL (comma-separated list allowed)',
    ],
    [
      'nested field wrong type',
      { event: 'meeting.rtms_interrupted', event_ts: EVENT_TS, payload: { object: { meeting_uuid: MEETING_UUID, rtms_stream_id: false } } },
      'WEBHOOK_BODY_INVALID',
      'payload.object.rtms_stream_id: expected a non-empty string, got boolean',
    ],
    [
      'stop_reason missing',
      example('meeting.rtms_stopped', { stop_reason: undefined }),
      'WEBHOOK_BODY_INVALID',
      'payload.stop_reason: expected a non-negative integer, missing',
    ],
    [
      'stop_reason as string',
      example('meeting.rtms_stopped', { stop_reason: '1' }),
      'WEBHOOK_BODY_INVALID',
      'payload.stop_reason: expected a non-negative integer, got string',
    ],
    [
      'stop_reason fractional',
      example('meeting.rtms_stopped', { stop_reason: 1.5 }),
      'WEBHOOK_BODY_INVALID',
      'payload.stop_reason: expected a non-negative integer, got non-integer number',
    ],
    [
      'percentage missing',
      example('rtms.concurrency_near_limit', { percentage: undefined }),
      'WEBHOOK_BODY_INVALID',
      'payload.percentage: expected a non-negative integer, missing',
    ],
    [
      'concurrency_number null',
      example('rtms.concurrency_limited', { concurrency_number: null }),
      'WEBHOOK_BODY_INVALID',
      'payload.concurrency_number: expected a non-negative integer, got null',
    ],
    [
      'url_validation without token',
      { event: 'endpoint.url_validation', event_ts: EVENT_TS, payload: {} },
      'WEBHOOK_BODY_INVALID',
      'payload.plainToken: expected a non-empty string, missing',
    ],
    [
      'rtms_stream_id too long',
      example('meeting.rtms_stopped', { rtms_stream_id: 's'.repeat(257) }),
      'WEBHOOK_BODY_INVALID',
      'payload.rtms_stream_id: expected at most 256 characters, got 257',
    ],
    [
      'meeting_uuid too long',
      example('meeting.rtms_started', { meeting_uuid: 'm'.repeat(5000) }),
      'WEBHOOK_BODY_INVALID',
      'payload.meeting_uuid: expected at most 256 characters, got 5000',
    ],
    [
      'operator_id too long',
      example('meeting.rtms_started', { operator_id: 'o'.repeat(300) }),
      'WEBHOOK_BODY_INVALID',
      'payload.operator_id: expected at most 256 characters, got 300',
    ],
    [
      'nested id too long',
      { event: 'meeting.rtms_interrupted', event_ts: EVENT_TS, payload: { object: { meeting_uuid: MEETING_UUID, rtms_stream_id: 'x'.repeat(999) } } },
      'WEBHOOK_BODY_INVALID',
      'payload.object.rtms_stream_id: expected at most 256 characters, got 999',
    ],
    [
      'id_field id too long',
      example('rtms.concurrency_limited', { id_field: { meeting_uuid: 'u'.repeat(257) } }),
      'WEBHOOK_BODY_INVALID',
      'payload.id_field.meeting_uuid: expected at most 256 characters, got 257',
    ],
    [
      'server_urls too long',
      example('meeting.rtms_started', { server_urls: `wss://a.example/${'p'.repeat(2048)}` }),
      'WEBHOOK_BODY_INVALID',
      'payload.server_urls: expected at most 2048 characters, got 2064',
    ],
    [
      'url_validation with huge token',
      { event: 'endpoint.url_validation', payload: { plainToken: 'a'.repeat(257) } },
      'WEBHOOK_BODY_INVALID',
      'payload.plainToken: expected at most 256 characters, got 257',
    ],
  ])('%s', (_name, body, code, message) => {
    const error = rejection(body);
    expect(error.code).toBe(code);
    expect(error.status).toBe(400);
    expect(error.message).toBe(message);
  });

  it('does not echo body content in the invalid-JSON reason', () => {
    expect(rejection('{"secret-looking": tru').message).not.toContain('secret-looking');
  });

  it('accepts ids of exactly MAX_ID_LENGTH characters', () => {
    const event = parseWebhook(JSON.stringify(example('meeting.rtms_stopped', { rtms_stream_id: 's'.repeat(MAX_ID_LENGTH) })));
    expect(event.kind === 'stopped' && event.rtmsStreamId.length).toBe(MAX_ID_LENGTH);
  });

  it('truncates a long unknown event name', () => {
    expect(rejection({ event: 'x'.repeat(500), payload: {} }).message).toBe(`event: unknown event "${'x'.repeat(100)}"`);
  });
});
