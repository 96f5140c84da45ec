import pino from 'pino';
import { WebSocket } from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import type { MediaKind } from '../../../../src/vocabulary/mediaKind.ts';
import { decodeMediaMessage } from '../../../../src/rtms/mediaMessage.ts';
import type { RtmsMessage } from '../../../../src/rtms/rtmsSocket.ts';
import { type ChaosKind, type SimulatedStream, type Simulator, UNKNOWN_MSG_TYPES, startSimulator } from '../../src/index.ts';
import { CREDENTIALS } from './helpers/harness.ts';
import { signatureOf } from './helpers/rawRtmsClient.ts';
import { WebhookReceiver } from './helpers/webhookReceiver.ts';
import { eventually } from '../../../../test/support/eventually.ts';

/**
 * The simulator's chaos mode seen from a deliberately tolerant client (not the connector):
 * every text frame is kept as it arrived, so the test can check that what the simulator
 * counts is exactly what went over the wire, and that the same seed injects the same things.
 */

const KINDS: readonly MediaKind[] = ['audio', 'video', 'deskshare', 'transcript', 'chat'];
const MEDIA_TYPE: Readonly<Record<MediaKind, number>> = { audio: 1, video: 2, deskshare: 4, transcript: 8, chat: 16 };
const UNKNOWN = new Set(UNKNOWN_MSG_TYPES);

/** Message-level chaos only: this client does not rejoin. */
const WEIGHTS: Partial<Record<ChaosKind, number>> = {
  killSignaling: 0,
  killMedia: 0,
  lateInterrupted: 0,
  staleStarted: 0,
  failover: 0,
  duplicateWebhook: 1,
  stall: 2,
  suppressKeepAlives: 1,
  malformedJson: 2,
  truncatedJson: 2,
  invalidFields: 3,
  unknownMessage: 2,
  oversizedFrame: 1,
};

class TolerantSocket {
  readonly texts: string[] = [];
  readonly closed: Promise<void>;
  readonly #ws: WebSocket;
  #onNext: (() => void) | undefined;

  constructor(ws: WebSocket) {
    this.#ws = ws;
    this.closed = new Promise((resolve) => ws.on('close', () => resolve()));
    ws.on('message', (data) => {
      const text = data.toString();
      this.texts.push(text);
      const message = parse(text);
      if (message?.['msg_type'] === 12) this.send({ msg_type: 13, timestamp: message['timestamp'] });
      const next = this.#onNext;
      this.#onNext = undefined;
      next?.();
    });
  }

  static open(url: string): Promise<TolerantSocket> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { maxPayload: 64 * 1024 * 1024 });
      ws.once('open', () => resolve(new TolerantSocket(ws)));
      ws.once('error', reject);
    });
  }

  send(message: object): void {
    if (this.#ws.readyState === WebSocket.OPEN) this.#ws.send(JSON.stringify(message));
  }

  /** Runs `callback` once, synchronously, right after the next text frame has been recorded. */
  onNextText(callback: () => void): void {
    this.#onNext = callback;
  }

  next(msgType: number): Promise<Record<string, unknown>> {
    return eventually(() => this.texts.map(parse).find((message) => message?.['msg_type'] === msgType), {
      what: `a message of type ${msgType}`,
      intervalMs: 5,
    });
  }

  terminate(): void {
    this.#ws.terminate();
  }
}

function parse(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** Signaling, then one media socket per kind (split mode), then CLIENT_READY_ACK. */
async function join(stream: SimulatedStream): Promise<{ signaling: TolerantSocket; media: Map<MediaKind, TolerantSocket> }> {
  const identity = {
    [stream.entityIdKey]: stream.entityId,
    rtms_stream_id: stream.rtmsStreamId,
    signature: signatureOf({ ...CREDENTIALS, entityId: stream.entityId, rtmsStreamId: stream.rtmsStreamId }),
  };
  const signaling = await TolerantSocket.open(stream.signalingUrl);
  signaling.send({ msg_type: 1, protocol_version: 1, sequence: 0, ...identity });
  const answer = await signaling.next(2);
  const urls = (answer['media_server'] as { server_urls: Record<string, string> }).server_urls;
  const media = new Map<MediaKind, TolerantSocket>();
  for (const kind of KINDS) {
    // The stand-in offers screen share under Zoom's RTMSManager key.
    const socket = await TolerantSocket.open(urls[kind === 'deskshare' ? 'sharescreen' : kind] ?? '');
    socket.send({ msg_type: 3, protocol_version: 1, sequence: 0, ...identity, media_type: MEDIA_TYPE[kind] });
    expect((await socket.next(4))['status_code']).toBe(0);
    media.set(kind, socket);
  }
  signaling.send({ msg_type: 7, rtms_stream_id: stream.rtmsStreamId });
  return { signaling, media };
}

let receiver: WebhookReceiver | undefined;
let sim: Simulator | undefined;
const sockets: TolerantSocket[] = [];
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.terminate();
  await sim?.close();
  await receiver?.close();
  sim = undefined;
  receiver = undefined;
});

