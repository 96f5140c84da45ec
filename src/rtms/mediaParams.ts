import type { MediaConfig } from '../config.ts';
import type { MediaKind } from '../vocabulary/mediaKind.ts';
import type { MediaFormats } from '../vocabulary/frame.ts';
import { intField, isRecord } from './messageFields.ts';
import { AudioChannel, Codec, ContentType, DataOption, MediaTypeBit, Resolution, SAMPLE_RATE_HZ } from './codes.ts';

/**
 * Translates our configuration into the `media_params` of DATA_HAND_SHAKE_REQ
 * (docs/protocol.md#media-parameters) and the server's echoed parameters back into the formats the
 * writers need.
 */

const RESOLUTION_VALUE = { sd: Resolution.SD, hd: Resolution.HD, fhd: Resolution.FHD, qhd: Resolution.QHD } as const;
const IMAGE_CODEC = { h264: Codec.H264, jpg: Codec.JPG } as const;

export function mediaTypeMask(kinds: readonly MediaKind[]): number {
  return kinds.reduce((mask, kind) => mask | MediaTypeBit[kind], 0);
}

/** `media_params` for the given kinds: only the requested kinds get an entry. */
export function requestedMediaParams(config: MediaConfig, kinds: readonly MediaKind[]): Record<string, Record<string, unknown>> {
  const params: Record<string, Record<string, unknown>> = {};
  for (const kind of kinds) {
    switch (kind) {
      case 'audio':
        params['audio'] = {
          content_type: ContentType.RAW_AUDIO,
          sample_rate: SAMPLE_RATE_HZ.indexOf(config.audio.sampleRateHz),
          channel: config.audio.channels,
          codec: Codec.L16,
          data_opt: config.audio.mode === 'multi' ? DataOption.AUDIO_MULTI_STREAMS : DataOption.AUDIO_MIXED_STREAM,
          send_rate: config.audio.sendRateMs,
        };
        break;
      case 'video':
        params['video'] = {
          content_type: ContentType.RAW_VIDEO,
          codec: IMAGE_CODEC[config.video.codec],
          resolution: RESOLUTION_VALUE[config.video.resolution],
          data_opt: DataOption.VIDEO_SINGLE_ACTIVE_STREAM,
          fps: config.video.fps,
        };
        break;
      case 'deskshare':
        params['deskshare'] = {
          content_type: ContentType.RAW_VIDEO,
          codec: IMAGE_CODEC[config.deskshare.codec],
          resolution: RESOLUTION_VALUE[config.deskshare.resolution],
          fps: config.deskshare.fps,
        };
        break;
      case 'transcript':
        params['transcript'] = {
          content_type: ContentType.TEXT,
          src_language: config.transcript.sourceLanguage,
          enable_lid: config.transcript.languageIdentification,
        };
        break;
      case 'chat':
        params['chat'] = { content_type: ContentType.TEXT };
        break;
    }
  }
  return params;
}

/**
 * Formats from the server's DATA_HAND_SHAKE_RESP `media_params`, falling back to what we
 * asked for where the server did not echo a field. Starts from `current` so a socket that
 * carries only some kinds leaves the others unchanged.
 */
export function negotiatedFormats(config: MediaConfig, echoed: unknown, current?: MediaFormats): MediaFormats {
  const params = isRecord(echoed) ? echoed : {};
  const audio = isRecord(params['audio']) ? params['audio'] : undefined;
  const video = isRecord(params['video']) ? params['video'] : undefined;
  const deskshare = isRecord(params['deskshare']) ? params['deskshare'] : undefined;
  const base: MediaFormats = current ?? {
    audio: { sampleRateHz: config.audio.sampleRateHz, channels: config.audio.channels, mode: config.audio.mode },
    video: { codec: config.video.codec },
    deskshare: { codec: config.deskshare.codec },
  };
  return {
    audio: audio
      ? {
          sampleRateHz: SAMPLE_RATE_HZ[intField(audio, 'sample_rate') ?? -1] ?? base.audio.sampleRateHz,
          channels: (intField(audio, 'channel') ?? base.audio.channels) === AudioChannel.STEREO ? 2 : 1,
          mode: audio['data_opt'] === undefined ? base.audio.mode : intField(audio, 'data_opt') === DataOption.AUDIO_MULTI_STREAMS ? 'multi' : 'mixed',
        }
      : base.audio,
    video: video ? { codec: imageCodec(video['codec'], base.video.codec) } : base.video,
    deskshare: deskshare ? { codec: imageCodec(deskshare['codec'], base.deskshare.codec) } : base.deskshare,
  };
}

function imageCodec(value: unknown, fallback: 'h264' | 'jpg' | 'png'): 'h264' | 'jpg' | 'png' {
  switch (value) {
    case Codec.H264:
      return 'h264';
    case Codec.JPG:
      return 'jpg';
    case Codec.PNG:
      return 'png';
    default:
      return fallback;
  }
}
