import type { Frame } from '../vocabulary/frame.ts';
import type { MediaKind } from '../vocabulary/mediaKind.ts';
import type { MessageType } from './codes.ts';
import type { MediaDecodeFailure } from './mediaMessage.ts';

/**
 * The RTMS messages the connector reads, as `decodeRtmsMessage` gives them: one member per
 * `msg_type` (docs/protocol.md#message-types), each with its fields read and typed once. A field
 * Zoom may leave out is `undefined`; only media data has a shape it must have (a frame that
 * cannot be written is counted `malformed`). `type` names the `msg_type` for narrowing.
 */

type Code<Name extends keyof typeof MessageType> = (typeof MessageType)[Name];

/** SIGNALING_HAND_SHAKE_RESP and DATA_HAND_SHAKE_RESP. */
export interface HandshakeResponse {
  readonly type: 'handshake_response';
  readonly msg_type: Code<'SIGNALING_HAND_SHAKE_RESP'> | Code<'DATA_HAND_SHAKE_RESP'>;
  /** 0 (OK) when absent or not an integer, as Zoom's own library reads it. */
  readonly statusCode: number;
  readonly reason: string;
  /** `media_server.server_urls`: media kind (or `all`) → URL; only string values kept. */
  readonly mediaServerUrls: Readonly<Record<string, string>>;
  /** `media_params` as the server echoed them (read by rtms/mediaParams.ts). */
  readonly mediaParams: unknown;
}

export interface KeepAliveRequest {
  readonly type: 'keep_alive';
  readonly msg_type: Code<'KEEP_ALIVE_REQ'>;
  /** Server time, ms epoch. */
  readonly timestamp: number | undefined;
}

/** A participant named in an event. Zoom documents `user_id` as uint32, its examples show strings. */
export interface EventParticipant {
  readonly userId: string | undefined;
  readonly userName: string | undefined;
}

/** EVENT_UPDATE's `event`. */
export interface RtmsEvent {
  /** 0 when absent. */
  readonly eventType: number;
  /** `timestamp` or `event_ts`, ms epoch. */
  readonly at: number | undefined;
  readonly userId: string | undefined;
  readonly userName: string | undefined;
  readonly participants: readonly EventParticipant[];
  /** Contact Center events (8 and up): the party. */
  readonly participantInfo: { readonly channelId: string | undefined; readonly displayName: string | undefined; readonly participantMode: unknown } | undefined;
}

export interface EventUpdate {
  readonly type: 'event_update';
  readonly msg_type: Code<'EVENT_UPDATE'>;
  readonly event: RtmsEvent;
}

export interface StreamStateUpdate {
  readonly type: 'stream_state_update';
  readonly msg_type: Code<'STREAM_STATE_UPDATE'>;
  readonly state: number | undefined;
  /** `reason`, or `stop_reason`. */
  readonly reason: number | undefined;
}

export interface SessionStateUpdate {
  readonly type: 'session_state_update';
  readonly msg_type: Code<'SESSION_STATE_UPDATE'>;
  readonly rtmsSessionId: unknown;
  readonly state: number | undefined;
  /** `stop_reason`, or `reason`. */
  readonly reason: number | undefined;
}

/** The answers to our requests after the join: STREAM_STATE, SESSION_STATE, STREAM_CLOSE, VIDEO_SUBSCRIPTION. */
export interface RequestResponse {
  readonly type: 'response';
  readonly msg_type: Code<'STREAM_STATE_RESP'> | Code<'SESSION_STATE_RESP'> | Code<'STREAM_CLOSE_RESP'> | Code<'VIDEO_SUBSCRIPTION_RESP'>;
  readonly statusCode: unknown;
}

export type MediaMessageType = Code<'MEDIA_DATA_AUDIO' | 'MEDIA_DATA_VIDEO' | 'MEDIA_DATA_SHARE' | 'MEDIA_DATA_TRANSCRIPT' | 'MEDIA_DATA_CHAT'>;

/** MEDIA_DATA_* (14–18), decoded into the frame the sinks write. */
export interface MediaData {
  readonly type: 'media';
  readonly msg_type: MediaMessageType;
  readonly frame: Frame;
}

/** A `msg_type` the connector does not read (counted `unknown_msg_type` where it arrives). */
export interface UnknownMessage {
  readonly type: 'unknown';
  readonly msg_type: number;
}

export type DecodedRtmsMessage =
  HandshakeResponse | KeepAliveRequest | EventUpdate | StreamStateUpdate | SessionStateUpdate | RequestResponse | MediaData | UnknownMessage;

/** A message of a known `msg_type` without the shape it must have: counted and skipped. */
export interface RtmsDecodeFailure {
  readonly type: 'malformed_media';
  readonly msg_type: MediaMessageType;
  readonly kind: MediaKind;
  readonly reason: MediaDecodeFailure;
}

export type RtmsDecodeResult = { readonly ok: true; readonly message: DecodedRtmsMessage } | { readonly ok: false; readonly failure: RtmsDecodeFailure };