async function runOnce(chaosSeed: number): Promise<{ stream: SimulatedStream; signaling: TolerantSocket; media: Map<MediaKind, TolerantSocket> }> {
  await sim?.close();
  await receiver?.close();
  receiver = await WebhookReceiver.start(CREDENTIALS.webhookSecretToken);
  sim = await startSimulator({
    credentials: CREDENTIALS,
    webhookUrl: receiver.url,
    seed: 1234,
    keepAliveIntervalMs: 100,
    logger: pino({ level: 'silent' }),
    chaos: {
      seed: chaosSeed,
      ratePerMinute: 240,
      quietStartMs: 200,
      weights: WEIGHTS,
      shortStallMs: [50, 150],
      longStallMs: [300, 500],
      keepAliveSuppressionMs: [200, 400],
    },
  });
  const stream = await sim.startStream({ participants: 3, durationMs: 4000 });
  const session = await join(stream);
  sockets.push(session.signaling, ...session.media.values());
  await stream.whenEnded();
  await Promise.all([session.signaling.closed, ...[...session.media.values()].map((socket) => socket.closed)]);
  return { stream, ...session };
}

describe('simulator chaos mode, seen from a tolerant client', () => {
  it('counts exactly what went over the wire: valid + malformed per kind, unknown types apart', { timeout: 30_000 }, async () => {
    const { stream, signaling, media } = await runOnce(99);
    expect(stream.end).toMatchObject({ cause: 'stopped', stopReason: 6 });
    expect(stream.chaos.enabled).toBe(true);
    expect(stream.chaos.applied()).toBeGreaterThan(5);
    expect(stream.sent.malformedCount()).toBeGreaterThan(0);
    for (const kind of KINDS) {
      const texts = media.get(kind)?.texts ?? [];
      let mediaMessages = 0;
      let unknown = 0;
      for (const text of texts) {
        const type = parse(text)?.['msg_type'];
        if (type === 12 || type === 4) continue; // keep-alive request, handshake answer
        if (typeof type === 'number' && UNKNOWN.has(type)) unknown += 1;
        else mediaMessages += 1;
      }
      expect({ kind, mediaMessages }).toEqual({ kind, mediaMessages: stream.sent.mediaMessageCount(kind) });
      expect({ kind, unknown }).toEqual({ kind, unknown: stream.sent.unknownCount(kind) });
    }
    const signalingUnknown = signaling.texts.filter((text) => UNKNOWN.has(parse(text)?.['msg_type'] as number)).length;
    expect(signalingUnknown).toBe(stream.sent.unknownCount('signaling'));
    // The real audio is untouched by chaos: the audio messages a client accepts are exactly the recorded audio.
    const accepted = (media.get('audio')?.texts ?? []).flatMap((text) => {
      const message = parse(text);
      if (message?.['msg_type'] !== 14) return [];
      const decoded = decodeMediaMessage(message as RtmsMessage, 'audio', 0);
      return decoded.ok ? [decoded.frame.data] : [];
    });
    expect(accepted).toHaveLength(stream.sent.validCount('audio'));
    expect(Buffer.concat(accepted).equals(stream.sent.audio('0'))).toBe(true);
  });

  it('a client that drops a socket while the simulator is busy: nothing written after the drop counts as delivered', { timeout: 30_000 }, async () => {
    receiver = await WebhookReceiver.start(CREDENTIALS.webhookSecretToken);
    sim = await startSimulator({ credentials: CREDENTIALS, webhookUrl: receiver.url, seed: 1234, logger: pino({ level: 'silent' }), reconnectGraceMs: 30_000 });
    const stream = await sim.startStream({ participants: 2 });
    const { signaling, media } = await join(stream);
    sockets.push(signaling, ...media.values());
    await stream.whenReady();
    const audio = media.get('audio');
    if (audio === undefined) throw new Error('no audio socket');
    await eventually(() => audio.texts.filter((text) => parse(text)?.['msg_type'] === 14).length >= 10, { what: '10 audio messages received' });
    const received = await new Promise<number>((resolve) =>
      audio.onNextText(() => {
        // Right after reading a message (nothing unread: the close is a FIN, not a reset)...
        audio.terminate();
        // ...the process stays busy for a while, as an overloaded simulator would.
        const until = Date.now() + 200;
        while (Date.now() < until);
        resolve(audio.texts.filter((text) => parse(text)?.['msg_type'] === 14).length);
      }),
    );
    await audio.closed;
    await eventually(() => stream.backlogSize('audio') > 0, { what: 'audio produced after the drop' });
    // Everything produced meanwhile waits in the backlog for a rejoin instead of being "sent" into a closed socket.
    expect(stream.sent.validCount('audio')).toBe(received);
    expect(stream.backlogSize('audio')).toBeGreaterThan(0);
  });

  it('the same chaos seed injects the same sequence; another seed, another', { timeout: 60_000 }, async () => {
    const summary = (stream: SimulatedStream): string[] => stream.chaos.log.map((entry) => `${entry.scheduled} ${entry.kind} ${entry.detail}`);
    const first = summary((await runOnce(5)).stream);
    const second = summary((await runOnce(5)).stream);
    const other = summary((await runOnce(6)).stream);
    const common = Math.min(first.length, second.length);
    expect(common).toBeGreaterThan(5);
    expect(second.slice(0, common)).toEqual(first.slice(0, common));
    expect(other.slice(0, 5)).not.toEqual(first.slice(0, 5));
  });
});
