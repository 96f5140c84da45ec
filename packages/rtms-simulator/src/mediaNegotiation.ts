import { Codec, ContentType, DataOption, type MediaKind, MediaTypeBit, Resolution, StatusCode } from './connectorShared.ts';

/**
 * The media handshake decision: which media a DATA_HAND_SHAKE_REQ asks for, whether the app
 * may have it, whether it clashes with media sockets already open, and the effective
 * `media_params` with defaults filled in. Pure; the stream applies the result. Rules:
 * docs/protocol.md#handshake-messages, #media-parameters, #status-codes-and-stop-reasons.
 */

/** Wire shape of the negotiated audio parameters (enum values as integers). */
export interface AudioParams {
  readonly content_type: number;
  readonly sample_rate: number;
  readonly channel: number;
  readonly codec: number;
  readonly data_opt: number;
  /** Packet interval, ms. */
  readonly send_rate: number;
}

export interface VideoParams {
  readonly content_type: number;
  readonly codec: number;
  readonly resolution: number;
  readonly data_opt: number;
  readonly fps: number;
}

export interface DeskshareParams {
  readonly content_type: number;
  readonly codec: number;
  readonly resolution: number;
  readonly fps: number;
}

export interface TranscriptParams {
  readonly content_type: number;
  readonly src_language: number;
  readonly enable_lid: boolean;
}

export interface ChatParams {
  readonly content_type: number;
}

export interface MediaParams {
  readonly audio?: AudioParams;
  readonly video?: VideoParams;
  readonly deskshare?: DeskshareParams;
  readonly transcript?: TranscriptParams;
  readonly chat?: ChatParams;
}

export type MediaNegotiation =
  | {
      readonly ok: true;
      /** Media this socket carries. */
      readonly kinds: readonly MediaKind[];
      /** The socket asked for `all` (bit 32). */
      readonly all: boolean;
      /** Effective parameters for `kinds`, echoed in DATA_HAND_SHAKE_RESP. */
      readonly params: MediaParams;
    }
  | { readonly ok: false; readonly statusCode: number; readonly reason: string };

export interface MediaNegotiationRequest {
  /** `media_type` from the handshake, unvalidated. */
  readonly mediaType: unknown;
  /** `media_params` from the handshake, unvalidated. */
  readonly mediaParams: unknown;
  /** Media the app is allowed to receive. */
  readonly scopes: readonly MediaKind[];
  /** Media already carried by open sockets of the stream, and whether one of them is `all`. */
  readonly connectedKinds: ReadonlySet<MediaKind>;
  readonly hasAllSocket: boolean;
}

const KIND_ORDER: readonly MediaKind[] = ['audio', 'video', 'deskshare', 'transcript', 'chat'];
const NOT_SUPPORTED_STATUS: Readonly<Record<MediaKind, number>> = { audio: 9, video: 10, deskshare: 11, transcript: 12, chat: 13 };

/** Defaults (docs/protocol.md#media-parameters), used for every field the app leaves out. */
export const DEFAULT_MEDIA_PARAMS = {
  audio: { content_type: ContentType.RAW_AUDIO, sample_rate: 1, channel: 1, codec: Codec.L16, data_opt: DataOption.AUDIO_MIXED_STREAM, send_rate: 20 },
  video: { content_type: ContentType.RAW_VIDEO, codec: Codec.JPG, resolution: Resolution.HD, data_opt: DataOption.VIDEO_SINGLE_ACTIVE_STREAM, fps: 5 },
  deskshare: { content_type: ContentType.RAW_VIDEO, codec: Codec.JPG, resolution: Resolution.FHD, fps: 1 },
  transcript: { content_type: ContentType.TEXT, src_language: 9, enable_lid: true },
  chat: { content_type: ContentType.TEXT },
} as const satisfies Required<MediaParams>;

/** Default fps when H.264 is asked for without an fps, per medium. */
const H264_DEFAULT_FPS = { video: 25, deskshare: 15 } as const;
const MAX_FPS = 30;
/** Highest fps for still-image codecs (JPG/PNG), per medium. */
const STILL_MAX_FPS = { video: 5, deskshare: 1 } as const;

