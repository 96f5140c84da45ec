import { describe, expect, it } from 'vitest';
import { EventType, MessageType, RtmsStreamState, StatusCode, StopReason } from '../../../src/rtms/codes.ts';
import { decodeHandshakeResponse, decodeRtmsMessage } from '../../../src/rtms/decodeRtmsMessage.ts';
import type { DecodedRtmsMessage } from '../../../src/rtms/rtmsMessages.ts';
import type { RtmsMessage } from '../../../src/rtms/rtmsSocket.ts';

const AT = 1_700_000_000_000;

function decoded(message: RtmsMessage): DecodedRtmsMessage {
  const result = decodeRtmsMessage(message, AT);
  if (!result.ok) throw new Error(`expected ${JSON.stringify(message)} to decode, got ${JSON.stringify(result.failure)}`);
  return result.message;
}

const AUDIO = Buffer.from([1, 2, 3, 4]).toString('base64');

describe('decodeRtmsMessage', () => {
  it('handshake answers: status, reason, media URLs (strings only) and echoed media_params', () => {
    for (const msgType of [MessageType.SIGNALING_HAND_SHAKE_RESP, MessageType.DATA_HAND_SHAKE_RESP]) {
      const message = {
        msg_type: msgType,
        status_code: StatusCode.INVALID_SIGNATURE,
        reason: 'bad',
        media_server: { server_urls: { audio: 'wss://a', video: 7 } },
        media_params: { audio: {} },
      };
      expect(decoded(message)).toEqual({
        type: 'handshake_response',
        msg_type: msgType,
        statusCode: 3,
        reason: 'bad',
        mediaServerUrls: { audio: 'wss://a' },
        mediaParams: { audio: {} },
      });
    }
    // Zoom's library reads a missing or mistyped status as OK.
    expect(decodeHandshakeResponse({ msg_type: MessageType.SIGNALING_HAND_SHAKE_RESP, status_code: '3', media_server: 'x' })).toMatchObject({
      statusCode: 0,
      reason: '',
      mediaServerUrls: {},
    });
  });

  it('keep-alive requests with and without a timestamp', () => {
    expect(decoded({ msg_type: MessageType.KEEP_ALIVE_REQ, timestamp: 5 })).toEqual({ type: 'keep_alive', msg_type: 12, timestamp: 5 });
    expect(decoded({ msg_type: MessageType.KEEP_ALIVE_REQ, timestamp: 'soon' })).toEqual({ type: 'keep_alive', msg_type: 12, timestamp: undefined });
  });

  it('event updates: ids as strings, participants without a record or an id kept out of the roster', () => {
    const message = {
      msg_type: MessageType.EVENT_UPDATE,
      event: { event_type: EventType.PARTICIPANT_JOIN, event_ts: 42, participants: [{ user_id: 7, user_name: 'Ann' }, { user_id: '' }, 'junk'], user_id: 'u1' },
    };
    expect(decoded(message)).toEqual({
      type: 'event_update',
      msg_type: 6,
      event: {
        eventType: EventType.PARTICIPANT_JOIN,
        at: 42,
        userId: 'u1',
        userName: undefined,
        participants: [
          { userId: '7', userName: 'Ann' },
          { userId: undefined, userName: undefined },
        ],
        participantInfo: undefined,
      },
    });
    const contactCenter = decoded({
      msg_type: MessageType.EVENT_UPDATE,
      event: { event_type: 8, timestamp: 1, participant_info: { channel_id: 'c1', display_name: 'Bo', participant_mode: 2 } },
    });
    expect(contactCenter).toMatchObject({ event: { eventType: 8, at: 1, participantInfo: { channelId: 'c1', displayName: 'Bo', participantMode: 2 } } });
    expect(decoded({ msg_type: MessageType.EVENT_UPDATE, event: 'nonsense' })).toMatchObject({ event: { eventType: 0, at: undefined, participants: [] } });
  });

  it('stream and session state updates read reason and stop_reason in their documented order', () => {
    expect(decoded({ msg_type: MessageType.STREAM_STATE_UPDATE, state: RtmsStreamState.TERMINATED, stop_reason: StopReason.MEETING_ENDED })).toEqual({
      type: 'stream_state_update',
      msg_type: 8,
      state: 4,
      reason: StopReason.MEETING_ENDED,
    });
    expect(decoded({ msg_type: MessageType.STREAM_STATE_UPDATE, state: 1.5, reason: 'x' })).toMatchObject({ state: undefined, reason: undefined });
    expect(decoded({ msg_type: MessageType.SESSION_STATE_UPDATE, rtms_session_id: 's', state: 5, stop_reason: 6, reason: 1 })).toEqual({
      type: 'session_state_update',
      msg_type: 9,
      rtmsSessionId: 's',
      state: 5,
      reason: 6,
    });
  });

  it('answers to our requests keep their status as sent', () => {
    for (const msgType of [MessageType.STREAM_STATE_RESP, MessageType.SESSION_STATE_RESP, MessageType.STREAM_CLOSE_RESP, MessageType.VIDEO_SUBSCRIPTION_RESP]) {
      expect(decoded({ msg_type: msgType, status_code: 0 })).toEqual({ type: 'response', msg_type: msgType, statusCode: 0 });
    }
  });

  it('each media data type decodes into a frame of its kind', () => {
    const cases = [
      [MessageType.MEDIA_DATA_AUDIO, 'audio', AUDIO],
      [MessageType.MEDIA_DATA_VIDEO, 'video', AUDIO],
      [MessageType.MEDIA_DATA_SHARE, 'deskshare', AUDIO],
      [MessageType.MEDIA_DATA_TRANSCRIPT, 'transcript', 'hello'],
      [MessageType.MEDIA_DATA_CHAT, 'chat', 'hi'],
    ] as const;
    for (const [msgType, kind, data] of cases) {
      const message = decoded({ msg_type: msgType, content: { user_id: 3, user_name: 'Cy', data, timestamp: AT - 5 } });
      expect(message).toMatchObject({ type: 'media', msg_type: msgType, frame: { kind, userId: '3', userName: 'Cy', timestamp: AT - 5, receivedAt: AT } });
    }
  });

  it('a media message without its required shape is a typed failure naming its kind and why', () => {
    const content = { user_id: 3, data: AUDIO, timestamp: AT };
    const cases: Array<[RtmsMessage, string, string]> = [
      [{ msg_type: MessageType.MEDIA_DATA_AUDIO }, 'audio', 'no_content'],
      [{ msg_type: MessageType.MEDIA_DATA_VIDEO, content: { ...content, data: 5 } }, 'video', 'no_data'],
      [{ msg_type: MessageType.MEDIA_DATA_SHARE, content: { ...content, timestamp: 'now' } }, 'deskshare', 'no_timestamp'],
      [{ msg_type: MessageType.MEDIA_DATA_TRANSCRIPT, content: { data: 'x', timestamp: AT } }, 'transcript', 'no_user'],
      [{ msg_type: MessageType.MEDIA_DATA_AUDIO, content: { ...content, data: 'not*base64' } }, 'audio', 'invalid_base64'],
      [{ msg_type: MessageType.MEDIA_DATA_AUDIO, content: { ...content, length: 99 } }, 'audio', 'length_mismatch'],
      [{ msg_type: MessageType.MEDIA_DATA_AUDIO, content: { ...content, data: '' } }, 'audio', 'empty'],
    ];
    for (const [message, kind, reason] of cases) {
      expect(decodeRtmsMessage(message, AT), reason).toEqual({ ok: false, failure: { type: 'malformed_media', msg_type: message.msg_type, kind, reason } });
    }
    // Chat alone may come without a user: it is the meeting's.
    expect(decoded({ msg_type: MessageType.MEDIA_DATA_CHAT, content: { data: 'hi', timestamp: AT } })).toMatchObject({ frame: { userId: '0' } });
  });

  it('any other msg_type is unknown, including the ones only we send', () => {
    for (const msgType of [999, MessageType.SIGNALING_HAND_SHAKE_REQ, MessageType.KEEP_ALIVE_RESP, MessageType.META_DATA_AUDIO]) {
      expect(decoded({ msg_type: msgType })).toEqual({ type: 'unknown', msg_type: msgType });
    }
  });
});
