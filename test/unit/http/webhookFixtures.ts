import { webhookSignature } from '../../../src/rtms/signature.ts';

/**
 * The 14 RTMS webhook examples of Zoom's OpenAPI description, in their documented flat
 * shape (docs/protocol.md#payload-fields), with its empty placeholders replaced by realistic
 * values.
 */

export const STREAM_ID = '609340fb0e9d4a3b8c1f5a6d7e8f9a0b';
export const MEETING_UUID = '4444AAAiAAAAAiAiAiiAii==';
export const WEBINAR_UUID = 'Wbn7x2QGT9m8mJx1pYHfZg==';
export const SESSION_ID = 'Sx9kQ3pYRkK1m2n3o4p5qw==';
export const SESSION_KEY = 'my-custom-session';
export const ENGAGEMENT_ID = 'eng_8f2a1c3d';
export const SERVER_URLS = 'wss://127.0.0.1:443';
export const EVENT_TS = 1_730_000_000_000;

export const SEED_EXAMPLES: Readonly<Record<string, { event: string; event_ts: number; payload: Record<string, unknown> }>> = {
  'meeting.rtms_started': {
    event: 'meeting.rtms_started',
    event_ts: EVENT_TS,
    payload: {
      meeting_uuid: MEETING_UUID,
      operator_id: '30R7kT7bTIKSNUFEuH_Qlg',
      rtms_stream_id: STREAM_ID,
      meeting_id: 1,
      account_id: 'acc_123',
      is_original_host: true,
      server_urls: SERVER_URLS,
    },
  },
  'meeting.rtms_interrupted': {
    event: 'meeting.rtms_interrupted',
    event_ts: EVENT_TS,
    payload: { meeting_uuid: MEETING_UUID, rtms_stream_id: STREAM_ID },
  },
  'meeting.rtms_stopped': {
    event: 'meeting.rtms_stopped',
    event_ts: EVENT_TS,
    payload: { meeting_uuid: MEETING_UUID, rtms_stream_id: STREAM_ID, stop_reason: 1 },
  },
  'webinar.rtms_started': {
    event: 'webinar.rtms_started',
    event_ts: EVENT_TS,
    payload: {
      webinar_uuid: WEBINAR_UUID,
      operator_id: '30R7kT7bTIKSNUFEuH_Qlg',
      rtms_stream_id: STREAM_ID,
      webinar_id: 1,
      account_id: 'acc_123',
      is_original_host: true,
      server_urls: SERVER_URLS,
    },
  },
  'webinar.rtms_interrupted': {
    event: 'webinar.rtms_interrupted',
    event_ts: EVENT_TS,
    payload: { webinar_uuid: WEBINAR_UUID, rtms_stream_id: STREAM_ID },
  },
  'webinar.rtms_stopped': {
    event: 'webinar.rtms_stopped',
    event_ts: EVENT_TS,
    payload: { webinar_uuid: WEBINAR_UUID, rtms_stream_id: STREAM_ID, stop_reason: 1 },
  },
  'session.rtms_started': {
    event: 'session.rtms_started',
    event_ts: EVENT_TS,
    payload: { session_id: SESSION_ID, session_key: SESSION_KEY, rtms_stream_id: STREAM_ID, account_id: 'acc_123', server_urls: SERVER_URLS },
  },
  'session.rtms_interrupted': {
    event: 'session.rtms_interrupted',
    event_ts: EVENT_TS,
    payload: { session_id: SESSION_ID, session_key: SESSION_KEY, rtms_stream_id: STREAM_ID },
  },
  'session.rtms_stopped': {
    event: 'session.rtms_stopped',
    event_ts: EVENT_TS,
    payload: { session_id: SESSION_ID, session_key: SESSION_KEY, rtms_stream_id: STREAM_ID, stop_reason: 1 },
  },
  'contact_center.voice_rtms_started': {
    event: 'contact_center.voice_rtms_started',
    event_ts: EVENT_TS,
    payload: { engagement_id: ENGAGEMENT_ID, rtms_stream_id: STREAM_ID, server_urls: SERVER_URLS },
  },
  'contact_center.voice_rtms_interrupted': {
    event: 'contact_center.voice_rtms_interrupted',
    event_ts: EVENT_TS,
    payload: { engagement_id: ENGAGEMENT_ID, rtms_stream_id: STREAM_ID },
  },
  'contact_center.voice_rtms_stopped': {
    event: 'contact_center.voice_rtms_stopped',
    event_ts: EVENT_TS,
    payload: { engagement_id: ENGAGEMENT_ID, rtms_stream_id: STREAM_ID, stop_reason: 1 },
  },
  'rtms.concurrency_limited': {
    event: 'rtms.concurrency_limited',
    event_ts: EVENT_TS,
    payload: { operator_id: '30R7kT7bTIKSNUFEuH_Qlg', concurrency_number: 1, id_field: { meeting_uuid: MEETING_UUID } },
  },
  'rtms.concurrency_near_limit': {
    event: 'rtms.concurrency_near_limit',
    event_ts: EVENT_TS,
    payload: { concurrency_limit: 1, concurrency_number: 1, percentage: 1 },
  },
};

/** A deep copy of a seed example with `payload` fields overridden (undefined deletes). */
export function example(event: string, overrides: Record<string, unknown> = {}, top: Record<string, unknown> = {}): Record<string, unknown> {
  const base = SEED_EXAMPLES[event];
  if (base === undefined) throw new Error(`no seed example for ${event}`);
  const payload: Record<string, unknown> = { ...structuredClone(base.payload) };
  for (const [key, value] of Object.entries(overrides)) {
    if (value === undefined) delete payload[key];
    else payload[key] = value;
  }
  return { ...base, payload, ...top };
}

/** Headers Zoom would send for `body` signed with `secretToken` at `timestampSeconds`. */
export function signedHeaders(options: { secretToken: string; body: string; timestampSeconds: number }): Record<string, string> {
  const timestamp = String(options.timestampSeconds);
  return {
    'content-type': 'application/json',
    'x-zm-request-timestamp': timestamp,
    'x-zm-signature': webhookSignature({ secretToken: options.secretToken, timestamp, rawBody: options.body }),
  };
}
