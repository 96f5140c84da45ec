import type { Clock } from '../../clock.ts';
import type { Frame, MediaFormats } from '../../vocabulary/frame.ts';
import { decodeRtmsMessage } from '../../rtms/decodeRtmsMessage.ts';
import type { MalformedFrameReason, RtmsMessage } from '../../rtms/rtmsSocket.ts';
import type { FrameTap } from '../../sinks/frameTap.ts';
import type { ParticipantRoster } from '../participantRoster.ts';
import type { ResumedAccounting } from '../resumeAccounting.ts';
import type { WorkerMetrics } from '../workerMetrics.ts';
import type { FlowControl } from './flowControl.ts';
import type { FrameAdmission } from './frameAdmission.ts';
import type { IgnoredMessages } from './ignoredMessages.ts';
import type { MediaConnection } from './mediaPlan.ts';
import type { SessionAccounting } from './sessionAccounting.ts';

/**
 * The path of every message on a media socket: decoded, counted as received, admitted or
 * dropped with its reason (FrameAdmission), then handed to the taps and, through flow
 * control, to the sink. What cannot be read is counted `malformed` and cuts the kind's
 * picture chain; what is not media at all is counted as ignored.
 */

export interface MediaIngestOptions {
  readonly admission: FrameAdmission;
  readonly accounting: SessionAccounting;
  readonly flow: Pick<FlowControl, 'write'>;
  readonly roster: Pick<ParticipantRoster, 'seen'>;
  readonly ignored: Pick<IgnoredMessages, 'record'>;
  /** A resumed stream: the first frame of a kind closes the window its lost incarnation missed. */
  readonly resumed: Pick<ResumedAccounting, 'close'> | undefined;
  /** Secondary outputs: they get each written frame at once, whatever the sink is doing. */
  readonly taps: readonly FrameTap[];
  readonly metrics: Pick<WorkerMetrics, 'frameLatency'>;
  /** As negotiated so far. */
  readonly formats: () => MediaFormats | undefined;
  readonly event: (eventType: string, data: Record<string, unknown>) => void;
  readonly clock: Clock;
}

export class MediaIngest {
  readonly #options: MediaIngestOptions;

  constructor(options: MediaIngestOptions) {
    this.#options = options;
  }

  /** A message on this media connection, `wireBytes` long. */
  message(connection: Pick<MediaConnection, 'key'>, message: RtmsMessage, wireBytes: number): void {
    const { accounting, admission, ignored, clock } = this.#options;
    const decoded = decodeRtmsMessage(message, clock.now());
    if (!decoded.ok) {
      const { kind, reason } = decoded.failure;
      accounting.malformed(kind, wireBytes);
      ignored.record(`media:${connection.key}`, 'malformed_media', { kind, decodeReason: reason });
      admission.cut(kind);
      return;
    }
    if (decoded.message.type !== 'media') {
      if (decoded.message.type !== 'keep_alive') ignored.record(`media:${connection.key}`, 'unknown_msg_type', { msgType: decoded.message.msg_type });
      return;
    }
    const frame = decoded.message.frame;
    const kind = frame.kind;
    const lostWindow = this.#options.resumed?.close(kind, clock.now());
    if (lostWindow !== undefined) this.#options.event('media.gap', lostWindow);
    accounting.received(kind, frame.data.length);
    const admitted = admission.admit(frame, this.#options.formats());
    if (!admitted.admitted) {
      accounting.dropped(kind, admitted.reason);
      return;
    }
    if (admitted.keyframeGap !== undefined) this.#options.event('media.gap', { kind, reason: 'awaiting_keyframe', ...admitted.keyframeGap });
    this.#options.roster.seen(frame.userId, frame.userName, frame.timestamp);
    this.#write(frame);
  }

  /** A frame on this connection that is not a JSON object with an integer msg_type. */
  malformed(connection: Pick<MediaConnection, 'key' | 'kinds'>, reason: MalformedFrameReason, wireBytes: number): void {
    // Unreadable, so it may have been a picture of any kind this socket carries.
    for (const kind of connection.kinds) this.#options.admission.cut(kind);
    this.#options.accounting.malformed(connection.kinds[0] ?? 'audio', wireBytes);
    this.#options.ignored.record(`media:${connection.key}`, reason);
  }

  #write(frame: Frame): void {
    this.#options.metrics.frameLatency(frame.kind, (this.#options.clock.now() - frame.timestamp) / 1000);
    // Secondary outputs get the frame now, whatever the sink is doing.
    for (const tap of this.#options.taps) tap.frame(frame);
    this.#options.flow.write(frame);
  }
}
