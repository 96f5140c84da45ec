import { readFile } from 'node:fs/promises';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { loadTlsMaterial } from 'rtms-simulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { createLogger } from '../../../src/logger.ts';
import { certificateRefusal } from '../../../src/rtms/certificateRefusal.ts';
import { RtmsSocket } from '../../../src/rtms/rtmsSocket.ts';
import { parseAllowedHosts } from '../../../src/rtms/hostAllowList.ts';
import { type TempDir, tempDir } from '../../support/tempDir.ts';

/**
 * RtmsSocket against a real wss:// server whose certificate comes from a private CA (the
 * stand-in's): refused, finally and by name, unless that CA is trusted; never unverified.
 * (The process's own trust store cannot be changed here; the connector's integration test
 * trusts the CA through NODE_EXTRA_CA_CERTS.)
 */

let dir: TempDir;
let server: https.Server;
let wss: WebSocketServer;
let url: string;

beforeAll(async () => {
  dir = await tempDir('rtms-tls-unit-');
  const material = await loadTlsMaterial(dir.path);
  server = https.createServer({ key: material.key, cert: material.cert });
  wss = new WebSocketServer({ server });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `wss://127.0.0.1:${(server.address() as AddressInfo).port}/signaling`;
});

afterAll(async () => {
  for (const client of wss.clients) client.terminate();
  wss.close();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await dir.remove();
});

function openOn(target: string, allowed = '127.0.0.1'): Promise<RtmsSocket> {
  const list = parseAllowedHosts(allowed).list;
  if (list === undefined) throw new Error('bad allow-list');
  return RtmsSocket.open({
    url: target,
    channel: 'signaling',
    allowedHosts: list,
    maxPayloadBytes: 1024,
    connectTimeoutMs: 5000,
    silenceTimeoutMs: 5000,
    onMessage: () => undefined,
    onMalformed: () => undefined,
    onClose: () => undefined,
    logger: createLogger({ level: 'silent' }),
  });
}

describe('RtmsSocket over wss://', () => {
  it('refuses a server certificate from an untrusted CA with a final error naming the reason', async () => {
    const error = await openOn(url).then(
      () => undefined,
      (failure: unknown) => failure,
    );
    expect(error).toMatchObject({ code: 'RTMS_CERTIFICATE_REJECTED', retryable: false });
    expect((error as Error).message).toContain('signaling server certificate not trusted (UNABLE_TO_VERIFY_LEAF_SIGNATURE)');
    expect((error as Error).message).toContain('NODE_EXTRA_CA_CERTS');
  });

  it('applies RTMS_ALLOWED_HOSTS to wss:// URLs before connecting', async () => {
    await expect(openOn(url, '*.zoom.us')).rejects.toMatchObject({ code: 'RTMS_HOST_NOT_ALLOWED' });
  });

  it('classifies only certificate verification failures as refusals', async () => {
    expect(certificateRefusal(Object.assign(new Error('x'), { code: 'CERT_HAS_EXPIRED' }))).toBe('CERT_HAS_EXPIRED');
    expect(certificateRefusal(Object.assign(new Error('x'), { code: 'ERR_TLS_CERT_ALTNAME_INVALID' }))).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
    expect(certificateRefusal(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }))).toBeUndefined();
    expect(certificateRefusal(new Error('no code'))).toBeUndefined();
    expect(certificateRefusal(undefined)).toBeUndefined();
    // The CA file the stand-in publishes is a PEM certificate a client can load.
    expect(await readFile(`${dir.path}/ca.pem`, 'utf8')).toMatch(/^-----BEGIN CERTIFICATE-----/);
  });
});
