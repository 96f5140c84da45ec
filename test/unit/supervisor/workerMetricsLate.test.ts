import { EventEmitter, once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config.ts';
import type { LiveHub } from '../../../src/http/liveHub.ts';
import { createLogger } from '../../../src/logger.ts';
import { ConnectorMetrics } from '../../../src/metrics.ts';
import type { Supervisor } from '../../../src/supervisor/supervisor.ts';
import { WorkerPool } from '../../../src/supervisor/workerPool.ts';
import { MEDIA_KINDS } from '../../../src/vocabulary/mediaKind.ts';
import { tempDir, type TempDir } from '../../support/tempDir.ts';

/**
 * `/metrics` while a worker is too busy to answer a scrape: real worker threads behind a real
 * WorkerPool and WorkerHandle (a stand-in script in place of workerMain, fixtures/slowMetricsWorker.ts,
 * whose answers the test holds back), merged by the real ConnectorMetrics.render(). The summed
 * counter must never drop for a scrape (Prometheus would read a reset), and each late worker counts.
 */
const DEADLINE_MS = 50;

let output: TempDir | undefined;
let pool: WorkerPool | undefined;
afterEach(async () => {
  await pool?.close(1000);
  pool = undefined;
  await output?.remove();
  output = undefined;
});

async function rig(): Promise<{ pool: WorkerPool; scrape: () => Promise<Map<string, number>> }> {
  output = await tempDir('rtms-late-metrics-');
  const config = loadConfig({
    ZM_RTMS_CLIENT: 'client-id',
    ZM_RTMS_SECRET: 'very-secret-value',
    ZM_WEBHOOK_SECRET_TOKEN: 'token-value',
    OUTPUT_DIR: output.path,
    WORKER_THREADS: '2',
  });
  const workers = new WorkerPool({
    config,
    logger: createLogger({ level: 'silent' }),
    workerEntry: new URL('./fixtures/slowMetricsWorker.ts', import.meta.url),
  });
  pool = workers;
  await workers.start();
  // The supervisor's part of a scrape is one call to the pool; its events are not used here.
  const supervisor = Object.assign(new EventEmitter(), {
    capacity: 1,
    activeStreams: 0,
    workerCount: 2,
    list: () => [],
    collectWorkerMetrics: () => workers.collectMetrics(DEADLINE_MS),
  });
  const live = { subscriberCount: 0, slowDisconnects: 0, skippedTotal: Object.fromEntries(MEDIA_KINDS.map((kind) => [kind, 0])) };
  const metrics = new ConnectorMetrics({ supervisor: supervisor as unknown as Supervisor, live: live as unknown as LiveHub, version: 'test' });
  const scrape = async (): Promise<Map<string, number>> => {
    const { body } = await metrics.render();
    const samples = body.split('\n').filter((line) => line !== '' && !line.startsWith('#'));
    return new Map(samples.map((line) => [line.slice(0, line.lastIndexOf(' ')), Number(line.slice(line.lastIndexOf(' ') + 1))]));
  };
  return { pool: workers, scrape };
}

/** Test-only messages the stand-in worker understands. */
function tell(workers: WorkerPool, workerId: number, message: { type: 'test.add'; by: number } | { type: 'test.hold' } | { type: 'test.release' }): void {
  expect(workers.post(workerId, message as never)).toBe(true);
}

/** Lets the held answers go and waits until WorkerHandle has received them. */
async function release(workers: WorkerPool, workerId: number): Promise<void> {
  const released = once(workers, 'message', { signal: AbortSignal.timeout(2000) });
  tell(workers, workerId, { type: 'test.release' });
  expect(await released).toEqual([workerId, { type: 'test.released' }]);
}

describe('worker metrics answered late', () => {
  it('merge the worker’s previous answer, so the summed counter never drops, and count each late worker', async () => {
    const { pool: workers, scrape } = await rig();
    tell(workers, 1, { type: 'test.add', by: 5 });
    tell(workers, 2, { type: 'test.add', by: 7 });

    // Worker 2 busy before it ever answered: nothing to give yet, as before.
    tell(workers, 2, { type: 'test.hold' });
    let metrics = await scrape();
    expect(metrics.get('fixture_frames_total')).toBe(5);
    expect(metrics.get('rtms_worker_metrics_late_total')).toBe(1);
    await release(workers, 2);

    // Both answer in time.
    metrics = await scrape();
    expect(metrics.get('fixture_frames_total')).toBe(12);
    expect(metrics.get('rtms_worker_metrics_late_total')).toBe(1);

    // Worker 2 busy: its previous answer (7) stands in; the sum is not lower, the late one counts.
    tell(workers, 1, { type: 'test.add', by: 1 });
    tell(workers, 2, { type: 'test.hold' });
    tell(workers, 2, { type: 'test.add', by: 3 });
    metrics = await scrape();
    expect(metrics.get('fixture_frames_total')).toBe(13);
    expect(metrics.get('rtms_worker_metrics_late_total')).toBe(2);

    // Its answer, arriving after the scrape gave up, is what it gives while still busy.
    await release(workers, 2);
    tell(workers, 2, { type: 'test.hold' });
    metrics = await scrape();
    expect(metrics.get('fixture_frames_total')).toBe(16);
    expect(metrics.get('rtms_worker_metrics_late_total')).toBe(3);
    await release(workers, 2);
  });
});
