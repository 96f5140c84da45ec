import { createServer, type Server } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readJsonLines, startRig, type Rig } from '../connectorHarness.ts';
import { HostileRtmsServer } from './hostileRtmsServer.ts';
import { startBystander, startHostileStream } from './hostileRig.ts';
import { streamDirectory } from '../../../src/sinks/streamDirectory.ts';

/**
 * RTMS_ALLOWED_HOSTS: the connector (allowed: 127.0.0.1, as every test rig) never connects to
 * another host, whether a signed webhook or a signaling answer names it, so no join signature
 * leaves for it. 127.0.0.2 is loopback too, but not on the list.
 */

let rig: Rig;
let bystander: Awaited<ReturnType<typeof startBystander>>;
beforeAll(async () => {
  rig = await startRig({ RTMS_MEDIA: 'audio,transcript' });
  bystander = await startBystander(rig);
});
afterAll(async () => {
  await rig?.close();
});

async function failureOf(id: string): Promise<string> {
  const snapshot = await rig.connector.waitForStream(id, (stream) => stream['state'] === 'failed');
  return String(snapshot['failure']);
}

describe('RTMS_ALLOWED_HOSTS', () => {
  it('a webhook naming a host outside the list fails the stream with the host named; nothing connects there', async () => {
    const outsider = await HostileRtmsServer.start({}, '127.0.0.2');
    try {
      const id = await startHostileStream(rig, outsider.url());
      expect(await failureOf(id)).toMatch(/signaling URL names host 127\.0\.0\.2, which RTMS_ALLOWED_HOSTS does not allow/);
      const events = await readJsonLines(join(streamDirectory(rig.outputDir, id), 'events.jsonl'));
      expect(events.at(-1)).toMatchObject({ eventType: 'stream.failed' });
      expect({ tcp: outsider.tcpConnections, signatures: outsider.signaturesReceived }).toEqual({ tcp: 0, signatures: 0 });
      await bystander.check();
    } finally {
      await outsider.close();
    }
  });

  it('media URLs from the signaling answer are checked the same way: other hosts, ws+unix: and http: go nowhere', async () => {
    const outsider = await HostileRtmsServer.start({}, '127.0.0.2');
    const socketDir = await mkdtemp(join(tmpdir(), 'rtms-unix-'));
    const socketPath = join(socketDir, 'docker.sock');
    let unixConnections = 0;
    const unixServer: Server = createServer((socket) => {
      unixConnections += 1;
      socket.destroy();
    });
    await new Promise<void>((resolve) => unixServer.listen(socketPath, resolve));
    const cases: Array<{ url: string; reason: RegExp }> = [
      { url: outsider.url('/media'), reason: /media:all URL names host 127\.0\.0\.2, which RTMS_ALLOWED_HOSTS does not allow/ },
      { url: `ws+unix://${socketPath}:/m`, reason: /media:all URL on host .* is not a ws:\/\/ or wss:\/\/ URL/ },
      { url: `http://127.0.0.1:9/m`, reason: /media:all URL on host 127\.0\.0\.1 is not a ws:\/\/ or wss:\/\/ URL/ },
    ];
    try {
      for (const { url, reason } of cases) {
        // The signaling server is on an allowed host; only its media answer points elsewhere.
        const signaling = await HostileRtmsServer.start({ mediaUrls: () => ({ all: url }) });
        try {
          const id = await startHostileStream(rig, signaling.url());
          expect(await failureOf(id)).toMatch(reason);
          expect(signaling.signalingJoins).toBe(1);
          expect(signaling.mediaJoins).toBe(0);
        } finally {
          await signaling.close();
        }
      }
      expect({ tcp: outsider.tcpConnections, signatures: outsider.signaturesReceived, unix: unixConnections }).toEqual({ tcp: 0, signatures: 0, unix: 0 });
      await bystander.check();
      await bystander.finish();
    } finally {
      await outsider.close();
      await new Promise<void>((resolve) => unixServer.close(() => resolve()));
      await rm(socketDir, { recursive: true, force: true });
    }
  });
});
