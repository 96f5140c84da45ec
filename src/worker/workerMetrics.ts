import { monitorEventLoopDelay } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import { Counter, Gauge, Histogram, Registry, type MetricObjectWithValues, type MetricValue } from 'prom-client';
import { MEDIA_KINDS, type MediaKind } from '../vocabulary/mediaKind.ts';
import { boundedLabel, SINK_ERROR_LABELS } from '../metricLabels.ts';
import { LocalHistogram } from './localHistogram.ts';
import { IGNORED_MESSAGE_REASONS, type IgnoredChannel, type IgnoredMessageReason } from './session/ignoredMessages.ts';
import { PUBLISH_DROP_REASONS } from '../vocabulary/reasons.ts';

/** Per-stream bounds a bad server can hit (README, "Bad RTMS server"). */
export const STREAM_LIMITS = ['rejoin_budget', 'participants', 'open_files'] as const;
export type StreamLimit = (typeof STREAM_LIMITS)[number];

/**
 * Metrics observed inside a worker thread, where the frames are: latency per frame,
 * handshake and keep-alive timing, rejoin gaps, event-loop lag, sink failures. Each worker
 * has its own registry; on scrape the supervisor merges them with prom-client's
 * `AggregatorRegistry` into the one `/metrics`, so nothing per frame crosses threads.
 */
export class WorkerMetrics {
  readonly registry = new Registry();
  readonly #frameLatency: LocalHistogram<MediaKind>;
  readonly #handshakeDuration: Histogram<'scope'>;
  readonly #keepAliveAge: Histogram<'scope'>;
  readonly #reconnectGap: Histogram<'scope'>;
  readonly #sinkErrors: Counter<'reason'>;
  readonly #ignoredMessages: Counter<'channel' | 'reason'>;
  readonly #limitHits: Counter<'limit'>;
  readonly #redisAppended: Counter<'media_type'>;
  readonly #redisDropped: Counter<'media_type' | 'reason'>;
  readonly #redisLag: Gauge<'worker'>;
  readonly #worker: string;
  readonly #loopDelay = monitorEventLoopDelay({ resolution: 10 });

