import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { WebSocket } from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import { loadTlsMaterial } from '../../src/tlsMaterial.ts';
import { eventually } from '../../../../test/support/eventually.ts';
import { type TempDir, tempDir } from '../../../../test/support/tempDir.ts';
import { type Harness, harness } from './helpers/harness.ts';

/** The stand-in over wss://: its own CA in a directory, a server certificate for 127.0.0.1 signed by it. */
describe('simulator over TLS', () => {
  let h: Harness | undefined;
  let dir: TempDir | undefined;

  afterEach(async () => {
    await h?.close();
    await dir?.remove();
    h = undefined;
    dir = undefined;
  });

  it('serves wss:// URLs that a client trusting only its CA joins and streams from', async () => {
    dir = await tempDir('rtms-sim-tls-');
    h = await harness({ tls: { dir: dir.path } });
    expect(h.sim.caCertPath).toBe(`${dir.path}/ca.pem`);
    const ca = await readFile(h.sim.caCertPath ?? '', 'utf8');
    const stream = await h.sim.startStream({ durationMs: 60_000 });
    expect(stream.signalingUrl).toMatch(/^wss:\/\/127\.0\.0\.1:\d+\/signaling$/);
    const session = await h.join(stream, { ca, media: [{ url: 'audio', mediaType: 1 }] });
    const urls = (session.handshake['media_server'] as { server_urls: Record<string, string> }).server_urls;
    for (const url of Object.values(urls)) expect(url).toMatch(/^wss:\/\//);
    await eventually(() => session.collector.audio.size > 0, { what: 'audio over wss' });
  });

  it('is refused by a client that does not trust its CA', async () => {
    dir = await tempDir('rtms-sim-tls-');
    h = await harness({ tls: { dir: dir.path } });
    const stream = await h.sim.startStream({ durationMs: 60_000 });
    const error = await new Promise<NodeJS.ErrnoException>((resolve) => {
      const ws = new WebSocket(stream.signalingUrl);
      ws.once('error', (failure) => resolve(failure as NodeJS.ErrnoException));
      ws.once('open', () => resolve(Object.assign(new Error('opened'), { code: 'OPENED' })));
    });
    expect(error.code).toBe('UNABLE_TO_VERIFY_LEAF_SIGNATURE');
  });

  it('keeps one CA per directory, even when several stand-ins start on it at once', async () => {
    dir = await tempDir('rtms-sim-tls-');
    const path = dir.path;
    const materials = await Promise.all([1, 2, 3, 4].map(() => loadTlsMaterial(path)));
    const again = await loadTlsMaterial(path);
    const ca = new X509Certificate(await readFile(`${path}/ca.pem`, 'utf8'));
    expect(ca.ca).toBe(true);
    for (const material of [...materials, again]) {
      expect(material.caCertPath).toBe(`${path}/ca.pem`);
      const cert = new X509Certificate(material.cert);
      expect(cert.verify(ca.publicKey)).toBe(true);
      expect(cert.checkIP('127.0.0.1')).toBe('127.0.0.1');
      expect(cert.checkHost('localhost')).toBe('localhost');
      expect(cert.ca).toBe(false);
    }
    expect(new Set(materials.map((material) => material.cert)).size).toBe(materials.length);
  });
});
