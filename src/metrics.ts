import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { MEDIA_KINDS, type MediaKind } from './config.ts';
import { PRODUCTS } from './rtms/products.ts';
import type { Supervisor } from './supervisor/supervisor.ts';
import { STREAM_STATES } from './worker/streamStateMachine.ts';
import type { StreamStats } from './worker/streamStats.ts';

/**
 * Every metric, defined once, in one registry owned by the supervisor thread. Workers never
 * touch it: they send cumulative per-stream counts, and `ConnectorMetrics` adds the deltas.
 * Labels are bounded (`product`, `media_type`, `reason`, `scope`, `state`); never an id.
 */
export class ConnectorMetrics {
  readonly registry = new Registry();

  readonly webhooksReceived = new Counter({
    name: 'rtms_webhooks_received_total',
    help: 'Webhook requests answered with 2xx (accepted or duplicate).',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  readonly webhooksRejected = new Counter({
    name: 'rtms_webhooks_rejected_total',
    help: 'Webhook requests refused, by error code.',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly streamsStarted = new Counter({
    name: 'rtms_streams_started_total',
    help: 'Streams admitted.',
    labelNames: ['product'] as const,
    registers: [this.registry],
  });
  readonly streamsRejected = new Counter({
    name: 'rtms_streams_rejected_total',
    help: 'Streams refused at admission, by reason.',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly streamsEnded = new Counter({
    name: 'rtms_streams_ended_total',
    help: 'Streams that reached ended or failed, by terminal state and Zoom stop reason.',
    labelNames: ['product', 'state', 'reason'] as const,
    registers: [this.registry],
  });
  readonly transitions = new Counter({
    name: 'rtms_stream_transitions_total',
    help: 'Stream state transitions, by the state entered.',
    labelNames: ['state'] as const,
    registers: [this.registry],
  });
  readonly framesReceived = new Counter({
    name: 'rtms_frames_received_total',
    help: 'Media messages received from Zoom.',
    labelNames: ['media_type'] as const,
    registers: [this.registry],
  });
  readonly bytesReceived = new Counter({
    name: 'rtms_received_bytes_total',
    help: 'Decoded media bytes received from Zoom.',
    labelNames: ['media_type'] as const,
    registers: [this.registry],
  });
  readonly framesWritten = new Counter({
    name: 'rtms_frames_written_total',
    help: 'Media frames written to sinks.',
    labelNames: ['media_type'] as const,
    registers: [this.registry],
  });
  readonly bytesWritten = new Counter({
    name: 'rtms_written_bytes_total',
    help: 'Media bytes written to sinks.',
    labelNames: ['media_type'] as const,
    registers: [this.registry],
  });
  readonly framesDropped = new Counter({
    name: 'rtms_frames_dropped_total',
    help: 'Media frames received but not written, by reason.',
    labelNames: ['media_type', 'reason'] as const,
    registers: [this.registry],
  });
  readonly reconnects = new Counter({
    name: 'rtms_reconnects_total',
    help: 'Rejoins started after an interruption, failover or lost connection.',
    registers: [this.registry],
  });
  readonly workerExits = new Counter({
    name: 'rtms_worker_exits_total',
    help: 'Worker threads that exited, by reason (shutdown, crashed, unresponsive).',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  /** Last cumulative counts seen per stream, to turn snapshots into counter increments. */
  readonly #lastSeen = new Map<string, StreamStats>();

  constructor(options: { supervisor: Supervisor; version: string }) {
    const { supervisor } = options;
    collectDefaultMetrics({ register: this.registry });
    new Gauge({
      name: 'rtms_build_info',
      help: 'Build information; always 1.',
      labelNames: ['version', 'node_version'] as const,
      registers: [this.registry],
    }).set({ version: options.version, node_version: process.version }, 1);
    new Gauge({
      name: 'rtms_stream_capacity',
      help: 'Streams this instance may hold at once (MAX_STREAMS).',
      registers: [this.registry],
      collect() {
        this.set(supervisor.capacity);
      },
    });
    new Gauge({
      name: 'rtms_streams_active',
      help: 'Streams currently held (admitted and not yet finished).',
      registers: [this.registry],
      collect() {
        this.set(supervisor.activeStreams);
      },
    });
    new Gauge({
      name: 'rtms_streams',
      help: 'Streams held, by state and product.',
      labelNames: ['state', 'product'] as const,
      registers: [this.registry],
      collect() {
        this.reset();
        // Zero every combination so a state that empties reads 0 rather than vanishing.
        for (const state of STREAM_STATES) for (const product of PRODUCTS) this.set({ state, product }, 0);
        for (const stream of supervisor.list()) this.inc({ state: stream.state, product: stream.product });
      },
    });
    new Gauge({
      name: 'rtms_worker_threads',
      help: 'Worker threads running.',
      registers: [this.registry],
      collect() {
        this.set(supervisor.workerCount);
      },
    });

    supervisor.on('streamState', ({ product, to, reason }) => {
      this.transitions.inc({ state: to });
      if (to === 'idle') this.streamsStarted.inc({ product });
      if (to === 'rejected') this.streamsRejected.inc({ reason: reason ?? 'unknown' });
    });
    supervisor.on('stats', (streams) => {
      for (const stats of streams) this.#addDelta(stats);
    });
    supervisor.on('streamFinished', (stats) => {
      this.#addDelta(stats);
      this.#lastSeen.delete(stats.rtmsStreamId);
      if (stats.state !== 'rejected') {
        this.streamsEnded.inc({ product: stats.product, state: stats.state, reason: stats.stopReasonName ?? (stats.state === 'failed' ? 'failed' : 'closed') });
      }
    });
    supervisor.on('workerExit', (exit) => this.workerExits.inc({ reason: exit.reason }));
  }

  /** Counts a webhook answer; `reason` is the error code for rejections. */
  webhookOutcome(outcome: 'accepted' | 'duplicate' | 'rejected', reason?: string): void {
    if (outcome === 'rejected') this.webhooksRejected.inc({ reason: reason ?? 'unknown' });
    else this.webhooksReceived.inc({ result: outcome });
  }

  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  #addDelta(stats: StreamStats): void {
    const previous = this.#lastSeen.get(stats.rtmsStreamId);
    this.#lastSeen.set(stats.rtmsStreamId, stats);
    const reconnects = stats.reconnects - (previous?.reconnects ?? 0);
    if (reconnects > 0) this.reconnects.inc(reconnects);
    for (const kind of MEDIA_KINDS) {
      const now = stats.media[kind];
      if (now === undefined) continue;
      const before = previous?.media[kind];
      const labels = { media_type: kind satisfies MediaKind };
      incBy(this.framesReceived, labels, now.framesReceived - (before?.framesReceived ?? 0));
      incBy(this.bytesReceived, labels, now.bytesReceived - (before?.bytesReceived ?? 0));
      incBy(this.framesWritten, labels, now.framesWritten - (before?.framesWritten ?? 0));
      incBy(this.bytesWritten, labels, now.bytesWritten - (before?.bytesWritten ?? 0));
      for (const [reason, count] of Object.entries(now.framesDropped)) {
        incBy(this.framesDropped, { media_type: kind, reason }, count - (before?.framesDropped[reason] ?? 0));
      }
    }
  }
}

function incBy<T extends string>(counter: Counter<T>, labels: Partial<Record<T, string>>, delta: number): void {
  if (delta > 0) counter.inc(labels, delta);
}
