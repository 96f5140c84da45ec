import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { ConnectorProcess, connectorEnv } from '../../support/connectorProcess.ts';
import { startSimulator } from 'rtms-simulator';
import { randomCredentials, untilAudioSent } from '../connectorHarness.ts';

/**
 * INTERNAL_PORT: the public listener (what a proxy forwards, for Zoom) serves only the
 * webhook and the probes; metrics, the admin API and live feeds move to the internal one.
 */

const TOKEN = 'admin-token-for-tests-0123456789abcdef';

/** Opens a WebSocket; resolves with its first text message, or the HTTP status it was refused with. */
function firstMessage(url: string): Promise<{ message: string } | { status: number }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { headers: { authorization: `Bearer ${TOKEN}` } });
    socket.once('message', (data) => {
      resolve({ message: String(data) });
      socket.close();
    });
    socket.once('unexpected-response', (_request, response) => {
      resolve({ status: response.statusCode ?? 0 });
      socket.terminate();
    });
    socket.once('error', reject);
  });
}

describe('INTERNAL_PORT', () => {
  it('keeps /metrics, /streams and live feeds off the public listener, which keeps the webhook', async () => {
    const outputDir = await mkdtemp(join(tmpdir(), 'rtms-internal-'));
    const credentials = randomCredentials();
    const connector = await ConnectorProcess.start({
      env: connectorEnv({ credentials, outputDir, adminToken: TOKEN, extra: { INTERNAL_PORT: '0', RTMS_MEDIA: 'audio' } }),
    });
    const simulator = await startSimulator({ credentials, webhookUrl: connector.webhookUrl, seed: 5 });
    try {
      const internal = connector.internalBaseUrl!;
      expect(internal).toBeDefined();
      expect(internal).not.toBe(connector.baseUrl);
      const auth = { authorization: `Bearer ${TOKEN}` };
      const status = async (url: string, init: RequestInit = {}): Promise<number> => (await fetch(url, init)).status;

      // Zoom reaches the webhook on the public listener; streams start from it.
      await simulator.validateEndpoint();
      const stream = await simulator.startStream({ product: 'meeting' });
      await stream.whenReady();
      await untilAudioSent(stream, 6400);

      expect(await status(`${connector.baseUrl}/metrics`)).toBe(404);
      expect(await status(`${connector.baseUrl}/streams`, { headers: auth })).toBe(404);
      expect(await status(`${connector.baseUrl}/streams/${stream.rtmsStreamId}`, { method: 'DELETE', headers: auth })).toBe(404);
      expect(await firstMessage(`${connector.baseUrl.replace('http', 'ws')}/streams/${stream.rtmsStreamId}/live`)).toEqual({ status: 404 });
      for (const probe of ['/healthz', '/readyz']) {
        expect(await status(`${connector.baseUrl}${probe}`)).toBe(200);
        expect(await status(`${internal}${probe}`)).toBe(200);
      }

      expect(await (await fetch(`${internal}/metrics`)).text()).toContain('rtms_streams_active 1');
      const list = (await (await fetch(`${internal}/streams`, { headers: auth })).json()) as { streams: Array<{ rtmsStreamId: string }> };
      expect(list.streams.map((entry) => entry.rtmsStreamId)).toEqual([stream.rtmsStreamId]);
      const hello = await firstMessage(`${internal.replace('http', 'ws')}/streams/${stream.rtmsStreamId}/live`);
      expect(JSON.parse((hello as { message: string }).message)).toMatchObject({ type: 'hello', rtmsStreamId: stream.rtmsStreamId });
      // And Zoom's webhook is not served internally.
      expect(await status(`${internal}/webhook`, { method: 'POST', body: '{}' })).toBe(404);
      await stream.stop();
      await connector.waitForStream(stream.rtmsStreamId, (snapshot) => snapshot['active'] === false);
    } finally {
      await simulator.close();
      expect(await connector.stop()).toBe(0);
      await rm(outputDir, { recursive: true, force: true });
    }
  });
});
