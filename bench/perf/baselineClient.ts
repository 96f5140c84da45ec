/**
 * The floor any Node RTMS client pays: a bare client that handshakes (signaling, event
 * subscription, media sockets, CLIENT_READY_ACK, exactly the connector's sequence and
 * socket layout), answers keep-alives, `JSON.parse`s every message, base64-decodes every
 * audio / video payload, and discards it. No buffering, no files, no metrics on the hot path
 * beyond a counter and a latency histogram slot.
 *
 * It runs in its own process, forked by `clientUnderTest.ts` with an IPC channel, and is started by
 * webhooks like the connector: a tiny HTTP receiver answers every POST with 200 and joins the
 * stream named by `*.rtms_started` (no signature check: it runs once per stream, not per frame).
 *
 * Configuration: `PERF_BASELINE_CONFIG` (JSON, see `BaselineClientConfig`). Requests and
 * replies: `perfIpc.ts`. The process exits when its parent goes away.
 */
import http from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import WebSocket, { type RawData } from 'ws';
import type { MediaConfig } from '../../src/config.ts';
import { MessageType, SUBSCRIBED_EVENTS } from '../../src/rtms/codes.ts';
import { mediaTypeMask, requestedMediaParams } from '../../src/rtms/mediaParams.ts';
import { handshakeSignature } from '../../src/rtms/signature.ts';
import { decodeHandshakeResponse } from '../../src/rtms/decodeRtmsMessage.ts';
import { planMedia } from '../../src/worker/session/mediaPlan.ts';
import { type BaselineClientConfig, type BaselineMessage, type BaselineRequest, type BaselineStats, LATENCY_MAX_MS } from './perfIpc.ts';

const config = JSON.parse(process.env['PERF_BASELINE_CONFIG'] ?? '{}') as BaselineClientConfig;
const wanted = config.media;
const mediaConfig: MediaConfig = {
  kinds: wanted,
  audio: { mode: 'mixed', sampleRateHz: 16000, channels: 1, sendRateMs: config.audioSendRateMs, gapFill: 'none' },
  video: { codec: 'h264', fps: 25, resolution: 'hd' },
  deskshare: { codec: 'jpg', fps: 1, resolution: 'fhd' },
  transcript: { sourceLanguage: 9, languageIdentification: true },
  bufferStartupAudio: true,
};
// ── counters (plain numbers and typed arrays: nothing allocated per frame) ───────────────

const frames = { audio: 0, video: 0, transcript: 0, chat: 0, deskshare: 0 };
let malformed = 0;
let keepAlivesAnswered = 0;
let streamsStarted = 0;
let streamsLive = 0;
let joinFailures = 0;
let socketsLost = 0;
let audioLatency = new Uint32Array(LATENCY_MAX_MS + 1);
let videoLatency = new Uint32Array(LATENCY_MAX_MS + 1);
const loopDelay = monitorEventLoopDelay({ resolution: 10 });
loopDelay.enable();
const sockets = new Set<WebSocket>();
let closing = false;

function recordLatency(histogram: Uint32Array, timestamp: unknown): void {
  if (typeof timestamp !== 'number') return;
  const ms = Date.now() - timestamp;
  const slot = ms < 0 ? 0 : ms > LATENCY_MAX_MS ? LATENCY_MAX_MS : Math.round(ms);
  histogram[slot] = (histogram[slot] ?? 0) + 1;
}

function sparse(histogram: Uint32Array): Array<[number, number]> {
  const pairs: Array<[number, number]> = [];
  for (let ms = 0; ms < histogram.length; ms += 1) {
    const count = histogram[ms] ?? 0;
    if (count > 0) pairs.push([ms, count]);
  }
  return pairs;
}

// ── one RTMS socket: parse, answer keep-alives, hand the rest on ───────────────────────

type Handler = (message: Record<string, unknown>, socket: WebSocket) => void;

