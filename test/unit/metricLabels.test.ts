import { describe, expect, it } from 'vitest';
import { nameOf, STOP_REASON_NAMES } from '../../src/rtms/codes.ts';
import { EventEmitter } from 'node:events';
import type { LiveHub } from '../../src/http/liveHub.ts';
import {
  boundedLabel,
  DROP_REASON_LABELS,
  OTHER_LABEL,
  REJOIN_SCOPE_LABELS,
  REJOIN_TRIGGER_LABELS,
  STREAM_END_LABELS,
  WEBHOOK_REJECTION_LABELS,
} from '../../src/metricLabels.ts';
import { ConnectorMetrics } from '../../src/metrics.ts';
import type { Supervisor } from '../../src/supervisor/supervisor.ts';
import { MEDIA_KINDS } from '../../src/vocabulary/mediaKind.ts';
import { WORKER_RESTART_REASONS } from '../../src/vocabulary/reasons.ts';
import { parseRejoinKey, rejoinKey } from '../../src/vocabulary/rejoin.ts';
import { initialStreamStats } from '../../src/vocabulary/streamStats.ts';

describe('boundedLabel', () => {
  it('keeps a listed value and turns anything else into other', () => {
    expect(boundedLabel(STREAM_END_LABELS, 'MEETING_ENDED')).toBe('MEETING_ENDED');
    expect(boundedLabel(STREAM_END_LABELS, nameOf(STOP_REASON_NAMES, 1_000_007))).toBe('other');
    expect(boundedLabel(WEBHOOK_REJECTION_LABELS, 'WEBHOOK_SIGNATURE_INVALID')).toBe('WEBHOOK_SIGNATURE_INVALID');
    expect(boundedLabel(WEBHOOK_REJECTION_LABELS, undefined)).toBe('other');
  });

  it('gives 100 made-up stop reasons at most 40 distinct values', () => {
    const labels = new Set(Array.from({ length: 100 }, (_, i) => boundedLabel(STREAM_END_LABELS, nameOf(STOP_REASON_NAMES, 1000 + i))));
    expect(labels).toEqual(new Set(['other']));
    expect(STREAM_END_LABELS.length).toBeLessThanOrEqual(40);
  });
});

describe('ConnectorMetrics label values', () => {
  /** The supervisor's events, as a plain emitter; the metrics read nothing else from it here. */
  function rig(): { supervisor: EventEmitter; metrics: ConnectorMetrics } {
    const supervisor = Object.assign(new EventEmitter(), {
      capacity: 1,
      activeStreams: 0,
      workerCount: 1,
      list: () => [],
      collectWorkerMetrics: async () => ({ snapshots: [], late: 0 }),
    });
    const live = { subscriberCount: 0, slowDisconnects: 0, skippedTotal: Object.fromEntries(MEDIA_KINDS.map((kind) => [kind, 0])) };
    const metrics = new ConnectorMetrics({ supervisor: supervisor as unknown as Supervisor, live: live as unknown as LiveHub, version: 'test' });
    return { supervisor, metrics };
  }

  async function labelValues(metrics: ConnectorMetrics, name: string, label: string): Promise<Set<string>> {
    const metric = (await metrics.registry.getMetricsAsJSON()).find((candidate) => candidate.name === name);
    expect(metric, name).toBeDefined();
    return new Set(metric?.values.map((value) => String(value.labels[label])));
  }

  it('drop reasons, rejoins, refusals and worker exits take values only from the vocabulary lists', async () => {
    const { supervisor, metrics } = rig();
    const stats = {
      ...initialStreamStats({ rtmsStreamId: 's1', product: 'meeting', entityId: 'm1', serverUrls: ['wss://x'] } as never, 'live'),
      rejoins: { 'full/interrupted_webhook': 1, 'media/media_closed': 2, 'full/worker_crashed': 1, 'sideways/moon_phase': 1, 'no-slash': 1 },
      media: {
        audio: {
          framesReceived: 10,
          bytesReceived: 10,
          framesWritten: 4,
          bytesWritten: 4,
          framesDropped: { duplicate: 1, sink_error: 1, worker_lost: 1, a_reason_from_an_older_version: 3 },
        },
      },
    };
    supervisor.emit('stats', [stats]);
    supervisor.emit('streamState', { rtmsStreamId: 's2', product: 'meeting', from: undefined, to: 'rejected', reason: 'max_streams' });
    supervisor.emit('streamState', { rtmsStreamId: 's3', product: 'meeting', from: undefined, to: 'rejected', reason: 'made up' });
    supervisor.emit('workerExit', { workerId: 1, exitCode: 1, expected: false, reason: 'unresponsive' });

    expect(await labelValues(metrics, 'rtms_frames_dropped_total', 'reason')).toEqual(new Set(['duplicate', 'sink_error', 'worker_lost', OTHER_LABEL]));
    for (const value of await labelValues(metrics, 'rtms_frames_dropped_total', 'reason')) expect(DROP_REASON_LABELS).toContain(value);
    expect(await labelValues(metrics, 'rtms_reconnects_total', 'scope')).toEqual(new Set(['full', 'media', OTHER_LABEL]));
    const triggers = await labelValues(metrics, 'rtms_reconnects_total', 'reason');
    expect(triggers).toEqual(new Set(['interrupted_webhook', 'media_closed', 'worker_crashed', OTHER_LABEL]));
    for (const value of triggers) expect(REJOIN_TRIGGER_LABELS).toContain(value);
    for (const value of await labelValues(metrics, 'rtms_reconnects_total', 'scope')) expect(REJOIN_SCOPE_LABELS).toContain(value);
    expect(await labelValues(metrics, 'rtms_streams_rejected_total', 'reason')).toEqual(new Set(['max_streams', OTHER_LABEL]));
    for (const value of await labelValues(metrics, 'rtms_worker_restarts_total', 'reason')) expect(WORKER_RESTART_REASONS).toContain(value);
  });

  it('the scope and trigger of a rejoin key are read as a typed pair, and a foreign key is not', () => {
    expect(parseRejoinKey(rejoinKey({ scope: 'media', trigger: 'media_connection_interrupted' }))).toEqual({
      scope: 'media',
      trigger: 'media_connection_interrupted',
    });
    expect(parseRejoinKey('full/worker_crashed')).toEqual({ scope: 'full', trigger: 'worker_crashed' });
    expect(parseRejoinKey('full/unknown')).toBeUndefined();
    expect(parseRejoinKey('full')).toBeUndefined();
  });
});