  constructor(options: { workerId: number }) {
    const registers = [this.registry];
    // Observed for every frame: kept off prom-client's per-call label handling.
    this.#frameLatency = new LocalHistogram({
      name: 'rtms_frame_latency_seconds',
      help: "From a frame's server timestamp to its hand-over to the sink (includes clock offset and Zoom's startup buffering).",
      labelName: 'media_type',
      labelValues: MEDIA_KINDS,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    });
    this.#handshakeDuration = new Histogram({
      name: 'rtms_handshake_duration_seconds',
      help: 'From opening a socket to the handshake answer, by scope (signaling, media).',
      labelNames: ['scope'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.#keepAliveAge = new Histogram({
      name: 'rtms_keepalive_age_seconds',
      help: "Age of Zoom's keep-alive requests when answered: server timestamp to local receipt (includes clock offset).",
      labelNames: ['scope'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    });
    this.#reconnectGap = new Histogram({
      name: 'rtms_reconnect_gap_seconds',
      help: 'From losing a connection to being live again, by scope (full, media).',
      labelNames: ['scope'],
      buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60],
      registers,
    });
    this.#sinkErrors = new Counter({
      name: 'rtms_sink_write_errors_total',
      help: 'Sinks that failed (the stream keeps running; its frames are counted as dropped), by error code.',
      labelNames: ['reason'],
      registers,
    });
    this.#ignoredMessages = new Counter({
      name: 'rtms_messages_ignored_total',
      help: 'RTMS messages not used: unknown msg_type, not a JSON object with a msg_type, unreadable media, too big; by channel and reason.',
      labelNames: ['channel', 'reason'],
      registers,
    });
    for (const channel of ['signaling', 'media'] as const) {
      for (const reason of IGNORED_MESSAGE_REASONS) this.#ignoredMessages.inc({ channel, reason }, 0);
    }
    this.#limitHits = new Counter({
      name: 'rtms_stream_limit_hits_total',
      help: 'Per-stream bounds reached: rejoin_budget (the stream failed), participants (roster entries not kept), open_files (speaker WAVs closed early).',
      labelNames: ['limit'],
      registers,
    });
    for (const limit of STREAM_LIMITS) this.#limitHits.inc({ limit }, 0);
    // Known label values start at zero, so the first observation is an increase Prometheus
    // can see (a series born with its first count looks flat to rate() and the quantiles).
    for (const scope of ['signaling', 'media'] as const) {
      this.#handshakeDuration.zero({ scope });
      this.#keepAliveAge.zero({ scope });
    }
    for (const scope of ['full', 'media'] as const) this.#reconnectGap.zero({ scope });
    this.#redisAppended = new Counter({
      name: 'rtms_redis_stream_entries_total',
      help: 'Entries appended to the Redis output streams, by media type (events: lifecycle events).',
      labelNames: ['media_type'],
      registers,
    });
    this.#redisDropped = new Counter({
      name: 'rtms_redis_stream_dropped_total',
      help: 'Entries not appended to the Redis output streams, by media type and reason (backlog, redis_unavailable, redis_error).',
      labelNames: ['media_type', 'reason'],
      registers,
    });
    // Zero for every output and drop reason, as above.
    for (const media_type of [...MEDIA_KINDS, 'events']) {
      for (const reason of PUBLISH_DROP_REASONS) this.#redisDropped.inc({ media_type, reason }, 0);
    }
    this.#redisLag = new Gauge({
      name: 'rtms_redis_consumer_lag_entries',
      help: 'Largest consumer-group lag (entries not yet delivered) over the Redis output streams of each worker.',
      labelNames: ['worker'],
      registers,
    });
    const loopDelay = this.#loopDelay;
    loopDelay.enable();
    const worker = String(options.workerId);
    this.#worker = worker;
    new Gauge({
      name: 'rtms_worker_event_loop_lag_seconds',
      help: 'Event-loop delay of each worker thread since the previous scrape, p99.',
      labelNames: ['worker'],
      registers,
      collect() {
        this.set({ worker }, loopDelay.percentile(99) / 1e9);
        loopDelay.reset();
      },
    });
    // The main thread's nodejs_heap_* cover only its own isolate; each worker has its own heap.
    new Gauge({
      name: 'rtms_worker_memory_bytes',
      help: "Memory of each worker thread's V8 isolate at scrape: heap used, heap total, and external (buffers held outside the heap).",
      labelNames: ['worker', 'type'],
      registers,
      collect() {
        const heap = getHeapStatistics();
        this.set({ worker, type: 'heap_used' }, heap.used_heap_size);
        this.set({ worker, type: 'heap_total' }, heap.total_heap_size);
        this.set({ worker, type: 'external' }, heap.external_memory);
      },
    });
  }

  frameLatency(kind: MediaKind, seconds: number): void {
    this.#frameLatency.observe(kind, Math.max(0, seconds));
  }

  handshake(scope: 'signaling' | 'media', seconds: number): void {
    this.#handshakeDuration.observe({ scope }, seconds);
  }

  keepAliveAge(scope: 'signaling' | 'media', seconds: number): void {
    this.#keepAliveAge.observe({ scope }, Math.max(0, seconds));
  }

  reconnectGap(scope: 'full' | 'media', seconds: number): void {
    this.#reconnectGap.observe({ scope }, seconds);
  }

  sinkError(reason: string): void {
    this.#sinkErrors.inc({ reason: boundedLabel(SINK_ERROR_LABELS, reason) });
  }

  ignoredMessage(channel: IgnoredChannel, reason: IgnoredMessageReason): void {
    this.#ignoredMessages.inc({ channel, reason });
  }

  limitHit(limit: StreamLimit, count = 1): void {
    this.#limitHits.inc({ limit }, count);
  }

  redisOutcome(output: MediaKind | 'events', dropReason: string | undefined): void {
    if (dropReason === undefined) this.#redisAppended.inc({ media_type: output });
    else this.#redisDropped.inc({ media_type: output, reason: dropReason });
  }

  redisConsumerLag(entries: number): void {
    this.#redisLag.set({ worker: this.#worker }, entries);
  }

  snapshot(): Promise<MetricObjectWithValues<MetricValue<string>>[]> {
    return this.registry.getMetricsAsJSON();
  }
}
