import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handshakeSignature } from '../../../src/rtms/signature.ts';
import { startSimulator, type SimulatedStream } from 'rtms-simulator';
import { randomCredentials, startRig, waitUntilEnded, type Rig } from '../connectorHarness.ts';
import { eventually } from '../../support/eventually.ts';

/**
 * A full connector session at LOG_LEVEL=debug (streams of several products with
 * transcripts, chat and named participants, an interrupt, admin calls with right and wrong
 * tokens, a forged webhook, a stream whose handshake signature Zoom refuses, shutdown), then
 * every line the connector process wrote, stdout and stderr, is searched for what must never
 * be logged: the secrets, handshake signatures, what people said or typed, and their names.
 */

const ADMIN_TOKEN = 'admin-token-for-tests-0123456789abcdef';

let rig: Rig | undefined;
const streams: SimulatedStream[] = [];
/** Handshake signatures the connector computed (with its secret) or Zoom expected (with another). */
const signatures: string[] = [];
let foreignSecret = '';

async function untilLive(stream: SimulatedStream): Promise<void> {
  await stream.whenReady();
  await rig!.connector.waitForStream(stream.rtmsStreamId, (snapshot) => snapshot['state'] === 'live');
}

async function until(condition: () => boolean, what: string, timeoutMs = 25_000): Promise<void> {
  await eventually(condition, { what, timeoutMs });
}

beforeAll(async () => {
  rig = await startRig({ LOG_LEVEL: 'debug', RTMS_AUDIO_MODE: 'multi' });
  const zoom = rig.simulator;
  const meeting = await zoom.startStream({ product: 'meeting', participants: 3 });
  const call = await zoom.startStream({ product: 'contact_center' });
  const session = await zoom.startStream({ product: 'session', participants: 2 });
  streams.push(meeting, call, session);
  await Promise.all(streams.map(untilLive));

  await meeting.interrupt();
  await meeting.whenReady(2);

  // Admin API: list, one stream, a wrong token, a participant exclusion.
  expect((await rig.connector.admin('/streams')).status).toBe(200);
  expect((await rig.connector.admin(`/streams/${meeting.rtmsStreamId}`)).status).toBe(200);
  const wrong = await fetch(`${rig.connector.baseUrl}/streams`, { headers: { authorization: 'Bearer not-the-admin-token' } });
  expect(wrong.status).toBe(401);
  await wrong.arrayBuffer();
  const excluded = meeting.participants[2]!;
  expect((await rig.connector.admin(`/streams/${meeting.rtmsStreamId}/participants/${excluded.userId}`, 'DELETE')).status).toBe(202);

  // A forged webhook (wrong secret token) and a stale one.
  const forged = {
    event: 'meeting.rtms_started',
    event_ts: Date.now(),
    payload: { meeting_uuid: 'forged==', operator_id: 'x', rtms_stream_id: 'e0'.repeat(16), server_urls: zoom.signalingUrl },
  };
  expect((await zoom.sendWebhook(forged, { secretToken: 'not-the-secret-token' })).status).toBe(401);
  expect((await zoom.sendWebhook(forged, { timestamp: String(Math.floor(Date.now() / 1000) - 3600) })).status).toBe(401);

  // A Zoom that knows another client secret: the webhook verifies, the handshake does not.
  const foreign = { ...randomCredentials(), clientId: rig.credentials.clientId, webhookSecretToken: rig.credentials.webhookSecretToken };
  foreignSecret = foreign.clientSecret;
  const otherZoom = await startSimulator({ credentials: foreign, webhookUrl: rig.connector.webhookUrl, seed: 5, joinTimeoutMs: 0 });
  try {
    const refused = await otherZoom.startStream({ product: 'webinar' });
    const snapshot = await waitUntilEnded(rig, refused);
    expect(snapshot['state']).toBe('failed');
    signatures.push(
      handshakeSignature({ clientId: foreign.clientId, clientSecret: foreign.clientSecret, entityId: refused.entityId, rtmsStreamId: refused.rtmsStreamId }),
    );
    signatures.push(
      handshakeSignature({
        clientId: foreign.clientId,
        clientSecret: rig.credentials.clientSecret,
        entityId: refused.entityId,
        rtmsStreamId: refused.rtmsStreamId,
      }),
    );
  } finally {
    await otherZoom.close();
  }

  // Enough conversation: several transcript lines and at least one chat message.
  await until(() => meeting.sent.transcriptCount() >= 3 && meeting.sent.chatCount() >= 1, 'three transcript lines and a chat message');
  await until(() => call.sent.transcriptCount() >= 1, 'a Contact Center transcript line');
  await meeting.stop();
  await call.stop();
  await Promise.all([waitUntilEnded(rig, meeting), waitUntilEnded(rig, call)]);
  // `session` is still live: SIGTERM closes it, so shutdown logging is covered too.
  for (const stream of streams) {
    signatures.push(
      handshakeSignature({
        clientId: rig.credentials.clientId,
        clientSecret: rig.credentials.clientSecret,
        entityId: stream.entityId,
        rtmsStreamId: stream.rtmsStreamId,
      }),
    );
  }
  await rig.simulator.close();
  expect(await rig.connector.stop('SIGTERM')).toBe(0);
}, 90_000);

