import { describe, expect, it } from 'vitest';
import { ConnectorProcess, connectorEnv } from '../../support/connectorProcess.ts';
import { startSimulator } from 'rtms-simulator';
import { mountSmallTmpfs } from '../../support/smallTmpfs.ts';
import { randomCredentials } from '../connectorHarness.ts';

/**
 * A full disk makes OUTPUT_DIR unusable: `/readyz` turns 503 and new streams are refused. A
 * stream already running here must still be able to move: its failover `rtms_started` is
 * taken (refused, the connector rejoined the old server until the stream failed; found by the
 * chaos soak's disk-full windows).
 */
describe('OUTPUT_DIR unusable (disk full)', () => {
  it('a running stream’s failover is accepted while /readyz is 503, and the stream ends normally', async () => {
    const disk = await mountSmallTmpfs(64 * 1024 * 1024);
    const credentials = randomCredentials();
    const connector = await ConnectorProcess.start({
      env: connectorEnv({
        credentials,
        outputDir: disk.path,
        adminToken: 'admin-token-for-tests-0123456789abcdef',
        extra: {
          WORKER_THREADS: '1',
          RTMS_MEDIA: 'audio,transcript',
          RTMS_RECONNECT_BASE_MS: '100',
          RTMS_RECONNECT_MAX_MS: '1000',
          OUTPUT_DIR_CHECK_INTERVAL_MS: '100',
          LOG_LEVEL: 'info',
        },
      }),
    });
    const simulator = await startSimulator({ credentials, webhookUrl: connector.webhookUrl, seed: 18, reconnectGraceMs: 20_000 });
    try {
      const stream = await simulator.startStream({ durationMs: 15_000, participants: 1 });
      await stream.whenReady();
      await disk.fill();
      // The periodic probe sees ENOSPC: not ready.
      while ((await fetch(`${connector.baseUrl}/readyz`)).status !== 503) await new Promise((resolve) => setTimeout(resolve, 50));

      const answer = await stream.failover();
      expect(answer.status, answer.body).toBe(200);
      await stream.whenReady();
      expect((await fetch(`${connector.baseUrl}/readyz`)).status).toBe(503);

      await disk.free();
      await stream.whenEnded();
      const ended = await connector.waitForStream(stream.rtmsStreamId, (s) => s['active'] === false, 30_000);
      expect(ended['state']).toBe('ended');
      expect(stream.connections.failovers).toBe(1);
    } finally {
      await simulator.close();
      await connector.stop('SIGTERM');
      await disk.unmount();
    }
  }, 90_000);
});
