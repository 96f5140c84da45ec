import { AggregatorRegistry, Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { MEDIA_KINDS } from './vocabulary/mediaKind.ts';
import { boundedLabel, DROP_REASON_LABELS, OTHER_LABEL, STREAM_END_LABELS, STREAM_REJECTION_LABELS, WEBHOOK_REJECTION_LABELS } from './metricLabels.ts';
import { WORKER_RESTART_REASONS } from './vocabulary/reasons.ts';
import { parseRejoinKey } from './vocabulary/rejoin.ts';
import { PRODUCTS } from './rtms/products.ts';
import type { LiveHub } from './http/liveHub.ts';
import type { Supervisor } from './supervisor/supervisor.ts';
import { STREAM_STATES } from './vocabulary/streamState.ts';
import type { StreamStats } from './vocabulary/streamStats.ts';

/** Default Node metrics that break Prometheus naming rules (gauges ending in `_total`); not exposed. */
const NON_COUNTER_TOTALS = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'] as const;

/**
 * Every supervisor-side metric, defined once. Workers never touch this registry: they send
 * cumulative per-stream counts with their stats, turned into counter increments here, and
 * keep their own per-frame histograms (`worker/workerMetrics.ts`), which `render()` merges
 * in with prom-client's `AggregatorRegistry`. Labels are bounded (`product`, `media_type`,
 * `reason`, `scope`, `state`, `result`, `worker`); never a stream, meeting or user id, and a
 * value Zoom or a client chose only through a closed list (`metricLabels.ts`).
 */
export class ConnectorMetrics {
  readonly registry = new Registry();
  readonly #supervisor: Supervisor;
  readonly #registers = [this.registry];

  readonly #webhooksReceived = new Counter({
    name: 'rtms_webhooks_received_total',
    help: 'Webhook requests answered 200, by result (accepted, duplicate).',
    labelNames: ['result'] as const,
    registers: this.#registers,
  });
  readonly #webhooksRejected = new Counter({
    name: 'rtms_webhooks_rejected_total',
    help: 'Webhook requests refused, by error code.',
    labelNames: ['reason'] as const,
    registers: this.#registers,
  });
  readonly #streamsStarted = new Counter({
    name: 'rtms_streams_started_total',
    help: 'Streams admitted.',
    labelNames: ['product'] as const,
    registers: this.#registers,
  });
  readonly #streamsRejected = new Counter({
    name: 'rtms_streams_rejected_total',
    help: 'Streams refused at admission, by reason (max_streams, shutting_down, no_worker).',
    labelNames: ['reason'] as const,
    registers: this.#registers,
  });
  readonly #streamsEnded = new Counter({
    name: 'rtms_streams_ended_total',
    help: 'Streams that finished, by terminal state (ended, failed) and Zoom stop reason.',
    labelNames: ['product', 'state', 'reason'] as const,
    registers: this.#registers,
  });
  readonly #transitions = new Counter({
    name: 'rtms_stream_transitions_total',
    help: 'Stream state transitions, by the state entered.',
    labelNames: ['state'] as const,
    registers: this.#registers,
  });
  readonly #framesReceived = new Counter({
    name: 'rtms_frames_received_total',
    help: 'Media messages received from Zoom.',
    labelNames: ['media_type'] as const,
    registers: this.#registers,
  });
  readonly #bytesReceived = new Counter({
    name: 'rtms_received_bytes_total',
    help: 'Decoded media bytes received from Zoom.',
    labelNames: ['media_type'] as const,
    registers: this.#registers,
  });
  readonly #framesWritten = new Counter({
    name: 'rtms_frames_written_total',
    help: 'Media frames written to sinks.',
    labelNames: ['media_type'] as const,
    registers: this.#registers,
  });
  readonly #bytesWritten = new Counter({
    name: 'rtms_written_bytes_total',
    help: 'Bytes written to sinks for media frames.',
    labelNames: ['media_type'] as const,
    registers: this.#registers,
  });
  readonly #framesDropped = new Counter({
    name: 'rtms_frames_dropped_total',
    help: 'Media frames received but not written, by reason.',
    labelNames: ['media_type', 'reason'] as const,
    registers: this.#registers,
  });
  readonly #reconnects = new Counter({
    name: 'rtms_reconnects_total',
    help: 'Rejoins after a gap, by scope (full, media) and trigger.',
    labelNames: ['scope', 'reason'] as const,
    registers: this.#registers,
  });
  readonly #workerRestarts = new Counter({
    name: 'rtms_worker_restarts_total',
    help: 'Worker threads replaced after dying, by reason (crashed, unresponsive, exited).',
    labelNames: ['reason'] as const,
    registers: this.#registers,
  });
  readonly #workerMetricsLate = new Counter({
    name: 'rtms_worker_metrics_late_total',
    help: 'Scrapes a worker thread did not answer in time; its previous answer was merged instead.',
    registers: this.#registers,
  });
  readonly #zoomConcurrency = new Gauge({
    name: 'rtms_zoom_account_concurrent_streams',
    help: "Zoom account-wide concurrent RTMS streams, from Zoom's latest concurrency webhook.",
    registers: this.#registers,
  });
  readonly #zoomConcurrencyLimit = new Gauge({
    name: 'rtms_zoom_account_stream_limit',
    help: "Zoom account-wide RTMS concurrency limit, from Zoom's latest rtms.concurrency_near_limit.",
    registers: this.#registers,
  });
  readonly #zoomConcurrencyLimited = new Counter({
    name: 'rtms_zoom_account_limited_total',
    help: 'rtms.concurrency_limited webhooks: a stream could not start because the Zoom account was at its limit.',
    registers: this.#registers,
  });

  /** Last cumulative counts seen per stream, to turn snapshots into counter increments. */
  readonly #lastSeen = new Map<string, StreamStats>();

  constructor(options: { supervisor: Supervisor; live: LiveHub; version: string }) {
    const supervisor = options.supervisor;
    this.#supervisor = supervisor;
    const registers = this.#registers;
    collectDefaultMetrics({ register: this.registry });
    // prom-client's `nodejs_active_{handles,requests,resources}_total` are gauges with a
    // `_total` suffix, which `promtool check metrics` rejects; each is the sum of its
    // by-`type` sibling (`nodejs_active_handles` …), which stays.
    for (const name of NON_COUNTER_TOTALS) this.registry.removeSingleMetric(name);
    new Gauge({
      name: 'rtms_build_info',
      help: 'Build information; always 1.',
      labelNames: ['version', 'node_version'] as const,
      registers,
    }).set({ version: options.version, node_version: process.version }, 1);
    new Gauge({
      name: 'rtms_stream_capacity',
      help: 'Streams this instance may hold at once (MAX_STREAMS).',
      registers,
      collect() {
        this.set(supervisor.capacity);
      },
    });
    new Gauge({
      name: 'rtms_streams_active',
      help: 'Streams held now (admitted and not finished).',
      registers,
      collect() {
        this.set(supervisor.activeStreams);
      },
    });
    new Gauge({
      name: 'rtms_streams',
      help: 'Streams held now, by state and product.',
      labelNames: ['state', 'product'] as const,
      registers,
      collect() {
        this.reset();
        // Every combination, so a state that empties reads 0 rather than vanishing.
        for (const state of STREAM_STATES) for (const product of PRODUCTS) this.set({ state, product }, 0);
        for (const stream of supervisor.list()) this.inc({ state: stream.state, product: stream.product });
      },
    });
    new Gauge({
      name: 'rtms_buffered_bytes',
      help: 'Bytes received and accepted by sinks but not yet on disk, all streams.',
      registers,
      collect() {
        this.set(supervisor.list().reduce((sum, stream) => sum + stream.bufferedBytes, 0));
      },
    });
    new Gauge({
      name: 'rtms_worker_threads',
      help: 'Worker threads running.',
      registers,
      collect() {
        this.set(supervisor.workerCount);
      },
    });
    const live = options.live;
    new Gauge({
      name: 'rtms_live_subscribers',
      help: 'WebSocket consumers of GET /streams/{id}/live connected now.',
      registers,
      collect() {
        this.set(live.subscriberCount);
      },
    });
    const skippedSeen: Record<string, number> = {};
    new Counter({
      name: 'rtms_live_frames_skipped_total',
      help: 'Frames not sent to live consumers that were not keeping up, by media type.',
      labelNames: ['media_type'] as const,
      registers,
      collect() {
        for (const media_type of MEDIA_KINDS) {
          const total = live.skippedTotal[media_type];
          this.inc({ media_type }, total - (skippedSeen[media_type] ?? 0));
          skippedSeen[media_type] = total;
        }
      },
    });
    let slowSeen = 0;
    new Counter({
      name: 'rtms_live_slow_disconnects_total',
      help: 'Live consumers disconnected (close code 4008) for not keeping up.',
      registers,
      collect() {
        this.inc(live.slowDisconnects - slowSeen);
        slowSeen = live.slowDisconnects;
      },
    });
    // Series that exist from the start, so dashboards and alerts see 0 rather than nothing.
    for (const media_type of MEDIA_KINDS) {
      for (const counter of [this.#framesReceived, this.#bytesReceived, this.#framesWritten, this.#bytesWritten]) counter.inc({ media_type }, 0);
    }
    for (const reason of WORKER_RESTART_REASONS) this.#workerRestarts.inc({ reason }, 0);

    supervisor.on('streamState', ({ product, to, reason }) => {
      this.#transitions.inc({ state: to });
      if (to === 'idle') this.#streamsStarted.inc({ product });
      if (to === 'rejected') this.#streamsRejected.inc({ reason: boundedLabel(STREAM_REJECTION_LABELS, reason) });
    });
    supervisor.on('stats', (streams) => {
      for (const stats of streams) this.#addDelta(stats);
    });
    supervisor.on('streamFinished', (stats) => {
      this.#addDelta(stats);
      this.#lastSeen.delete(stats.rtmsStreamId);
      if (stats.state !== 'rejected') {
        // A stop reason number outside Zoom's table would otherwise be a new series each.
        const reason = stats.stopReasonName ?? (stats.state === 'failed' ? 'failed' : 'closed');
        this.#streamsEnded.inc({ product: stats.product, state: stats.state, reason: boundedLabel(STREAM_END_LABELS, reason) });
      }
    });
    supervisor.on('workerExit', (exit) => {
      if (!exit.expected) this.#workerRestarts.inc({ reason: exit.reason });
    });
    supervisor.on('zoomConcurrency', ({ limited, concurrencyNumber, concurrencyLimit }) => {
      this.#zoomConcurrency.set(concurrencyNumber);
      if (concurrencyLimit !== undefined) this.#zoomConcurrencyLimit.set(concurrencyLimit);
      if (limited) this.#zoomConcurrencyLimited.inc();
    });
  }

  /** Counts a webhook answer; `reason` is the error code for rejections. */
  webhookOutcome(outcome: 'accepted' | 'duplicate' | 'rejected', reason?: string): void {
    if (outcome === 'rejected') this.#webhooksRejected.inc({ reason: boundedLabel(WEBHOOK_REJECTION_LABELS, reason) });
    else this.#webhooksReceived.inc({ result: outcome });
  }

  /**
   * The process's one `/metrics`: this registry merged with every worker's. Workers first, so
   * this scrape's late answers are in `rtms_worker_metrics_late_total` already.
   */
  async render(): Promise<{ contentType: string; body: string }> {
    const workers = await this.#supervisor.collectWorkerMetrics();
    this.#workerMetricsLate.inc(workers.late);
    const merged = AggregatorRegistry.aggregate([await this.registry.getMetricsAsJSON(), ...workers.snapshots]);
    return { contentType: this.registry.contentType, body: await merged.metrics() };
  }

  #addDelta(stats: StreamStats): void {
    const previous = this.#lastSeen.get(stats.rtmsStreamId);
    this.#lastSeen.set(stats.rtmsStreamId, stats);
    for (const [key, count] of Object.entries(stats.rejoins)) {
      const rejoin = parseRejoinKey(key);
      const labels = rejoin === undefined ? { scope: OTHER_LABEL, reason: OTHER_LABEL } : { scope: rejoin.scope, reason: rejoin.trigger };
      incBy(this.#reconnects, labels, count - (previous?.rejoins[key] ?? 0));
    }
    for (const media_type of MEDIA_KINDS) {
      const now = stats.media[media_type];
      if (now === undefined) continue;
      const before = previous?.media[media_type];
      incBy(this.#framesReceived, { media_type }, now.framesReceived - (before?.framesReceived ?? 0));
      incBy(this.#bytesReceived, { media_type }, now.bytesReceived - (before?.bytesReceived ?? 0));
      incBy(this.#framesWritten, { media_type }, now.framesWritten - (before?.framesWritten ?? 0));
      incBy(this.#bytesWritten, { media_type }, now.bytesWritten - (before?.bytesWritten ?? 0));
      for (const [reason, count] of Object.entries(now.framesDropped)) {
        incBy(this.#framesDropped, { media_type, reason: boundedLabel(DROP_REASON_LABELS, reason) }, count - (before?.framesDropped[reason] ?? 0));
      }
    }
  }
}

function incBy<T extends string>(counter: Counter<T>, labels: Partial<Record<T, string>>, delta: number): void {
  if (delta > 0) counter.inc(labels, delta);
}
