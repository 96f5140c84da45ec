import { systemClock, type Clock } from '../clock.ts';
import { describeError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { lifecycleEvent, type MediaFormats } from '../vocabulary/frame.ts';
import { STOP_REASON_NAMES, StopReason, nameOf } from '../rtms/codes.ts';
import { negotiatedFormats } from '../rtms/mediaParams.ts';
import type { StreamStart } from '../rtms/products.ts';
import type { RtmsMessage } from '../rtms/rtmsSocket.ts';
import type { FrameTap } from '../sinks/frameTap.ts';
import type { StreamSink } from '../sinks/streamSink.ts';
import { ParticipantRoster } from './participantRoster.ts';
import { ResumedAccounting } from './resumeAccounting.ts';
import { FlowControl } from './session/flowControl.ts';
import { FrameAdmission, isDecodeStart } from './session/frameAdmission.ts';
import { IgnoredMessages } from './session/ignoredMessages.ts';
import { InterruptionLedger } from './session/interruptionLedger.ts';
import { JoinSettlement } from './session/joinSettlement.ts';
import { MediaIngest } from './session/mediaIngest.ts';
import { RejoinController } from './session/rejoinController.ts';
import { SessionAccounting } from './session/sessionAccounting.ts';
import { RtmsJoin } from './session/rtmsJoin.ts';
import { SessionAudio } from './session/sessionAudio.ts';
import { reportSinkFaults } from './session/sinkFaults.ts';
import { applyRosterChanges, interpretSignaling } from './session/signalingEvents.ts';
import { streamMetadata, streamStats, type StreamFacts } from './session/streamReport.ts';
import { StreamStateMachine } from './streamStateMachine.ts';
import type { StreamSessionOptions } from './streamSessionOptions.ts';
import type { StreamStats } from '../vocabulary/streamStats.ts';
import type { ResumeReason } from '../vocabulary/rejoin.ts';
import { decodeRtmsMessage } from '../rtms/decodeRtmsMessage.ts';

/**
 * One RTMS stream inside a worker: the lifecycle façade over its parts in session/: the join
 * procedure and its sockets (RtmsJoin), joins and rejoins (RejoinController), what signaling
 * messages mean (interpretSignaling), the path of each media message (MediaIngest, with
 * FrameAdmission deciding what is written), backpressure (FlowControl), the counts
 * (SessionAccounting) and the report (streamReport). The session owns the state machine,
 * wires the parts together and tears the stream down once.
 */

/** How long a stream Zoom terminated keeps listening for Zoom's last messages, ms. */
const LINGER_MS = 1000;

export class StreamSession {
  #start: StreamStart;
  readonly #config: StreamSessionOptions['config'];
  readonly #sink: StreamSink;
  readonly #taps: readonly FrameTap[];
  readonly #logger: Logger;
  readonly #clock: Clock;
  readonly #onFinished: (stats: StreamStats) => void;
  readonly #machine: StreamStateMachine;
  readonly #roster: ParticipantRoster;
  /** Frames received and dropped here, with the sink's and earlier incarnations' counts. */
  readonly #accounting: SessionAccounting;
  /** A resumed stream's carried counts and the windows its lost incarnation's output lacks. */
  readonly #resumed: ResumedAccounting | undefined;
  /** `close()` calls waiting for the first join (or a resume's) to settle. */
  readonly #joinSettled: JoinSettlement;
  /** When the stream was admitted, went live and ended, and how it ended. */
  readonly #outcome: { createdAt: number; liveAt: number | undefined; endedAt?: number; stopReason?: number | undefined; failure?: string; released?: string };
  readonly #resumeReason: ResumeReason | undefined;
  #formats: MediaFormats | undefined;
  /** Signaling connections that ended, matched with Zoom's `rtms_interrupted` by arrival order. */
  readonly #interruptions = new InterruptionLedger();
  /** Not requested, duplicate, excluded or awaiting a keyframe: what is not written, and why. */
  readonly #admission: FrameAdmission;
  /** Unknown, malformed and oversized messages: counted, and only the first few logged as events. */
  readonly #ignored: IgnoredMessages;
  /** Joins and rejoins: which one runs, its retries and pacing, and the count of gaps. */
  readonly #rejoin: RejoinController;

  /** The RTMS join procedure and the sockets it opened. */
  readonly #join: RtmsJoin;
  #finishing: Promise<void> | undefined;
  #closing: Promise<void> | undefined;
  /** Backlog in front of the sink, paused sockets, stall deadline, eviction. */
  readonly #flow: FlowControl;
  /** Every media message: decoded, counted, admitted or dropped, written. */
  readonly #ingest: MediaIngest;

  constructor(options: StreamSessionOptions) {
    const { config, sink, metrics, logger } = options;
    const clock = options.clock ?? systemClock;
    this.#start = options.start;
    this.#config = config;
    this.#sink = sink;
    this.#taps = options.taps;
    this.#logger = logger;
    this.#clock = clock;
    this.#onFinished = options.onFinished;
    this.#joinSettled = new JoinSettlement(clock);
    const event = (eventType: string, data: Record<string, unknown>): void => this.#event(eventType, data);
    // Per-speaker audio positions: redelivery after a rejoin is dropped, gaps and clock steps are marked.
    const audio = new SessionAudio({ event, logger, gapFill: config.media.audio.gapFill === 'silence' });
    this.#admission = new FrameAdmission({ requested: config.media.kinds, audio });
    this.#resumeReason = options.resumeFrom?.reason;
    const previous = options.resumeFrom?.previous;
    this.#outcome = { createdAt: previous?.createdAt ?? clock.now(), liveAt: previous?.liveAt };
    this.#resumed = options.resumeFrom && new ResumedAccounting(options.resumeFrom, clock.now());
    this.#accounting = new SessionAccounting(this.#resumed?.media);
    this.#roster = new ParticipantRoster({ maxParticipants: config.rtms.maxParticipants, onOverflow: (count) => metrics.limitHit('participants', count) });
    this.#ignored = new IgnoredMessages({ clock, logger, event, count: (channel, reason) => metrics.ignoredMessage(channel, reason) });
    this.#machine = new StreamStateMachine({
      now: () => clock.now(),
      onChange: (change) => {
        logger.info({ from: change.from, to: change.to, reason: change.reason }, 'stream state changed');
        this.#event(`stream.${change.to}`, { from: change.from, reason: change.reason });
        sink.setMetadata(this.#metadata());
        if (change.to !== 'connecting') this.#joinSettled.settled();
        options.onStateChange(change);
      },
    });
    this.#flow = new FlowControl({
      buffer: config.buffer,
      sink,
      media: { pause: () => this.#join.pauseMedia(), resume: () => this.#join.resumeMedia() },
      isDecodeStart: (frame) => isDecodeStart(frame, this.#formats),
      evicted: (frame) => this.#accounting.dropped(frame.kind, 'buffer_full'),
      cut: (kind) => this.#admission.cut(kind),
      event,
      clock,
      logger,
    });
    this.#ingest = new MediaIngest({
      admission: this.#admission,
      accounting: this.#accounting,
      flow: this.#flow,
      roster: this.#roster,
      ignored: this.#ignored,
      resumed: this.#resumed,
      taps: this.#taps,
      metrics,
      formats: () => this.#formats,
      event,
      clock,
    });
    this.#join = new RtmsJoin({
      config,
      start: () => this.#start,
      clock,
      logger,
      metrics,
      event,
      wasLive: () => this.#outcome.liveAt !== undefined,
      paused: () => this.#flow.paused,
      onSignalingMessage: (message) => this.#onSignalingMessage(message),
      ignored: this.#ignored,
      ended: () => this.#ending(),
      onSignalingLost: (trigger) => this.#rejoin.request('full', trigger),
      onMediaMessage: (connection, message, bytes) => this.#ingest.message(connection, message, bytes),
      onMediaMalformed: (connection, reason, bytes) => this.#ingest.malformed(connection, reason, bytes),
      onMediaLost: () => this.#rejoin.request('media', 'media_closed'),
      onMediaJoined: (mediaParams) => {
        this.#formats = negotiatedFormats(config.media, mediaParams, this.#formats);
        sink.setFormats(this.#formats);
        audio.rejoined(clock.now());
      },
      onJoinedSignalingEnded: () => this.#interruptions.ended(clock.now()),
    });
    this.#rejoin = new RejoinController({
      rtms: config.rtms,
      machine: this.#machine,
      previous,
      clock,
      logger,
      metrics,
      event,
      attempt: (scope, signal) => this.#join.attempt(scope, signal),
      ended: () => this.#ending(),
      live: () => (this.#outcome.liveAt ??= clock.now()),
      fail: (reason) => void this.#finish('failed', reason, undefined),
    });
    sink.on('drain', () => this.#flow.drained());
    reportSinkFaults(sink, metrics, logger);
    sink.setMetadata(this.#metadata());
  }

  get rtmsStreamId(): string {
    return this.#start.rtmsStreamId;
  }

  get state(): StreamStateMachine['state'] {
    return this.#machine.state;
  }

  /** Starts the first join (or, for a resumed stream, the rejoin after its worker died). */
  begin(): void {
    this.#machine.transition('connecting');
    const resume = this.#resumeReason;
    if (resume !== undefined) this.#event('stream.resumed', { reason: resume, ...this.#resumed?.summary() });
    this.#rejoin.begin(resume);
  }

  /**
   * `*.rtms_interrupted`: rejoin signaling and media with the stored URL, unless the end of a
   * signaling connection we saw ourselves (a loss usually arrives before the webhook; our own
   * rejoin's close is reported too) already started the rejoin that answers it. Decided by
   * arrival order (InterruptionLedger), never by comparing Zoom's `event_ts` with our clock:
   * `eventTs` is only recorded.
   */
  interrupt(eventTs: number): void {
    if (this.#ending()) return;
    const answered = this.#interruptions.reported(this.#clock.now());
    this.#event('rtms.interrupted', { eventTs, alreadyAnswered: answered });
    if (!answered) this.#rejoin.request('full', 'interrupted_webhook');
  }

  /** A new `rtms_started` for this stream: full rejoin, with the new `server_urls`. */
  failover(start: StreamStart): void {
    if (this.#ending()) return;
    this.#start = start;
    this.#event('rtms.failover', {});
    // The old server is gone: restart any rejoin under way so it targets the new URL.
    this.#rejoin.request('full', 'failover', { restart: true });
  }

  /** `*.rtms_stopped`: the stream is over. */
  stop(stopReason: number): Promise<void> {
    return this.#finish('ended', `stopped: ${nameOf(STOP_REASON_NAMES, stopReason)}`, stopReason);
  }

  /** Asks Zoom to close the stream (STREAM_CLOSE_REQ) and finalizes output. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= this.#finishing ?? this.#requestClose();
    return this.#closing;
  }

  async #requestClose(): Promise<void> {
    // Asked while joining (a fresh start, or a resume right after a worker crash): let the
    // join settle first, so that Zoom gets STREAM_CLOSE instead of waiting out its grace.
    if (this.#machine.state === 'connecting') await this.#joinSettled.wait(this.#config.rtms.handshakeTimeoutMs);
    if (this.#join.signaling?.isOpen) await this.#join.requestStreamClose();
    // Zoom answers, then terminates the stream and closes signaling; record its last words.
    return this.#finish('ended', 'closed by request', StopReason.RECEIVER_REQUEST_CLOSE, { linger: true });
  }

  /**
   * Stops writing this participant's audio (per-speaker mode), video, deskshare, transcript
   * and chat from now on. Mixed audio arrives already mixed (user 0) and cannot be split.
   */
  excludeParticipant(userId: string): void {
    this.#admission.exclude(userId);
    this.#event('stream.participant_excluded', { userId, mixedAudioUnaffected: this.#formats?.audio.mode !== 'multi' });
  }

  /**
   * Local teardown without asking Zoom to close: the stream goes on elsewhere (its lease
   * moved to another replica, or it is handed off at shutdown). Files are finalized.
   */
  destroy(reason: string): Promise<void> {
    // Not over: another owner continues it, and continues this directory (streamContinuation.ts).
    this.#outcome.released ??= reason;
    return this.#finish('ended', reason, undefined);
  }

  /** Current statistics; also refreshes the accounting kept in `stream.json`. */
  snapshot(): StreamStats {
    const stats = this.#stats();
    if (!this.#machine.isTerminal) this.#sink.setMetadata({ ...this.#metadata(), media: stats.media }, { countersOnly: true });
    return stats;
  }

  #stats(): StreamStats {
    return streamStats(this.#facts(), {
      rejoins: this.#rejoin.rejoins(),
      media: this.#accounting.media(this.#sink.counters()),
      bufferedBytes: this.#sink.pendingBytes + this.#flow.backlogBytes,
      files: this.#sink.files(),
      participants: this.#roster.page(),
      participantCounts: this.#roster.counts(),
      sink: this.#sink.health?.(),
      now: this.#clock.now(),
    });
  }

  #metadata(): Record<string, unknown> {
    return streamMetadata(this.#facts(), this.#config.media.kinds);
  }

  #facts(): StreamFacts {
    return {
      start: this.#start,
      state: this.#machine.state,
      createdAt: this.#outcome.createdAt,
      liveAt: this.#outcome.liveAt,
      endedAt: this.#outcome.endedAt,
      stopReason: this.#outcome.stopReason,
      failure: this.#outcome.failure,
      released: this.#outcome.released,
      reconnects: this.#rejoin.reconnects,
      formats: this.#formats,
    };
  }

  // ── signaling ────────────────────────────────────────────────────────────────────────

  #onSignalingMessage(message: RtmsMessage): void {
    const now = this.#clock.now();
    const decoded = decodeRtmsMessage(message, now);
    const decision = interpretSignaling(decoded.ok ? decoded.message : decoded.failure, { product: this.#start.product, now });
    applyRosterChanges(this.#roster, decision.roster);
    if (decision.log !== undefined) this.#logger.info(decision.log.fields, decision.log.msg);
    for (const { eventType, data } of decision.events) this.#event(eventType, data);
    if (decision.ignored !== undefined) this.#ignored.record('signaling', decision.ignored.reason, { msgType: decision.ignored.msgType });
    if (decision.rejoin !== undefined) this.#rejoin.request(decision.rejoin.scope, decision.rejoin.trigger);
    if (decision.terminate !== undefined) void this.#finish('ended', decision.terminate.reason, decision.terminate.stopReason, { linger: true });
  }

  /** The stream is over or on its way out: nothing new starts. */
  #ending(): boolean {
    return this.#machine.isTerminal || this.#finishing !== undefined;
  }

  // ── teardown ─────────────────────────────────────────────────────────────────────────

  /**
   * Ends the stream: sockets closed, sink finalized, `onFinished` called once. With `linger`
   * (Zoom ended it), Zoom's last messages (SESSION_STATE STOPPED follows TERMINATED) are
   * still recorded until Zoom closes signaling, for at most `LINGER_MS`.
   */
  #finish(state: 'ended' | 'failed', reason: string, stopReason: number | undefined, options: { linger?: boolean } = {}): Promise<void> {
    if (this.#finishing) return this.#finishing;
    this.#finishing = (async () => {
      this.#rejoin.abort();
      const signaling = this.#join.signaling;
      this.#flow.cancelDeadline();
      if (options.linger && signaling?.isOpen) {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([signaling.closed, new Promise<void>((resolve) => (timer = this.#clock.setTimeout(resolve, LINGER_MS)))]);
        if (timer !== undefined) this.#clock.clearTimeout(timer);
      }
      // Messages still arrive while the sockets close; let them land so the final accounting
      // and the files agree (RtmsSocket.close() terminates a socket that lingers past 2 s).
      const closing = this.#join.sockets();
      this.#flow.unpause();
      this.#join.closeSockets();
      await Promise.all(closing.map((socket) => socket.closed));
      this.#flow.endOverflow();
      this.#ignored.close();
      for (const { kind, held } of this.#admission.giveUp()) this.#event('media.gap', { kind, reason: 'awaiting_keyframe', ...held, keyframeNeverCame: true });
      for (const gap of this.#resumed?.closeAll(this.#clock.now()) ?? []) this.#event('media.gap', gap);
      // Nothing new arrives now: the backlog goes to the sink, which queues it for the final flush.
      this.#flow.flushBacklog();
      this.#outcome.stopReason = stopReason;
      this.#outcome.endedAt = this.#clock.now();
      if (state === 'failed') this.#outcome.failure = reason;
      if (!this.#machine.isTerminal) this.#machine.transition(state, reason);
      for (const tap of this.#taps) tap.flush();
      try {
        // Flush first so the accounting written with the final stream.json has nothing pending.
        await this.#sink.flush();
      } finally {
        this.#sink.setMetadata({ ...this.#metadata(), media: this.#stats().media });
        await this.#sink.close().catch((error: unknown) => this.#logger.error({ err: describeError(error) }, 'sink did not close cleanly'));
      }
      this.#onFinished(this.#stats());
    })();
    return this.#finishing;
  }

  #event(eventType: string, data: Record<string, unknown>): void {
    const event = lifecycleEvent(eventType, { rtmsStreamId: this.#start.rtmsStreamId, ...data }, this.#clock.now());
    this.#sink.writeEvent(event);
    for (const tap of this.#taps) tap.event(event);
  }
}