/** A refused media parameter: caught by negotiateMedia and answered with `statusCode`. */
class Rejection extends Error {
  readonly statusCode: number;
  readonly reason: string;
  constructor(statusCode: number, reason: string) {
    super(reason);
    this.name = 'Rejection';
    this.statusCode = statusCode;
    this.reason = reason;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Reads an optional integer field; rejects with `status` when present but not one of `allowed` (or not an integer). */
function intField(record: Record<string, unknown>, key: string, status: number, check: (value: number) => boolean): number | undefined {
  const value = record[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || !check(value)) {
    throw new Rejection(status, `invalid ${key}: ${JSON.stringify(value)}`);
  }
  return value;
}

function kindRecord(mediaParams: Record<string, unknown>, kind: MediaKind, status: number): Record<string, unknown> {
  const value = mediaParams[kind];
  if (value === undefined || value === null) return {};
  if (!isRecord(value)) throw new Rejection(status, `media_params.${kind} must be an object`);
  return value;
}

function audioParams(raw: Record<string, unknown>): AudioParams {
  const contentType =
    intField(raw, 'content_type', StatusCode.INVALID_MEDIA_AUDIO_CONTENT_TYPE, (v) => v === ContentType.RTP || v === ContentType.RAW_AUDIO) ??
    DEFAULT_MEDIA_PARAMS.audio.content_type;
  const codec = intField(raw, 'codec', StatusCode.INVALID_MEDIA_AUDIO_CODEC, (v) => v >= Codec.L16 && v <= Codec.OPUS) ?? Codec.L16;
  const sampleRate = intField(raw, 'sample_rate', StatusCode.INVALID_MEDIA_AUDIO_SAMPLE_RATE, (v) => v >= 0 && v <= 3);
  const channel = intField(raw, 'channel', StatusCode.INVALID_MEDIA_AUDIO_CHANNEL, (v) => v === 1 || v === 2) ?? 1;
  const dataOpt =
    intField(raw, 'data_opt', StatusCode.INVALID_MEDIA_AUDIO_DATA_OPT, (v) => v === DataOption.AUDIO_MIXED_STREAM || v === DataOption.AUDIO_MULTI_STREAMS) ??
    DataOption.AUDIO_MIXED_STREAM;
  let sendRate = intField(raw, 'send_rate', StatusCode.INVALID_MEDIA_AUDIO_SEND_RATE, (v) => v >= 20 && v % 20 === 0) ?? 20;
  // Values above 1000 ms are clamped rather than refused (docs/protocol.md#media-parameters).
  if (sendRate > 1000) sendRate = 1000;

  // The codec/rate/channel matrix (docs/protocol.md#media-parameters): L16 takes every rate, mono or stereo, 20 ms–1 s;
  // the compressed codecs are pinned to one rate and a 20 ms packet.
  const codecRate: Readonly<Record<number, number>> = { [Codec.OPUS]: 3, [Codec.G711]: 0, [Codec.G722]: 1 };
  const pinnedRate = codecRate[codec];
  const effectiveRate = sampleRate ?? pinnedRate ?? DEFAULT_MEDIA_PARAMS.audio.sample_rate;
  if (pinnedRate !== undefined && effectiveRate !== pinnedRate) {
    throw new Rejection(StatusCode.INVALID_MEDIA_AUDIO_SAMPLE_RATE, `sample_rate ${effectiveRate} is not valid with codec ${codec}`);
  }
  if ((codec === Codec.G711 || codec === Codec.G722) && channel !== 1) {
    throw new Rejection(StatusCode.INVALID_MEDIA_AUDIO_CHANNEL, `codec ${codec} is mono only`);
  }
  if (codec !== Codec.L16 && sendRate !== 20) {
    throw new Rejection(StatusCode.INVALID_MEDIA_AUDIO_SEND_RATE, `codec ${codec} needs send_rate 20`);
  }
  if (codec !== Codec.L16) {
    // Valid for Zoom, but the simulator only synthesises raw PCM.
    throw new Rejection(StatusCode.INVALID_MEDIA_AUDIO_CODEC, `codec ${codec} is valid but not implemented by the simulator (L16 only)`);
  }
  return { content_type: contentType, sample_rate: effectiveRate, channel, codec, data_opt: dataOpt, send_rate: sendRate };
}

function pictureParams(
  raw: Record<string, unknown>,
  medium: 'video' | 'deskshare',
  status: { contentType: number; codec: number; resolution: number; fps: number },
): { content_type: number; codec: number; resolution: number; fps: number } {
  const defaults = DEFAULT_MEDIA_PARAMS[medium];
  const contentType = intField(raw, 'content_type', status.contentType, (v) => v === ContentType.RAW_VIDEO) ?? defaults.content_type;
  const requestedCodec = intField(raw, 'codec', status.codec, (v) => v === Codec.JPG || v === Codec.PNG || v === Codec.H264);
  const requestedFps = intField(raw, 'fps', status.fps, (v) => v >= 1 && v <= MAX_FPS);
  const resolution = intField(raw, 'resolution', status.resolution, (v) => v >= Resolution.SD && v <= Resolution.QHD) ?? defaults.resolution;
  let codec: number;
  let fps: number;
  if (requestedCodec === undefined) {
    // A frame rate too high for stills without a codec falls back to the JPG default.
    codec = Codec.JPG;
    fps = requestedFps === undefined || requestedFps > STILL_MAX_FPS[medium] ? defaults.fps : requestedFps;
  } else {
    codec = requestedCodec;
    fps = requestedFps ?? (codec === Codec.H264 ? H264_DEFAULT_FPS[medium] : defaults.fps);
    if (codec !== Codec.H264 && fps > STILL_MAX_FPS[medium]) {
      throw new Rejection(status.fps, `fps ${fps} is too high for codec ${codec} (max ${STILL_MAX_FPS[medium]})`);
    }
  }
  return { content_type: contentType, codec, resolution, fps };
}

function videoParams(raw: Record<string, unknown>): VideoParams {
  const picture = pictureParams(raw, 'video', {
    contentType: StatusCode.INVALID_MEDIA_VIDEO_CONTENT_TYPE,
    codec: StatusCode.INVALID_MEDIA_VIDEO_CODEC,
    resolution: StatusCode.INVALID_MEDIA_VIDEO_RESOLUTION,
    fps: StatusCode.INVALID_MEDIA_VIDEO_FPS,
  });
  const dataOpt =
    intField(
      raw,
      'data_opt',
      StatusCode.INVALID_MEDIA_VIDEO_DATA_OPT,
      (v) => v === DataOption.VIDEO_SINGLE_ACTIVE_STREAM || v === DataOption.VIDEO_SINGLE_INDIVIDUAL_STREAM,
    ) ?? DEFAULT_MEDIA_PARAMS.video.data_opt;
  return { ...picture, data_opt: dataOpt };
}

function deskshareParams(raw: Record<string, unknown>): DeskshareParams {
  return pictureParams(raw, 'deskshare', {
    contentType: StatusCode.INVALID_MEDIA_DESKSHARE_CONTENT_TYPE,
    codec: StatusCode.INVALID_MEDIA_DESKSHARE_CODEC,
    resolution: StatusCode.INVALID_MEDIA_DESKSHARE_RESOLUTION,
    fps: StatusCode.INVALID_MEDIA_DESKSHARE_FPS,
  });
}

function transcriptParams(raw: Record<string, unknown>): TranscriptParams {
  const contentType = intField(raw, 'content_type', StatusCode.INVALID_MEDIA_TRANSCRIPT_CONTENT_TYPE, (v) => v === ContentType.TEXT) ?? ContentType.TEXT;
  // Older samples send `language`; accept it as the source language.
  const sourceKey = raw['src_language'] === undefined && raw['language'] !== undefined ? 'language' : 'src_language';
  const srcLanguage = intField(raw, sourceKey, 43, (v) => v >= -1 && v <= 36) ?? DEFAULT_MEDIA_PARAMS.transcript.src_language;
  const lid = raw['enable_lid'];
  if (lid !== undefined && lid !== null && typeof lid !== 'boolean')
    throw new Rejection(StatusCode.INVALID_MEDIA_TRANSCRIPT_PARAMS, 'enable_lid must be a boolean');
  return { content_type: contentType, src_language: srcLanguage, enable_lid: typeof lid === 'boolean' ? lid : true };
}

function chatParams(raw: Record<string, unknown>): ChatParams {
  return { content_type: intField(raw, 'content_type', StatusCode.INVALID_MEDIA_CHAT_CONTENT_TYPE, (v) => v === ContentType.TEXT) ?? ContentType.TEXT };
}

/** Kinds named by a `media_type` bitmask (without the ALL bit). */
export function kindsOfMask(mask: number): MediaKind[] {
  return KIND_ORDER.filter((kind) => (mask & MediaTypeBit[kind]) !== 0);
}

/** Decides a DATA_HAND_SHAKE_REQ. Status codes: docs/protocol.md#status-codes-and-stop-reasons; the first problem found wins. */
export function negotiateMedia(request: MediaNegotiationRequest): MediaNegotiation {
  try {
    const mask = request.mediaType;
    if (typeof mask !== 'number' || !Number.isInteger(mask) || mask <= 0 || mask > 63) {
      throw new Rejection(StatusCode.MEDIA_TYPE_INVALID_VALUE, `media_type must be a bitmask from 1 to 63, got ${JSON.stringify(mask)}`);
    }
    const all = (mask & MediaTypeBit.all) !== 0;
    const kinds = all ? KIND_ORDER.filter((kind) => request.scopes.includes(kind)) : kindsOfMask(mask);
    for (const kind of kinds) {
      if (!request.scopes.includes(kind)) throw new Rejection(NOT_SUPPORTED_STATUS[kind], `the app has no ${kind} scope`);
    }
    if (all ? request.connectedKinds.size > 0 && !request.hasAllSocket : request.hasAllSocket) {
      throw new Rejection(StatusCode.MEDIA_DATA_ALL_CONNECTION_EXIST, 'an all-media connection cannot be mixed with per-media connections');
    }
    if (all ? request.hasAllSocket : kinds.some((kind) => request.connectedKinds.has(kind))) {
      throw new Rejection(StatusCode.DUPLICATE_MEDIA_DATA_CONNECTION, 'duplicate media data connection');
    }

    const rawParams = request.mediaParams ?? {};
    if (!isRecord(rawParams)) throw new Rejection(StatusCode.INVALID_MEDIA_PARAMS, 'media_params must be an object');
    const params: {
      audio?: AudioParams;
      video?: VideoParams;
      deskshare?: DeskshareParams;
      transcript?: TranscriptParams;
      chat?: ChatParams;
    } = {};
    // Only the media this socket carries are checked: split-mode clients often send the
    // full media_params object on every socket.
    for (const kind of kinds) {
      switch (kind) {
        case 'audio':
          params.audio = audioParams(kindRecord(rawParams, 'audio', 18));
          break;
        case 'video':
          params.video = videoParams(kindRecord(rawParams, 'video', 25));
          break;
        case 'deskshare':
          params.deskshare = deskshareParams(kindRecord(rawParams, 'deskshare', 31));
          break;
        case 'transcript':
          params.transcript = transcriptParams(kindRecord(rawParams, 'transcript', 36));
          break;
        case 'chat':
          params.chat = chatParams(kindRecord(rawParams, 'chat', 38));
          break;
      }
    }
    return { ok: true, kinds, all, params };
  } catch (error) {
    if (error instanceof Rejection) return { ok: false, statusCode: error.statusCode, reason: error.reason };
    throw error;
  }
}