function openSocket(url: string, onMessage: Handler, onLost: () => void): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false, maxPayload: 32 * 1024 * 1024, handshakeTimeout: 60_000 });
    ws.on('message', (data: RawData, isBinary: boolean) => {
      if (isBinary) {
        malformed += 1;
        return;
      }
      let message: unknown;
      try {
        message = JSON.parse(data.toString());
      } catch {
        malformed += 1;
        return;
      }
      if (message === null || typeof message !== 'object') {
        malformed += 1;
        return;
      }
      const record = message as Record<string, unknown>;
      if (record['msg_type'] === MessageType.KEEP_ALIVE_REQ) {
        ws.send(JSON.stringify({ msg_type: MessageType.KEEP_ALIVE_RESP, timestamp: record['timestamp'] }));
        keepAlivesAnswered += 1;
        return;
      }
      onMessage(record, ws);
    });
    ws.once('open', () => {
      sockets.add(ws);
      resolve(ws);
    });
    ws.once('error', reject);
    ws.on('error', () => {});
    ws.once('close', () => {
      sockets.delete(ws);
      if (!closing) onLost();
    });
  });
}

/** Resolves with the next message of `msgType` seen by `register`'s handler. */
function waitFor(msgType: number, timeoutMs: number): { handler: Handler; reply: Promise<Record<string, unknown>> } {
  let resolveReply!: (message: Record<string, unknown>) => void;
  let rejectReply!: (error: Error) => void;
  const reply = new Promise<Record<string, unknown>>((resolve, reject) => {
    resolveReply = resolve;
    rejectReply = reject;
  });
  const timer = setTimeout(() => rejectReply(new Error(`no msg_type ${msgType} within ${timeoutMs} ms`)), timeoutMs);
  let settled = false;
  const handler: Handler = (message) => {
    if (!settled && message['msg_type'] === msgType) {
      settled = true;
      clearTimeout(timer);
      resolveReply(message);
    }
  };
  return { handler, reply };
}

// ── media: the floor ─────────────────────────────────────────────────────────────────────

const onMedia: Handler = (message) => {
  const content = message['content'] as Record<string, unknown> | undefined;
  const data = content?.['data'];
  switch (message['msg_type']) {
    case MessageType.MEDIA_DATA_AUDIO:
      if (typeof data !== 'string') break;
      if (Buffer.from(data, 'base64').length === 0) malformed += 1;
      frames.audio += 1;
      recordLatency(audioLatency, content?.['timestamp']);
      break;
    case MessageType.MEDIA_DATA_VIDEO:
      if (typeof data !== 'string') break;
      if (Buffer.from(data, 'base64').length === 0) malformed += 1;
      frames.video += 1;
      recordLatency(videoLatency, content?.['timestamp']);
      break;
    case MessageType.MEDIA_DATA_SHARE:
      if (typeof data === 'string' && Buffer.from(data, 'base64').length === 0) malformed += 1;
      frames.deskshare += 1;
      break;
    case MessageType.MEDIA_DATA_TRANSCRIPT:
      frames.transcript += 1;
      break;
    case MessageType.MEDIA_DATA_CHAT:
      frames.chat += 1;
      break;
  }
};

// ── joining a stream (the connector's sequence, docs/protocol.md#joining-a-stream) ─────────────────────

interface StartPayload {
  readonly rtmsStreamId: string;
  readonly entityKey: string;
  readonly entityId: string;
  readonly signalingUrl: string;
}

