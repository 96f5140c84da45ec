import { MessageType } from './codes.ts';
import { MEDIA_KIND_BY_MESSAGE_TYPE, readMediaFrame } from './mediaMessage.ts';
import { idField, intField, isRecord, numberField, stringField } from './messageFields.ts';
import type { EventParticipant, HandshakeResponse, MediaMessageType, RtmsDecodeResult, RtmsEvent } from './rtmsMessages.ts';
import type { RtmsMessage } from './rtmsSocket.ts';

/**
 * Reads a parsed RTMS message (a JSON object with an integer `msg_type`, as RtmsSocket passes
 * it on) into the typed union of rtmsMessages.ts. Never throws: a media message that cannot be
 * written comes back as a typed failure for the caller to count and skip; any other message
 * reads absent or mistyped fields as `undefined`. `receivedAt` (ms epoch) stamps media frames.
 */
export function decodeRtmsMessage(message: RtmsMessage, receivedAt: number): RtmsDecodeResult {
  switch (message.msg_type) {
    case MessageType.SIGNALING_HAND_SHAKE_RESP:
    case MessageType.DATA_HAND_SHAKE_RESP:
      return { ok: true, message: decodeHandshakeResponse(message) };
    case MessageType.KEEP_ALIVE_REQ:
      return { ok: true, message: { type: 'keep_alive', msg_type: message.msg_type, timestamp: numberField(message, 'timestamp') } };
    case MessageType.EVENT_UPDATE:
      return { ok: true, message: { type: 'event_update', msg_type: message.msg_type, event: decodeEvent(message['event']) } };
    case MessageType.STREAM_STATE_UPDATE:
      return {
        ok: true,
        message: {
          type: 'stream_state_update',
          msg_type: message.msg_type,
          state: intField(message, 'state'),
          reason: intField(message, 'reason') ?? intField(message, 'stop_reason'),
        },
      };
    case MessageType.SESSION_STATE_UPDATE:
      return {
        ok: true,
        message: {
          type: 'session_state_update',
          msg_type: message.msg_type,
          rtmsSessionId: message['rtms_session_id'],
          state: intField(message, 'state'),
          reason: intField(message, 'stop_reason') ?? intField(message, 'reason'),
        },
      };
    case MessageType.STREAM_STATE_RESP:
    case MessageType.SESSION_STATE_RESP:
    case MessageType.STREAM_CLOSE_RESP:
    case MessageType.VIDEO_SUBSCRIPTION_RESP:
      return { ok: true, message: { type: 'response', msg_type: message.msg_type, statusCode: message['status_code'] } };
    case MessageType.MEDIA_DATA_AUDIO:
    case MessageType.MEDIA_DATA_VIDEO:
    case MessageType.MEDIA_DATA_SHARE:
    case MessageType.MEDIA_DATA_TRANSCRIPT:
    case MessageType.MEDIA_DATA_CHAT:
      return decodeMedia(message, message.msg_type, receivedAt);
    default:
      return { ok: true, message: { type: 'unknown', msg_type: message.msg_type } };
  }
}

/** A handshake answer (the reply RtmsSocket.request waited for), whatever else it carries. */
export function decodeHandshakeResponse(message: RtmsMessage): HandshakeResponse {
  const msgType = message.msg_type === MessageType.DATA_HAND_SHAKE_RESP ? MessageType.DATA_HAND_SHAKE_RESP : MessageType.SIGNALING_HAND_SHAKE_RESP;
  const mediaServer = message['media_server'];
  const urls = isRecord(mediaServer) && isRecord(mediaServer['server_urls']) ? mediaServer['server_urls'] : {};
  return {
    type: 'handshake_response',
    msg_type: msgType,
    statusCode: intField(message, 'status_code') ?? 0,
    reason: stringField(message, 'reason') ?? '',
    mediaServerUrls: Object.fromEntries(Object.entries(urls).filter((entry): entry is [string, string] => typeof entry[1] === 'string')),
    mediaParams: message['media_params'],
  };
}

function decodeMedia(message: RtmsMessage, msgType: MediaMessageType, receivedAt: number): RtmsDecodeResult {
  const kind = MEDIA_KIND_BY_MESSAGE_TYPE.get(msgType) ?? 'audio';
  const frame = readMediaFrame(message, kind, receivedAt);
  return typeof frame === 'string'
    ? { ok: false, failure: { type: 'malformed_media', msg_type: msgType, kind, reason: frame } }
    : { ok: true, message: { type: 'media', msg_type: msgType, frame } };
}

function decodeEvent(value: unknown): RtmsEvent {
  const event = isRecord(value) ? value : {};
  const info = isRecord(event['participant_info']) ? event['participant_info'] : undefined;
  const participants: EventParticipant[] = Array.isArray(event['participants'])
    ? event['participants']
        .filter(isRecord)
        .map((participant) => ({ userId: idField(participant, 'user_id'), userName: stringField(participant, 'user_name') }))
    : [];
  return {
    eventType: intField(event, 'event_type') ?? 0,
    at: intField(event, 'timestamp') ?? intField(event, 'event_ts'),
    userId: idField(event, 'user_id'),
    userName: stringField(event, 'user_name'),
    participants,
    participantInfo:
      info === undefined
        ? undefined
        : { channelId: stringField(info, 'channel_id'), displayName: stringField(info, 'display_name'), participantMode: info['participant_mode'] },
  };
}
