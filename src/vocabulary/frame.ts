import type { MediaKind } from './mediaKind.ts';

/**
 * One decoded media message (RTMS msg_type 14–18). Binary media is already base64-decoded;
 * transcript and chat text is UTF-8 in `data`.
 */
export interface Frame {
  readonly kind: MediaKind;
  /**
   * Who it belongs to: the Zoom `user_id` as a string, the Contact Center `channel_id`, or
   * `'0'` for mixed audio.
   */
  readonly userId: string;
  readonly userName: string | undefined;
  /** Server creation time, ms epoch. */
  readonly timestamp: number;
  readonly data: Buffer;
  /** Local receive time, ms epoch. */
  readonly receivedAt: number;
  /** Transcript only: utterance start and end, ms epoch, and the language code. */
  readonly startTime?: number | undefined;
  readonly endTime?: number | undefined;
  readonly language?: number | undefined;
  /** Transcript only: RTMS_DATA_MESSAGE_ATTRIBUTE (1 new, 2 update, 3 delete). */
  readonly attribute?: number | undefined;
}

/** Formats negotiated in the media handshake; writers need them before the first frame. */
export interface MediaFormats {
  readonly audio: { readonly sampleRateHz: number; readonly channels: number; readonly mode: 'mixed' | 'multi' };
  readonly video: { readonly codec: 'h264' | 'jpg' | 'png' };
  readonly deskshare: { readonly codec: 'h264' | 'jpg' | 'png' };
}

/** A lifecycle or RTMS event in the envelope style of the seed (`eventType`, `data`, `sentTime`, `version`). */
export interface LifecycleEvent {
  readonly eventType: string;
  readonly data: Readonly<Record<string, unknown>>;
  /** ISO 8601 */
  readonly sentTime: string;
  readonly version: 1;
}

export function lifecycleEvent(eventType: string, data: Record<string, unknown>, at: number = Date.now()): LifecycleEvent {
  return { eventType, data, sentTime: new Date(at).toISOString(), version: 1 };
}
