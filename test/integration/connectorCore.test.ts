import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inspectStreamOutput } from '../support/streamOutputReport.ts';
import type { Product } from '../../src/rtms/products.ts';
import type { SimulatedStream } from 'rtms-simulator';
import { eventually } from '../support/eventually.ts';
import { expectAudioIdentical, expectEveryFrameAccounted, readJsonLines, startRig, untilAudioSent, waitUntilEnded, type Rig } from './connectorHarness.ts';

/** The connector process against the simulator: every product, end to end, byte for byte. */

let rig: Rig;
beforeAll(async () => {
  rig = await startRig();
});
afterAll(async () => {
  await rig?.close();
});

/** `rtms_webhooks_rejected_total` summed over reasons, from the connector's /metrics. */
async function webhooksRejected(): Promise<number> {
  const text = await (await fetch(`${rig.connector.baseUrl}/metrics`)).text();
  return text
    .split('\n')
    .filter((line) => line.startsWith('rtms_webhooks_rejected_total'))
    .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
}

/** After a media loss: whole again, then ended with one gap, rejoined on media only, no audio lost. */
async function expectOneMediaOnlyRejoin(rig: Rig, stream: SimulatedStream): Promise<void> {
  await stream.whenReady(2);
  await untilAudioSent(stream, 96_000);
  await stream.stop();
  const snapshot = await waitUntilEnded(rig, stream);
  expect(snapshot).toMatchObject({ state: 'ended', reconnects: 1 });
  const rejoins = Object.entries(snapshot['rejoins'] as Record<string, number>).filter(([, count]) => count > 0);
  expect(rejoins).toHaveLength(1);
  expect(rejoins[0]).toEqual([expect.stringMatching(/^media\//), 1]);
  expect(stream.connections.signalingAccepted).toBe(1);
  await expectAudioIdentical(rig, stream);
}

// Each test drives its own stream (the one that needs other settings, its own rig), and what
// they wait on is real time, not CPU: run together, at most five at a time (vitest's
// maxConcurrency), the file takes about its slowest test instead of the sum.
describe.concurrent('connector core', () => {
  it.each<Product>(['meeting', 'webinar', 'session', 'contact_center'])(
    '%s: audio identical to what Zoom sent, transcripts complete, ended with finalized files after rtms_stopped',
    async (product) => {
      const stream = await rig.simulator.startStream({ product, participants: 3 });
      await stream.whenReady();
      await untilAudioSent(stream, 64_000, { transcripts: 2 });
      await stream.stop(6);

      const snapshot = await waitUntilEnded(rig, stream);
      expect(snapshot).toMatchObject({ state: 'ended', product, stop: { reason: 6, name: 'MEETING_ENDED' }, reconnects: 0 });
      await expectAudioIdentical(rig, stream);
      const media = await expectEveryFrameAccounted(rig, stream);
      expect(media['audio']?.framesReceived).toBe(stream.sent.audioPackets());

      const report = await inspectStreamOutput(rig.streamDir(stream), { probe: true });
      expect(report.problems).toEqual([]);
      expect(report.state).toBe('ended');
      if (product !== 'contact_center') expect(report.probedFiles).toContain('video.h264');

      const transcripts = await readJsonLines(join(rig.streamDir(stream), 'transcript.jsonl'));
      expect(transcripts.map((line) => [line['userId'], line['text']])).toEqual(stream.sent.transcripts().map((line) => [String(line.userId), line.text]));
      const events = (await readJsonLines(join(rig.streamDir(stream), 'events.jsonl'))).map((event) => event['eventType']);
      expect(events).toEqual(expect.arrayContaining(['stream.connecting', 'stream.live', 'rtms.stream_state', 'stream.ended']));
      expect(stream.connections.signalingAccepted).toBe(1);
    },
  );

  it('a forged webhook starts nothing', async () => {
    const rtmsStreamId = 'f0'.repeat(16);
    const body = {
      event: 'meeting.rtms_started',
      event_ts: Date.now(),
      payload: { meeting_uuid: 'forged==', operator_id: 'x', rtms_stream_id: rtmsStreamId, server_urls: rig.simulator.signalingUrl },
    };
    const rejectedBefore = await webhooksRejected();
    const forged = await rig.simulator.sendWebhook(body, { secretToken: 'not-the-secret-token' });
    expect(forged.status).toBe(401);
    const stale = await rig.simulator.sendWebhook(body, { timestamp: String(Math.floor(Date.now() / 1000) - 3600) });
    expect(stale.status).toBe(401);
    // The connector has counted both as refused (its decision is final); then prove nothing started.
    await eventually(async () => (await webhooksRejected()) >= rejectedBefore + 2, { what: 'both webhooks counted as rejected' });
    expect((await rig.connector.admin(`/streams/${rtmsStreamId}`)).status).toBe(404);
    expect(rig.simulator.rejections.filter((rejection) => rejection.rtmsStreamId === rtmsStreamId)).toEqual([]);
  });

  it("a duplicate start (Zoom's retry, or a repeat with the same URLs) opens no second connection", async () => {
    const stream = await rig.simulator.startStream({ product: 'meeting' });
    await stream.whenReady();
    const retry = await stream.resendStart();
    expect(retry.status).toBe(200);
    expect(JSON.parse(retry.body)).toEqual({ status: 'duplicate' });
    // Same server_urls, new event_ts: not a dedup hit, but the stream is healthy.
    expect((await stream.announce()).status).toBe(200);
    await untilAudioSent(stream, 32_000);
    await stream.stop();
    await waitUntilEnded(rig, stream);
    expect(stream.connections.signalingAccepted).toBe(1);
    expect(stream.connections.signalingRejectedDuplicate).toBe(0);
    await expectAudioIdentical(rig, stream);
  });

  it('interrupted: rejoins signaling and media with the stored URL, no audio lost or duplicated', async () => {
    const stream = await rig.simulator.startStream({ product: 'meeting' });
    await stream.whenReady();
    await untilAudioSent(stream, 32_000);
    await stream.interrupt();
    await stream.whenReady(2);
    await untilAudioSent(stream, 96_000);
    await stream.stop();
    const snapshot = await waitUntilEnded(rig, stream);
    expect(snapshot).toMatchObject({ state: 'ended', reconnects: 1 });
    expect(Object.entries(snapshot['rejoins'] as Record<string, number>)).toEqual([[expect.stringMatching(/^full\//), 1]]);
    expect(stream.connections.signalingAccepted).toBe(2);
    await expectAudioIdentical(rig, stream);
    await expectEveryFrameAccounted(rig, stream);
  });

  it('interrupted while still joining (media handshakes under way): rejoins instead of failing', async () => {
    const stream = await rig.simulator.startStream({ product: 'meeting' });
    // The simulator is ready once CLIENT_READY_ACK arrives, while the connector may still be
    // handshaking its other media sockets: the interruption lands in the middle of the join.
    await stream.whenReady();
    await stream.interrupt();
    await stream.whenReady(2);
    await untilAudioSent(stream, 64_000);
    await stream.stop();
    const snapshot = await waitUntilEnded(rig, stream);
    expect(snapshot['state']).toBe('ended');
    await expectAudioIdentical(rig, stream);
  });

  it('media dropped: rejoins media only, no audio lost', async () => {
    const stream = await rig.simulator.startStream({ product: 'meeting' });
    await stream.whenReady();
    await untilAudioSent(stream, 32_000);
    const mediaBefore = stream.connections.mediaAccepted;
    await stream.dropMedia();
    await expectOneMediaOnlyRejoin(rig, stream);
    expect(stream.connections.mediaAccepted).toBeGreaterThan(mediaBefore);
  });

  it('media dropped again mid-rejoin: the socket lost while another one rejoins is rejoined too', async () => {
    const stream = await rig.simulator.startStream({ product: 'meeting' });
    await stream.whenReady();
    await untilAudioSent(stream, 32_000);
    // Chat (the last media socket the connector rejoins) drops; while its new handshake waits
    // for an answer, the audio socket, already passed over as open, drops too.
    stream.holdNextMediaHandshake(500, () => void stream.dropMedia('audio'));
    await stream.dropMedia('chat');
    await expectOneMediaOnlyRejoin(rig, stream);
  });

  it('media handshake never answered: after the timeout that socket is opened again, not taken for joined', async () => {
    const impatient = await startRig({ RTMS_HANDSHAKE_TIMEOUT_MS: '1000' });
    try {
      const stream = await impatient.simulator.startStream({ product: 'meeting' });
      await stream.whenReady();
      await untilAudioSent(stream, 32_000);
      stream.holdNextMediaHandshake(Number.POSITIVE_INFINITY);
      await stream.dropMedia('chat');
      await expectOneMediaOnlyRejoin(impatient, stream);
    } finally {
      await impatient.close();
    }
  });

  it('failover: a new rtms_started with new server_urls moves the stream to the new server', async () => {
    const stream = await rig.simulator.startStream({ product: 'webinar' });
    await stream.whenReady();
    await untilAudioSent(stream, 32_000);
    expect((await stream.failover()).status).toBe(200);
    await stream.whenReady(2);
    await untilAudioSent(stream, 96_000);
    await stream.stop();
    const snapshot = await waitUntilEnded(rig, stream);
    expect(snapshot).toMatchObject({ state: 'ended', reconnects: 1, rejoins: { 'full/failover': 1 } });
    expect(stream.connections.signalingAccepted).toBe(2);
    await expectAudioIdentical(rig, stream);
  });

  it('DELETE /streams/{id} closes the stream through Zoom (STREAM_CLOSE) and finalizes its files', async () => {
    const stream = await rig.simulator.startStream({ product: 'session' });
    await stream.whenReady();
    await untilAudioSent(stream, 16_000);
    expect((await rig.connector.admin(`/streams/${stream.rtmsStreamId}`, 'DELETE')).status).toBe(202);
    const end = await stream.whenEnded();
    expect(end).toMatchObject({ cause: 'closeRequest', stopReason: 20 });
    expect(await waitUntilEnded(rig, stream)).toMatchObject({ state: 'ended' });
    await expectAudioIdentical(rig, stream);
  });
});
