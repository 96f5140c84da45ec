import { MessageType, type Product } from './connectorShared.ts';
import type { SimParticipant } from './participants.ts';
import type { Prng } from './prng.ts';
import type { RecordKind } from './sentRecord.ts';

/**
 * The broken messages chaos mode writes (docs/protocol.md#media-messages shapes, deliberately wrong).
 * Each is built from scratch: chaos never consumes or alters real media, so what a client
 * receives of the real media stays byte-identical to `stream.sent`.
 */

/** How a media message is broken. Every variant is one a client must count and drop. */
export type MalformedVariant =
  /** Not JSON at all. */
  | 'invalidJson'
  /** A real-looking media message cut short (a proper prefix of an object is never valid JSON). */
  | 'truncatedJson'
  /** `content` missing. */
  | 'noContent'
  /** `content.data` missing or not a string. */
  | 'noData'
  /** `content.timestamp` missing. */
  | 'noTimestamp'
  /** No `user_id` / `channel_id` (transcript, audio, video, deskshare). */
  | 'noUser'
  /** `data` is not base64 (binary kinds). */
  | 'badBase64'
  /** `length` disagrees with the decoded data (binary kinds). */
  | 'lengthMismatch'
  /** `data` is empty (binary kinds). */
  | 'emptyData';

export const MALFORMED_VARIANTS: readonly MalformedVariant[] = [
  'invalidJson',
  'truncatedJson',
  'noContent',
  'noData',
  'noTimestamp',
  'noUser',
  'badBase64',
  'lengthMismatch',
  'emptyData',
];

const BINARY_ONLY = new Set<MalformedVariant>(['badBase64', 'lengthMismatch', 'emptyData']);

/** Variants that make a message of `kind` malformed (chat without a user is valid: user 0). */
export function malformedVariantsFor(kind: RecordKind): readonly MalformedVariant[] {
  const binary = kind === 'audio' || kind === 'video' || kind === 'deskshare';
  return MALFORMED_VARIANTS.filter((variant) => (binary || !BINARY_ONLY.has(variant)) && !(kind === 'chat' && variant === 'noUser'));
}

const MSG_TYPE_BY_KIND: Readonly<Record<RecordKind, number>> = {
  audio: MessageType.MEDIA_DATA_AUDIO,
  video: MessageType.MEDIA_DATA_VIDEO,
  deskshare: MessageType.MEDIA_DATA_SHARE,
  transcript: MessageType.MEDIA_DATA_TRANSCRIPT,
  chat: MessageType.MEDIA_DATA_CHAT,
};

/** `msg_type` values no RTMS V1 message uses (docs/protocol.md#message-types ends at 29; 23 is META_DATA_AUDIO). */
export const UNKNOWN_MSG_TYPES: readonly number[] = [24, 25, 26, 27, 30, 31, 64, 99, 255, 1000];

const GARBAGE: readonly string[] = [
  'not json at all',
  '{"msg_type":14,"content":{"data":"AAAA",}}',
  "{'msg_type': 14}",
  '{"msg_type":15,"content":}',
  '<html><body>502 Bad Gateway</body></html>',
  '{{{{',
  '\u0000\u0001\u0002',
  '',
];

export interface ChaosMessageContext {
  readonly kind: RecordKind;
  readonly product: Product;
  /** Attributed speaker (any participant of the stream). */
  readonly participant: SimParticipant;
  /** ms epoch */
  readonly now: number;
  readonly prng: Prng;
}

/** A well-formed media message of `kind` with made-up content, as an object (to be broken). */
function plausibleMessage(context: ChaosMessageContext): { msg_type: number; content: Record<string, unknown> } {
  const { kind, participant, now, prng } = context;
  const zcc = context.product === 'contact_center';
  const who: Record<string, unknown> = zcc ? { channel_id: participant.channelId } : { user_id: participant.userId, user_name: participant.userName };
  const msgType = MSG_TYPE_BY_KIND[kind];
  switch (kind) {
    case 'audio':
    case 'video':
    case 'deskshare': {
      const data = Buffer.alloc(kind === 'audio' ? 640 : prng.int(200, 2000));
      for (let i = 0; i < data.length; i += 1) data[i] = prng.int(0, 255);
      return { msg_type: msgType, content: { ...who, data: data.toString('base64'), length: data.length, timestamp: now } };
    }
    case 'transcript':
      return {
        msg_type: msgType,
        content: { ...who, start_time: now - 1500, end_time: now, timestamp: now - 1500, language: 9, data: 'chaos transcript line' },
      };
    case 'chat':
      return { msg_type: msgType, content: { user_id: participant.userId, user_name: participant.userName, timestamp: now, data: 'chaos chat line' } };
  }
}

/** The text of a media message of `kind` broken as `variant`. */
export function malformedMessage(variant: MalformedVariant, context: ChaosMessageContext): string {
  const message = plausibleMessage(context);
  const { content } = message;
  switch (variant) {
    case 'invalidJson':
      return context.prng.pick(GARBAGE);
    case 'truncatedJson': {
      const text = JSON.stringify(message);
      return text.slice(0, context.prng.int(1, text.length - 1));
    }
    case 'noContent':
      return JSON.stringify({ msg_type: message.msg_type });
    case 'noData':
      delete content['data'];
      if (context.prng.chance(0.5)) content['data'] = 12345;
      break;
    case 'noTimestamp':
      delete content['timestamp'];
      break;
    case 'noUser':
      delete content['user_id'];
      delete content['user_name'];
      delete content['channel_id'];
      break;
    case 'badBase64':
      content['data'] = `${String(content['data']).slice(0, 40)}*not*base64!`;
      break;
    case 'lengthMismatch':
      content['length'] = Number(content['length']) + context.prng.int(1, 100);
      break;
    case 'emptyData':
      content['data'] = '';
      content['length'] = 0;
      break;
  }
  return JSON.stringify(message);
}

/** A JSON message with a `msg_type` RTMS V1 does not define. */
export function unknownMessage(prng: Prng, now: number): string {
  return JSON.stringify({ msg_type: prng.pick(UNKNOWN_MSG_TYPES), timestamp: now, content: { note: 'chaos: unknown message type' } });
}
