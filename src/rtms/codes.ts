/**
 * RTMS V1 protocol enumerations (docs/protocol.md#message-types, #media-parameters,
 * #status-codes-and-stop-reasons). Values go on the wire as
 * integers; names are for logs and `events.jsonl`. Unknown values are reported verbatim.
 */

export const MessageType = {
  SIGNALING_HAND_SHAKE_REQ: 1,
  SIGNALING_HAND_SHAKE_RESP: 2,
  DATA_HAND_SHAKE_REQ: 3,
  DATA_HAND_SHAKE_RESP: 4,
  EVENT_SUBSCRIPTION: 5,
  EVENT_UPDATE: 6,
  CLIENT_READY_ACK: 7,
  STREAM_STATE_UPDATE: 8,
  SESSION_STATE_UPDATE: 9,
  SESSION_STATE_REQ: 10,
  SESSION_STATE_RESP: 11,
  KEEP_ALIVE_REQ: 12,
  KEEP_ALIVE_RESP: 13,
  MEDIA_DATA_AUDIO: 14,
  MEDIA_DATA_VIDEO: 15,
  MEDIA_DATA_SHARE: 16,
  MEDIA_DATA_TRANSCRIPT: 17,
  MEDIA_DATA_CHAT: 18,
  STREAM_STATE_REQ: 19,
  STREAM_STATE_RESP: 20,
  STREAM_CLOSE_REQ: 21,
  STREAM_CLOSE_RESP: 22,
  META_DATA_AUDIO: 23,
  VIDEO_SUBSCRIPTION_REQ: 28,
  VIDEO_SUBSCRIPTION_RESP: 29,
} as const;

/** RTMS_STATUS_CODE, the current official 0–45 table plus 46/47 seen in Zoom's library. */
export const StatusCode = {
  OK: 0,
  INVALID_MESSAGE_TYPE: 1,
  INVALID_RTMS_STREAM_ID: 2,
  INVALID_SIGNATURE: 3,
  INVALID_PAYLOAD: 4,
  INVALID_EVENTS: 5,
  INVALID_EVENT_TYPE: 6,
  INVALID_MEDIA_TYPE: 7,
  DUPLICATE_SIGNAL_REQUEST: 8,
  MEDIA_TYPE_AUDIO_NOT_SUPPORT: 9,
  MEDIA_TYPE_VIDEO_NOT_SUPPORT: 10,
  MEDIA_TYPE_DESKSHARE_NOT_SUPPORT: 11,
  MEDIA_TYPE_TRANSCRIPT_NOT_SUPPORT: 12,
  MEDIA_TYPE_CHAT_NOT_SUPPORT: 13,
  MEDIA_TYPE_INVALID_VALUE: 14,
  MEDIA_DATA_ALL_CONNECTION_EXIST: 15,
  DUPLICATE_MEDIA_DATA_CONNECTION: 16,
  INVALID_MEDIA_PARAMS: 17,
  INVALID_MEDIA_AUDIO_PARAMS: 18,
  INVALID_MEDIA_AUDIO_CONTENT_TYPE: 19,
  INVALID_MEDIA_AUDIO_SAMPLE_RATE: 20,
  INVALID_MEDIA_AUDIO_CHANNEL: 21,
  INVALID_MEDIA_AUDIO_CODEC: 22,
  INVALID_MEDIA_AUDIO_DATA_OPT: 23,
  INVALID_MEDIA_AUDIO_SEND_RATE: 24,
  INVALID_MEDIA_VIDEO_PARAMS: 25,
  INVALID_MEDIA_VIDEO_CONTENT_TYPE: 26,
  INVALID_MEDIA_VIDEO_CODEC: 27,
  INVALID_MEDIA_VIDEO_RESOLUTION: 28,
  INVALID_MEDIA_VIDEO_DATA_OPT: 29,
  INVALID_MEDIA_VIDEO_FPS: 30,
  INVALID_MEDIA_DESKSHARE_PARAMS: 31,
  INVALID_MEDIA_DESKSHARE_CONTENT_TYPE: 32,
  INVALID_MEDIA_DESKSHARE_CODEC: 33,
  INVALID_MEDIA_DESKSHARE_RESOLUTION: 34,
  INVALID_MEDIA_DESKSHARE_FPS: 35,
  INVALID_MEDIA_TRANSCRIPT_PARAMS: 36,
  INVALID_MEDIA_TRANSCRIPT_CONTENT_TYPE: 37,
  INVALID_MEDIA_CHAT_PARAMS: 38,
  INVALID_MEDIA_CHAT_CONTENT_TYPE: 39,
  INVALID_RTMS_SESSION_ID: 40,
  INVALID_CLIENT_READY_ACK: 41,
  INVALID_EVENT_SUBSCRIBE: 42,
  INVALID_MEDIA_TRANSCRIPT_SOURCE_LANGUAGE: 43,
  DUPLICATE_VIDEO_SUBSCRIPTION: 44,
  INTERNAL_EXCEPTION: 45,
  INVALID_MEDIA_TRANSCRIPT_TARGET_LANGUAGE: 46,
  CHAT_SESSION_KEY_NOT_AVAILABLE: 47,
} as const;
export const STATUS_CODE_NAMES: readonly string[] = namesOf(StatusCode);

