import { MessageType, type Product, RtmsSessionState, RtmsStreamState } from './connectorShared.ts';
import type { BacklogItem } from './mediaBacklog.ts';
import type { MediaParams } from './mediaNegotiation.ts';
import type { PictureFrame } from './mediaProducer.ts';
import type { SimParticipant } from './participants.ts';

/**
 * The JSON messages the simulator sends (docs/protocol.md#handshake-messages, #media-messages), in one place so the
 * wire format can be checked against the protocol document at a glance. Timestamps are ms
 * epoch; enum values are integers.
 */

export function signalingHandshakeResponse(statusCode: number, reason: string, serverUrls?: Record<string, string>): object {
  return {
    msg_type: MessageType.SIGNALING_HAND_SHAKE_RESP,
    protocol_version: 1,
    sequence: 0,
    status_code: statusCode,
    reason,
    ...(serverUrls === undefined ? {} : { media_server: { server_urls: serverUrls } }),
  };
}

export function dataHandshakeResponse(statusCode: number, reason: string, mediaParams?: MediaParams): object {
  return {
    msg_type: MessageType.DATA_HAND_SHAKE_RESP,
    protocol_version: 1,
    sequence: 0,
    status_code: statusCode,
    reason,
    payload_encryption: false,
    ...(mediaParams === undefined ? {} : { media_params: mediaParams }),
  };
}

export function eventUpdate(event: Record<string, unknown>): object {
  return { msg_type: MessageType.EVENT_UPDATE, event };
}

export function streamStateUpdate(state: number, reason: number, timestamp: number): object {
  return { msg_type: MessageType.STREAM_STATE_UPDATE, state, reason, timestamp };
}

export function sessionStateUpdate(rtmsSessionId: string, state: number, stopReason: number, timestamp: number): object {
  return { msg_type: MessageType.SESSION_STATE_UPDATE, rtms_session_id: rtmsSessionId, state, stop_reason: stopReason, timestamp };
}

/** STREAM_STATE_UPDATE(TERMINATED) + SESSION_STATE_UPDATE(STOPPED), the end of every stream. */
export function terminationMessages(rtmsSessionId: string, stopReason: number, timestamp: number): object[] {
  return [
    streamStateUpdate(RtmsStreamState.TERMINATED, stopReason, timestamp),
    sessionStateUpdate(rtmsSessionId, RtmsSessionState.STOPPED, stopReason, timestamp),
  ];
}

/** A Contact Center voice event: `event_ts` and `participant_info` instead of `timestamp` and user fields. */
export function zccEvent(eventType: number, party: SimParticipant, accountId: string, timestamp: number): object {
  return eventUpdate({
    event_type: eventType,
    event_ts: timestamp,
    participant_info: {
      channel_id: party.channelId,
      participant_mode: party.role === 'agent' ? 'agent' : 'caller',
      display_name: party.userName,
      user_id: party.role === 'agent' ? String(party.userId) : '',
      phone_number: party.role === 'agent' ? '' : '+15550100199',
      queue_id: 'sim-queue-1',
      queue_name: 'Support',
      account_id: accountId,
    },
  });
}

/** Media data message (14, 17, 18) for a backlog item. Contact Center identifies parties by `channel_id`. */
export function mediaDataMessage(item: BacklogItem, product: Product): object {
  const zcc = product === 'contact_center';
  switch (item.kind) {
    case 'audio': {
      const who: Record<string, unknown> =
        item.participant === undefined
          ? { user_id: 0 }
          : zcc
            ? { channel_id: item.participant.channelId }
            : { user_id: item.participant.userId, user_name: item.participant.userName };
      return {
        msg_type: MessageType.MEDIA_DATA_AUDIO,
        content: { ...who, data: item.data.toString('base64'), length: item.data.length, timestamp: item.timestamp },
      };
    }
    case 'transcript':
      return {
        msg_type: MessageType.MEDIA_DATA_TRANSCRIPT,
        content: {
          ...(zcc ? { channel_id: item.participant.channelId } : { user_id: item.participant.userId }),
          user_name: item.participant.userName,
          start_time: item.startTime,
          end_time: item.endTime,
          timestamp: item.startTime,
          language: item.language,
          data: item.text,
        },
      };
    case 'chat':
      return {
        msg_type: MessageType.MEDIA_DATA_CHAT,
        content: { user_id: item.participant.userId, user_name: item.participant.userName, timestamp: item.timestamp, data: item.text },
      };
  }
}

/** Video (15) or deskshare (16) message carrying one access unit or picture. */
export function pictureMessage(frame: PictureFrame): object {
  return {
    msg_type: frame.kind === 'video' ? MessageType.MEDIA_DATA_VIDEO : MessageType.MEDIA_DATA_SHARE,
    content: {
      user_id: frame.participant.userId,
      user_name: frame.participant.userName,
      data: frame.data.toString('base64'),
      length: frame.data.length,
      timestamp: frame.timestamp,
    },
  };
}
