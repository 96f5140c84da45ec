import type { Logger } from 'pino';
import type { ChaosOptions } from './chaos.ts';
import type { Clock, Credentials } from './connectorShared.ts';
import type { Channel } from './peerSocket.ts';
import { SimulatorError } from './simulatorErrors.ts';
import type { SyncMarksOptions } from './syncMarks.ts';

/** Options of `startSimulator()`. Durations in ms. */
export interface SimulatorOptions {
  /** What the simulator expects in handshake signatures and uses to sign webhooks. */
  readonly credentials: Credentials;
  /** Where webhooks are POSTed (http:// or https://). */
  readonly webhookUrl: string;
  /** Listen address (default '127.0.0.1'). */
  readonly host?: string;
  /** Listen port (default 0: any free port). */
  readonly port?: number;
  /** KEEP_ALIVE_REQ period on every socket (default 10 000). */
  readonly keepAliveIntervalMs?: number;
  /** Consecutive unanswered keep-alives that drop a socket (default 3). */
  readonly keepAliveMissLimit?: number;
  /** How long an interrupted or failed-over stream waits for its client before stopping with reason 19 (default 60 000). */
  readonly reconnectGraceMs?: number;
  /** Same for a media-only interruption (default: `reconnectGraceMs`; Zoom documents 65 000). */
  readonly mediaReconnectGraceMs?: number;
  /** A stream no client has fully joined within this time stops with reason 11 (default 60 000; 0 disables). */
  readonly joinTimeoutMs?: number;
  /** A socket that sends no handshake within this time is closed (default 10 000). */
  readonly handshakeTimeoutMs?: number;
  /** Webhook answer deadline (default 3000, Zoom's). */
  readonly webhookTimeoutMs?: number;
  /** Seeds audio, transcripts, chat and participants; equal seeds give equal media (default random). */
  readonly seed?: number;
  /** Scheduler period (default 10). */
  readonly tickMs?: number;
  /** Per-socket send buffer above which media waits (audio, text) or is skipped (video), bytes (default 4 MiB). */
  readonly socketHighWaterBytes?: number;
  /** Longest span of audio kept for a disconnected client (default 60 000, Zoom's buffer). */
  readonly audioBufferMaxMs?: number;
  /** Keep the bytes of everything sent in `stream.sent` (default true; counters are always kept). */
  readonly recordContent?: boolean;
  /** Cap on recorded bytes per stream (default 256 MiB). */
  readonly recordMaxBytesPerStream?: number;
  /**
   * Chaos mode: seeded socket kills, stalls, keep-alive suppression, malformed, unknown and
   * oversized messages, duplicate and out-of-order webhooks in every stream (see `chaos.ts`).
   * `true` uses the defaults. Off by default; a stream can opt out with `startStream({ chaos: false })`.
   */
  readonly chaos?: boolean | ChaosOptions;
  /**
   * Sync marks in every stream (README.md, "Sync marks"): every `everyMs` of media time a
   * 1 kHz tone burst in the audio and a white picture in video and deskshare, same timestamp.
   * Off by default; a stream can override it with `startStream({ syncMarks })`.
   */
  readonly syncMarks?: SyncMarksOptions;
  /** Default: a silent logger. */
  readonly logger?: Logger;
  readonly clock?: Clock;
}

/** A handshake refused before it could be attributed to a stream (unknown stream id, wrong first message). */
export interface UnattributedRejection {
  readonly channel: Channel;
  readonly statusCode: number;
  readonly reason: string;
  readonly rtmsStreamId: string | undefined;
}

/** An option's value or its default, refused unless a finite positive (or, with `allowZero`, non-negative) number. */
export function positive(name: string, value: number | undefined, fallback: number, allowZero = false): number {
  const effective = value ?? fallback;
  if (!Number.isFinite(effective) || effective < 0 || (!allowZero && effective === 0)) {
    throw new SimulatorError('INVALID_OPTION', `${name} must be a ${allowZero ? 'non-negative' : 'positive'} number, got ${String(value)}`);
  }
  return effective;
}