afterAll(async () => {
  await rig?.close();
}, 60_000);

describe('connector logs', () => {
  it('never contain secrets, signatures, transcript or chat text, or participant names', () => {
    const lines = rig!.connector.logLines;
    expect(lines.length).toBeGreaterThan(20);
    // The session really had content to leak.
    const transcripts = streams.flatMap((stream) => stream.sent.transcripts().map((line) => line.text));
    const chats = streams.flatMap((stream) => stream.sent.chats().map((line) => line.text));
    const names = streams.flatMap((stream) => stream.participants.map((participant) => participant.userName));
    expect(transcripts.length).toBeGreaterThanOrEqual(4);
    expect(chats.length).toBeGreaterThanOrEqual(1);

    const needles: Array<{ what: string; value: string }> = [
      { what: 'client secret', value: rig!.credentials.clientSecret },
      { what: 'foreign client secret', value: foreignSecret },
      { what: 'webhook secret token', value: rig!.credentials.webhookSecretToken },
      { what: 'admin token', value: ADMIN_TOKEN },
      { what: 'wrong admin token', value: 'not-the-admin-token' },
      ...signatures.map((value) => ({ what: 'handshake signature', value })),
      ...transcripts.map((value) => ({ what: 'transcript text', value })),
      ...chats.map((value) => ({ what: 'chat text', value })),
      ...names.map((value) => ({ what: 'participant name', value })),
    ];
    const leaks: string[] = [];
    for (const { what, value } of needles) {
      expect(value.length).toBeGreaterThan(4);
      const line = lines.find((candidate) => candidate.includes(value));
      if (line !== undefined) leaks.push(`${what} ${JSON.stringify(value)} in: ${line.slice(0, 300)}`);
    }
    expect([...new Set(leaks)]).toEqual([]);
  });

  it('are pino JSON lines; per-stream lines carry the stream id', () => {
    const lines = rig!.connector.logLines;
    const entries = lines.map((line) => {
      try {
        return JSON.parse(line) as Record<string, unknown>;
      } catch {
        return { unparsable: line };
      }
    });
    expect(entries.filter((entry) => 'unparsable' in entry)).toEqual([]);
    for (const entry of entries) expect(typeof entry['msg'] === 'string' && typeof entry['level'] === 'number').toBe(true);
    const stateChanges = entries.filter((entry) => entry['msg'] === 'stream state changed');
    expect(stateChanges.length).toBeGreaterThan(0);
    for (const entry of stateChanges) expect(entry['rtmsStreamId']).toEqual(expect.any(String));
  });
});