/**
 * Whether retrying a refused handshake can succeed. Wrong credentials, an unknown stream or
 * parameters the server refuses cannot. "A connection already exists" (8 signaling, 15/16
 * media) is transient during a rejoin: Zoom has not yet noticed the old socket is gone. 45 is
 * Zoom's own internal error. The rejoin window bounds the retries either way.
 */
export function isRetryableStatus(statusCode: number): boolean {
  return (
    statusCode === StatusCode.DUPLICATE_SIGNAL_REQUEST ||
    statusCode === StatusCode.MEDIA_DATA_ALL_CONNECTION_EXIST ||
    statusCode === StatusCode.DUPLICATE_MEDIA_DATA_CONNECTION ||
    statusCode === StatusCode.INTERNAL_EXCEPTION
  );
}

/** RTMS_STOP_REASON: why Zoom stopped a stream (`rtms_stopped`, STREAM_STATE_UPDATE). */
export const StopReason = {
  UNDEFINED: 0,
  HOST_TRIGGERED: 1,
  USER_TRIGGERED: 2,
  USER_LEFT: 3,
  USER_EJECTED: 4,
  HOST_DISABLED_APP: 5,
  MEETING_ENDED: 6,
  STREAM_CANCELED: 7,
  STREAM_REVOKED: 8,
  ALL_APPS_DISABLED: 9,
  INTERNAL_EXCEPTION: 10,
  CONNECTION_TIMEOUT: 11,
  INSTANCE_CONNECTION_INTERRUPTED: 12,
  SIGNAL_CONNECTION_INTERRUPTED: 13,
  DATA_CONNECTION_INTERRUPTED: 14,
  SIGNAL_CONNECTION_CLOSED_ABNORMALLY: 15,
  DATA_CONNECTION_CLOSED_ABNORMALLY: 16,
  EXIT_SIGNAL: 17,
  AUTHENTICATION_FAILURE: 18,
  AWAIT_RECONNECTION_TIMEOUT: 19,
  RECEIVER_REQUEST_CLOSE: 20,
  CUSTOMER_DISCONNECTED: 21,
  AGENT_DISCONNECTED: 22,
  ADMIN_DISABLED_APP: 23,
  KEEP_ALIVE_TIMEOUT: 24,
  MANUAL_API_TRIGGERED: 25,
  STREAMING_NOT_SUPPORTED: 26,
} as const;
export const STOP_REASON_NAMES: readonly string[] = namesOf(StopReason);

export const RtmsStreamState = { INACTIVE: 0, ACTIVE: 1, INTERRUPTED: 2, TERMINATING: 3, TERMINATED: 4, PAUSED: 5, RESUMED: 6 } as const;
export const STREAM_STATE_NAMES: readonly string[] = namesOf(RtmsStreamState);

export const RtmsSessionState = { INACTIVE: 0, INITIALIZE: 1, STARTED: 2, PAUSED: 3, RESUMED: 4, STOPPED: 5 } as const;
export const SESSION_STATE_NAMES: readonly string[] = namesOf(RtmsSessionState);

