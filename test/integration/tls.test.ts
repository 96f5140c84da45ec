import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadTlsMaterial, startSimulator } from 'rtms-simulator';
import { inspectStreamOutput } from '../support/streamOutputReport.ts';
import { type TempDir, tempDir } from '../support/tempDir.ts';
import {
  expectAudioIdentical,
  expectEveryFrameAccounted,
  readJsonLines,
  startRig,
  untilAudioSent,
  untilSinkClosed,
  waitUntilEnded,
  type Rig,
} from './connectorHarness.ts';

/**
 * The connector over wss://, as with Zoom: the stand-in serves TLS with a certificate from its
 * own CA, which the connector process trusts through NODE_EXTRA_CA_CERTS and nothing else
 * (certificate verification stays on). A server whose certificate it does not trust is refused
 * at once, reported in `failure`, and never retried.
 */

let rig: Rig;
let caDir: TempDir;
let otherCaDir: TempDir;
beforeAll(async () => {
  caDir = await tempDir('rtms-it-ca-');
  otherCaDir = await tempDir('rtms-it-ca-other-');
  // The CA must exist before the connector starts: Node reads NODE_EXTRA_CA_CERTS once, at start.
  const { caCertPath } = await loadTlsMaterial(caDir.path);
  // A window far longer than the test's wait: a refusal that were retried would not end in time.
  rig = await startRig({ NODE_EXTRA_CA_CERTS: caCertPath, RTMS_RECONNECT_WINDOW_MS: '600000' }, { tls: { dir: caDir.path } });
});
afterAll(async () => {
  await rig?.close();
  await caDir?.remove();
  await otherCaDir?.remove();
});

describe('connector over wss://', () => {
  it('joins, streams to files, rejoins after an interruption and a media drop, all over TLS', async () => {
    expect(rig.simulator.signalingUrl).toMatch(/^wss:\/\/127\.0\.0\.1:/);
    const stream = await rig.simulator.startStream({ product: 'meeting', participants: 3 });
    await stream.whenReady();
    await untilAudioSent(stream, 32_000, { transcripts: 1 });
    await stream.interrupt();
    await stream.whenReady(2);
    await untilAudioSent(stream, 64_000);
    const mediaBefore = stream.connections.mediaAccepted;
    await stream.dropMedia('audio');
    await stream.whenReady(3);
    expect(stream.connections.mediaAccepted).toBe(mediaBefore + 1);
    await untilAudioSent(stream, 128_000);
    await stream.stop(6);

    const snapshot = await waitUntilEnded(rig, stream);
    expect(snapshot).toMatchObject({ state: 'ended', stop: { reason: 6 }, reconnects: 2 });
    expect(stream.connections.signalingAccepted).toBe(2);
    expect(rig.simulator.tlsClientErrors).toBe(0);
    await expectAudioIdentical(rig, stream);
    await expectEveryFrameAccounted(rig, stream);
    const report = await inspectStreamOutput(rig.streamDir(stream), { probe: true });
    expect(report.problems).toEqual([]);
    expect(report.probedFiles).toContain('video.h264');
    const transcripts = await readJsonLines(join(rig.streamDir(stream), 'transcript.jsonl'));
    expect(transcripts.length).toBe(stream.sent.transcriptCount());

    // STREAM_STATE_UPDATE as Zoom's samples expect it: ACTIVE at each join (the first, the full
    // rejoin) and once the dropped media connection was back, recorded and logged.
    const states = (await readJsonLines(join(rig.streamDir(stream), 'events.jsonl')))
      .filter((event) => event['eventType'] === 'rtms.stream_state')
      .map((event) => (event['data'] as { stateName: string }).stateName);
    expect(states).toEqual(['ACTIVE', 'ACTIVE', 'INTERRUPTED', 'ACTIVE', 'TERMINATED']);
    const logged = rig.connector.logLines.filter((line) => line.includes('"msg":"rtms stream state"') && line.includes(stream.rtmsStreamId));
    expect(logged.map((line) => (JSON.parse(line) as { stateName: string }).stateName)).toEqual(states);
  });

  it('refuses a server whose certificate comes from a CA it does not trust: failed at once, the reason named, no retry', async () => {
    const untrusted = await startSimulator({
      credentials: rig.credentials,
      webhookUrl: rig.connector.webhookUrl,
      seed: 5,
      joinTimeoutMs: 0,
      tls: { dir: otherCaDir.path },
    });
    try {
      const stream = await untrusted.startStream({ product: 'meeting' });
      const snapshot = await waitUntilEnded(rig, stream);
      expect(snapshot['state']).toBe('failed');
      expect(String(snapshot['failure'])).toContain('signaling server certificate not trusted (UNABLE_TO_VERIFY_LEAF_SIGNATURE)');
      await untilSinkClosed(rig, stream);
      // One TLS handshake, refused by the connector; no WebSocket, so no join signature sent.
      expect(untrusted.tlsClientErrors).toBe(1);
      expect(stream.connections.signalingAccepted).toBe(0);
      expect(untrusted.rejections).toEqual([]);
    } finally {
      await untrusted.close();
    }
  });
});