async function join(start: StartPayload): Promise<void> {
  const signature = handshakeSignature({
    clientId: config.clientId,
    clientSecret: config.clientSecret,
    entityId: start.entityId,
    rtmsStreamId: start.rtmsStreamId,
  });
  const handshake = waitFor(MessageType.SIGNALING_HAND_SHAKE_RESP, 60_000);
  let signalingHandler: Handler = handshake.handler;
  const signaling = await openSocket(
    start.signalingUrl,
    (message, ws) => signalingHandler(message, ws),
    () => (socketsLost += 1),
  );
  signaling.send(
    JSON.stringify({
      msg_type: MessageType.SIGNALING_HAND_SHAKE_REQ,
      protocol_version: 1,
      sequence: 1,
      [start.entityKey]: start.entityId,
      rtms_stream_id: start.rtmsStreamId,
      signature,
      buffer_data: true,
    }),
  );
  const reply = await handshake.reply;
  // Events and state updates are parsed (above) and dropped.
  signalingHandler = () => {};
  if (reply['status_code'] !== 0) throw new Error(`signaling handshake refused: ${String(reply['status_code'])}`);
  signaling.send(
    JSON.stringify({ msg_type: MessageType.EVENT_SUBSCRIPTION, events: SUBSCRIBED_EVENTS.map((event_type) => ({ event_type, subscribe: true })) }),
  );

  // The connector's own plan: one socket per kind when every wanted kind is offered, else `all`.
  for (const connection of planMedia(decodeHandshakeResponse({ msg_type: MessageType.SIGNALING_HAND_SHAKE_RESP, ...reply }), wanted).connections) {
    const dataHandshake = waitFor(MessageType.DATA_HAND_SHAKE_RESP, 60_000);
    let handler: Handler = dataHandshake.handler;
    const socket = await openSocket(
      connection.url,
      (message, ws) => handler(message, ws),
      () => (socketsLost += 1),
    );
    socket.send(
      JSON.stringify({
        msg_type: MessageType.DATA_HAND_SHAKE_REQ,
        protocol_version: 1,
        sequence: 1,
        [start.entityKey]: start.entityId,
        rtms_stream_id: start.rtmsStreamId,
        signature,
        media_type: connection.key === 'all' ? 32 : mediaTypeMask(connection.kinds),
        media_params: requestedMediaParams(mediaConfig, connection.kinds),
        payload_encryption: false,
      }),
    );
    const dataReply = await dataHandshake.reply;
    if (dataReply['status_code'] !== 0) throw new Error(`media handshake refused: ${String(dataReply['status_code'])}`);
    handler = onMedia;
    signaling.send(JSON.stringify({ msg_type: MessageType.CLIENT_READY_ACK, rtms_stream_id: start.rtmsStreamId }));
  }
  streamsLive += 1;
}

function parseStart(body: Record<string, unknown>): StartPayload | undefined {
  const raw = (body['payload'] ?? {}) as Record<string, unknown>;
  const payload = (typeof raw['object'] === 'object' && raw['object'] !== null ? raw['object'] : raw) as Record<string, unknown>;
  const entityKey = ['meeting_uuid', 'webinar_uuid', 'session_id', 'engagement_id'].find((key) => typeof payload[key] === 'string');
  const rtmsStreamId = payload['rtms_stream_id'];
  const serverUrls = payload['server_urls'];
  if (entityKey === undefined || typeof rtmsStreamId !== 'string' || typeof serverUrls !== 'string') return undefined;
  const signalingUrl =
    serverUrls
      .split(',')
      .map((url) => url.trim())
      .find((url) => url.startsWith('ws')) ?? serverUrls;
  return { rtmsStreamId, entityKey, entityId: payload[entityKey] as string, signalingUrl };
}

// ── webhook receiver ─────────────────────────────────────────────────────────────────────

const server = http.createServer((request, response) => {
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString()) as Record<string, unknown>;
    } catch {
      return;
    }
    if (typeof body['event'] !== 'string' || !body['event'].endsWith('rtms_started')) return;
    const start = parseStart(body);
    if (start === undefined) return;
    streamsStarted += 1;
    join(start).catch(() => (joinFailures += 1));
  });
});
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  if (address !== null && typeof address === 'object') send({ type: 'listening', port: address.port });
});

// ── IPC ──────────────────────────────────────────────────────────────────────────────────

function send(message: BaselineMessage): void {
  process.send?.(message);
}

function stats(): BaselineStats {
  return {
    at: Date.now(),
    streamsStarted,
    streamsLive,
    joinFailures,
    socketsLost,
    frames: { ...frames },
    malformed,
    keepAlivesAnswered,
    latency: { audio: sparse(audioLatency), video: sparse(videoLatency) },
    eventLoopP99Seconds: loopDelay.percentile(99) / 1e9,
  };
}

process.on('message', (request: BaselineRequest) => {
  switch (request.type) {
    case 'resetWindow':
      audioLatency = new Uint32Array(LATENCY_MAX_MS + 1);
      videoLatency = new Uint32Array(LATENCY_MAX_MS + 1);
      loopDelay.reset();
      send({ type: 'reply', id: request.id });
      break;
    case 'stats':
      send({ type: 'reply', id: request.id, stats: stats() });
      break;
  }
});

function shutdown(): void {
  closing = true;
  for (const socket of sockets) socket.terminate();
  server.close();
  process.exit(0);
}
process.on('disconnect', shutdown);
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
