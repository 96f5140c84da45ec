import type { MediaKind } from '../vocabulary/mediaKind.ts';
import type { Frame } from '../vocabulary/frame.ts';
import { MessageType } from './codes.ts';
import { idField, isRecord, numberField, stringField } from './messageFields.ts';
import type { RtmsMessage } from './rtmsSocket.ts';

/** msg_type → media kind for the data messages 14–18 (docs/protocol.md#media-messages). */
export const MEDIA_KIND_BY_MESSAGE_TYPE: ReadonlyMap<number, MediaKind> = new Map<number, MediaKind>([
  [MessageType.MEDIA_DATA_AUDIO, 'audio'],
  [MessageType.MEDIA_DATA_VIDEO, 'video'],
  [MessageType.MEDIA_DATA_SHARE, 'deskshare'],
  [MessageType.MEDIA_DATA_TRANSCRIPT, 'transcript'],
  [MessageType.MEDIA_DATA_CHAT, 'chat'],
]);

/** Why a media data message could not be read (the detail of a `malformed_media`). */
export type MediaDecodeFailure = 'no_content' | 'no_data' | 'no_timestamp' | 'no_user' | 'invalid_base64' | 'length_mismatch' | 'empty';

export type DecodedMedia = { readonly ok: true; readonly frame: Frame } | { readonly ok: false; readonly kind: MediaKind; readonly reason: MediaDecodeFailure };

/**
 * Decodes one media data message into a `Frame`. A message that does not have the documented
 * shape is reported with a reason (to be counted and skipped), never thrown.
 */
export function decodeMediaMessage(message: RtmsMessage, kind: MediaKind, receivedAt: number): DecodedMedia {
  const read = readMediaFrame(message, kind, receivedAt);
  return typeof read === 'string' ? { ok: false, kind, reason: read } : { ok: true, frame: read };
}

/**
 * `decodeMediaMessage` without the result wrapper: the frame, or why there is none. The
 * per-message decoder (decodeRtmsMessage.ts) wraps it once in its own result.
 */
export function readMediaFrame(message: RtmsMessage, kind: MediaKind, receivedAt: number): Frame | MediaDecodeFailure {
  const content = message['content'];
  if (!isRecord(content)) return 'no_content';
  const rawData = stringField(content, 'data');
  if (rawData === undefined) return 'no_data';
  const timestamp = numberField(content, 'timestamp');
  if (timestamp === undefined) return 'no_timestamp';

  // Contact Center identifies parties by channel_id; mixed audio carries user_id 0.
  const channelId = stringField(content, 'channel_id');
  const userId = channelId !== undefined && channelId !== '' ? channelId : (idField(content, 'user_id') ?? (kind === 'chat' ? '0' : undefined));
  if (userId === undefined) return 'no_user';

  const userName = stringField(content, 'user_name');
  const isText = kind === 'transcript' || kind === 'chat';
  let data: Buffer;
  if (isText) {
    data = Buffer.from(rawData, 'utf8');
  } else {
    // Zoom's samples strip an optional data: URI prefix from share frames.
    const comma = rawData.startsWith('data:') ? rawData.indexOf(',') : -1;
    const base64 = comma >= 0 ? rawData.slice(comma + 1) : rawData;
    data = Buffer.from(base64, 'base64');
    if (data.length !== base64DecodedLength(base64)) return 'invalid_base64';
    const length = content['length'];
    if (typeof length === 'number' && length !== data.length) return 'length_mismatch';
  }
  if (data.length === 0 && !isText) return 'empty';

  if (kind !== 'transcript') return { kind, userId, userName, timestamp, data, receivedAt };
  return {
    kind,
    userId,
    userName,
    timestamp,
    data,
    receivedAt,
    startTime: numberField(content, 'start_time'),
    endTime: numberField(content, 'end_time'),
    language: numberField(content, 'language'),
    attribute: numberField(content, 'attribute'),
  };
}

/**
 * The bytes a well-formed base64 string of this length decodes to, or -1 for a length no
 * base64 string has. Node's decoder skips characters outside the alphabet and stops at a
 * misplaced `=`, so any such string decodes to fewer bytes than its length promises: comparing
 * the two validates a frame without a second pass over it (a regular expression cost more
 * than the decoding itself). The URL-safe alphabet (`-`, `_`) is accepted, as Node decodes it.
 */
export function base64DecodedLength(base64: string): number {
  let length = base64.length;
  if (length % 4 === 1) return -1;
  if (base64.charCodeAt(length - 1) === 0x3d) length -= base64.charCodeAt(length - 2) === 0x3d ? 2 : 1;
  return Math.floor((length * 3) / 4);
}
