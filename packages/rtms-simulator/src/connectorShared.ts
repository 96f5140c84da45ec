/*
 * The one place the stand-in reaches into the connector (the repository's src/). Zoom's wire
 * vocabulary (message types, status and stop codes, products, signatures, H.264 NAL types) is
 * defined once, on the connector's side, and both ends of the socket use that definition: a
 * mismatch would be a bug in both. Nothing here is copied; the connector never imports back.
 */
export type { Clock } from '../../../src/clock.ts';
export { systemClock } from '../../../src/clock.ts';
export type { Credentials } from '../../../src/config.ts';
export type { MediaKind } from '../../../src/vocabulary/mediaKind.ts';
export { readCredentials } from '../../../src/config.ts';
export { ConfigError } from '../../../src/errors.ts';
export { NAL_IDR, NAL_SLICE, isIdrAccessUnit } from '../../../src/media/h264.ts';
export {
  Codec,
  ContentType,
  DataOption,
  EventType,
  MediaTypeBit,
  MessageType,
  Resolution,
  RtmsSessionState,
  RtmsStreamState,
  SAMPLE_RATE_HZ,
  STATUS_CODE_NAMES,
  STOP_REASON_NAMES,
  StatusCode,
  StopReason,
  nameOf,
} from '../../../src/rtms/codes.ts';
export type { EntityIdKey, LifecycleWebhook, Product } from '../../../src/rtms/products.ts';
export { PRODUCTS, webhookEventName } from '../../../src/rtms/products.ts';
export { handshakeSignature, safeEqual, urlValidationToken, webhookSignature } from '../../../src/rtms/signature.ts';