/** EVENT_UPDATE event types for meetings, webinars and Video SDK sessions. */
export const EventType = {
  UNDEFINED: 0,
  FIRST_PACKET_TIMESTAMP: 1,
  ACTIVE_SPEAKER_CHANGE: 2,
  PARTICIPANT_JOIN: 3,
  PARTICIPANT_LEAVE: 4,
  SHARING_START: 5,
  SHARING_STOP: 6,
  MEDIA_CONNECTION_INTERRUPTED: 7,
  PARTICIPANT_VIDEO_ON: 8,
  PARTICIPANT_VIDEO_OFF: 9,
  CHAT_GROUP_CREATE: 10,
  CHAT_GROUP_DELETE: 11,
  CHAT_GROUP_MEMBERS_ADD: 12,
  CHAT_GROUP_MEMBERS_DELETE: 13,
  CHAT_GROUP_MEMBER_STATUS_UPDATE: 14,
} as const;

/** Events we subscribe to on meetings, webinars and Video SDK sessions (1 and 7 come unasked). */
export const SUBSCRIBED_EVENTS: readonly number[] = [
  EventType.ACTIVE_SPEAKER_CHANGE,
  EventType.PARTICIPANT_JOIN,
  EventType.PARTICIPANT_LEAVE,
  EventType.SHARING_START,
  EventType.SHARING_STOP,
  EventType.PARTICIPANT_VIDEO_ON,
  EventType.PARTICIPANT_VIDEO_OFF,
];

export const EVENT_TYPE_NAMES: readonly string[] = namesOf(EventType);

/** Contact Center voice uses its own event enum whose values overlap the meeting one (docs/protocol.md#events). */
export const ZccEventType = {
  CONSUMER_ANSWERED: 8,
  CONSUMER_END: 9,
  USER_ANSWERED: 10,
  USER_END: 11,
  USER_HOLD: 12,
  USER_UNHOLD: 13,
  MONITOR_STARTED: 14,
  MONITOR_TRANSITIONED: 15,
  MONITOR_ENDED: 16,
  TAKEOVER_STARTED: 17,
  TRANSFER_INITIATED: 18,
  TRANSFER_CANCELED: 19,
  TRANSFER_ACCEPTED: 20,
  TRANSFER_COMPLETED: 21,
  TRANSFER_REJECTED: 22,
  TRANSFER_TIMEOUT: 23,
  CONFERENCE_CANCELED: 24,
  CONFERENCE_PARTICIPANT_CANCELED: 25,
  CONFERENCE_PARTICIPANT_INVITED: 26,
  CONFERENCE_PARTICIPANT_REJECTED: 27,
  CONFERENCE_PARTICIPANT_TIMEOUT: 28,
  CONFERENCE_PARTICIPANT_LEFT: 29,
} as const;
export const ZCC_EVENT_TYPE_NAMES: readonly string[] = namesOf(ZccEventType);

/** MEDIA_DATA_TYPE bitmask; ALL is its own bit, not the OR of the others. */
export const MediaTypeBit = { audio: 1, video: 2, deskshare: 4, transcript: 8, chat: 16, all: 32 } as const;

export const ContentType = { UNDEFINED: 0, RTP: 1, RAW_AUDIO: 2, RAW_VIDEO: 3, FILE_STREAM: 4, TEXT: 5 } as const;
export const Codec = { UNDEFINED: 0, L16: 1, G711: 2, G722: 3, OPUS: 4, JPG: 5, PNG: 6, H264: 7 } as const;
/** AUDIO_SAMPLE_RATE enum value → Hz. */
export const SAMPLE_RATE_HZ: readonly number[] = [8000, 16000, 32000, 48000];
export const DataOption = {
  UNDEFINED: 0,
  AUDIO_MIXED_STREAM: 1,
  AUDIO_MULTI_STREAMS: 2,
  VIDEO_SINGLE_ACTIVE_STREAM: 3,
  VIDEO_SINGLE_INDIVIDUAL_STREAM: 4,
} as const;
export const Resolution = { SD: 1, HD: 2, FHD: 3, QHD: 4 } as const;
export const AudioChannel = { MONO: 1, STEREO: 2 } as const;
/** RTMS_DATA_MESSAGE_ATTRIBUTE of a transcript message. */
export const DataMessageAttribute = { NONE: 0, NEW: 1, UPDATE: 2, DELETE: 3 } as const;

/** Value → name of one of the tables above, for logs and events. */
function namesOf(table: Readonly<Record<string, number>>): readonly string[] {
  const names: string[] = [];
  for (const [name, value] of Object.entries(table)) names[value] = name;
  return names;
}

/** Name of an enum value for logs and events; unknown values keep their number. */
export function nameOf(names: readonly string[], value: number): string {
  const name = names[value];
  return name ?? `UNKNOWN_${value}`;
}
