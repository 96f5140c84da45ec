import { EventType, handshakeSignature, type MediaKind, nameOf, safeEqual, STATUS_CODE_NAMES, StatusCode } from './connectorShared.ts';
import { negotiateMedia } from './mediaNegotiation.ts';
import { MediaProducer } from './mediaProducer.ts';
import type { Channel, PeerSocket } from './peerSocket.ts';
import type { HandshakeRefusal } from './simulatorOptions.ts';
import { onMediaClosed, onSignalingClosed } from './streamConnectionLoss.ts';
import { sendEvent, type StreamCore, transition } from './streamCore.ts';
import { checkWhole } from './streamLifecycle.ts';
import { flush } from './streamMedia.ts';
import { onMediaMessage, onSignalingMessage } from './streamSignaling.ts';
import { dataHandshakeResponse, signalingHandshakeResponse } from './wireMessages.ts';

/*
 * Handshakes for one stream (the simulator routes a socket here once its first message
 * named the stream): signature and entity checks, duplicate signaling, media negotiation.
 */

/** Keys under which a handshake may carry the entity id (any one is accepted). */
const ENTITY_KEYS = ['meeting_uuid', 'webinar_uuid', 'session_id', 'engagement_id', 'call_id'] as const;

/** SimulatedStream.acceptSignaling(), whose comment is the contract. */
export function acceptSignaling(s: StreamCore, socket: PeerSocket, message: Record<string, unknown>): void {
  if (reachedOldServer(s, socket)) return;
  const refusal = verifyHandshake(s, socket, message);
  if (refusal !== undefined) return refuse(s, socket, refusal.statusCode, refusal.reason);
  const current = s.signaling;
  if (current !== undefined && !current.isOpen) {
    // The client already ended that connection (its close frame or FIN is in; the 'close'
    // event is a few round trips away): this handshake is a rejoin, not a second connection.
    onSignalingClosed(s, current, false);
  }
  if (s.signaling !== undefined) {
    s.connections.signalingRejectedDuplicate += 1;
    return refuse(s, socket, StatusCode.DUPLICATE_SIGNAL_REQUEST, 'duplicate signal request');
  }
  const now = s.host.now();
  transition(s, 'connected');
  s.signaling = socket;
  s.ready = false;
  s.subscribed = new Set();
  if (s.connections.signalingAccepted === 0) s.bufferStartupAudio = message['buffer_data'] !== false;
  s.connections.signalingAccepted += 1;
  socket.onMessage = (inbound) => onSignalingMessage(s, socket, inbound);
  socket.onClose = (byServer) => onSignalingClosed(s, socket, byServer);
  socket.startKeepAlive(now, s.host.settings.keepAliveIntervalMs);

  const urls: Record<string, string> = {};
  if (s.offerSplitMediaUrls) for (const kind of s.scopes) urls[kind === 'deskshare' ? s.shareUrlKey : kind] = s.host.mediaUrl(s.generation, kind);
  urls['all'] = s.host.mediaUrl(s.generation, 'all');
  socket.send(signalingHandshakeResponse(StatusCode.OK, '', urls));
  // Media time starts at the first join; later joins keep the original timeline.
  s.producer ??= new MediaProducer({
    product: s.product,
    participants: s.participants,
    seed: s.seed,
    mediaStartAt: now,
    backlog: s.backlog,
    syncMarks: s.syncMarks,
  });
  sendEvent(s, { event_type: EventType.FIRST_PACKET_TIMESTAMP, timestamp: s.producer.mediaStartAt });
  s.logger.info({ joins: s.connections.signalingAccepted }, 'signaling connected');
}

/** SimulatedStream.acceptMedia(), whose comment is the contract. */
export function acceptMedia(s: StreamCore, socket: PeerSocket, message: Record<string, unknown>): void {
  const hold = s.mediaHandshakeHold;
  if (hold !== undefined) {
    s.mediaHandshakeHold = undefined;
    hold.onArrival();
    if (hold.delayMs === Number.POSITIVE_INFINITY) return;
    setTimeout(() => {
      if (socket.isOpen) acceptMedia(s, socket, message);
    }, hold.delayMs);
    return;
  }
  if (reachedOldServer(s, socket)) return;
  const refusal = verifyHandshake(s, socket, message);
  if (refusal !== undefined) return refuse(s, socket, refusal.statusCode, refusal.reason);
  if (s.state !== 'connected' || s.producer === undefined) {
    return refuse(s, socket, StatusCode.INVALID_RTMS_STREAM_ID, 'no signaling connection for this stream');
  }
  const connectedKinds = new Set<MediaKind>();
  let hasAllSocket = false;
  // Sockets being torn down do not count: a fast rejoin must not look like a duplicate.
  for (const open of s.media) {
    for (const kind of open.kinds) connectedKinds.add(kind);
    hasAllSocket ||= open.all;
  }
  const negotiation = negotiateMedia({
    mediaType: message['media_type'],
    mediaParams: message['media_params'],
    scopes: s.scopes,
    connectedKinds,
    hasAllSocket,
  });
  if (!negotiation.ok) return refuse(s, socket, negotiation.statusCode, negotiation.reason);

  const now = s.host.now();
  socket.kinds = negotiation.kinds;
  socket.all = negotiation.all;
  s.media.add(socket);
  s.connections.mediaAccepted += 1;
  socket.onMessage = (inbound) => onMediaMessage(s, socket, inbound);
  socket.onClose = (byServer) => onMediaClosed(s, socket, byServer);
  socket.startKeepAlive(now, s.host.settings.keepAliveIntervalMs);
  s.producer.applyParams(negotiation.params, now - s.producer.mediaStartAt);
  socket.send(dataHandshakeResponse(StatusCode.OK, '', negotiation.params));
  for (const kind of negotiation.kinds) s.lostKinds.delete(kind);
  s.logger.info({ kinds: negotiation.kinds, all: negotiation.all }, 'media connected');
  checkWhole(s);
  flush(s);
}

/** SimulatedStream.recordRejection(), whose comment is the contract. */
export function recordRejection(s: StreamCore, channel: Channel, statusCode: number, reason: string): void {
  s.connections.handshakeRejections.push({ channel, statusCode, reason });
}

export function verifyHandshake(s: StreamCore, socket: PeerSocket, message: Record<string, unknown>): { statusCode: number; reason: string } | undefined {
  if (s.state === 'ended') return { statusCode: StatusCode.INVALID_RTMS_STREAM_ID, reason: 'the stream has ended' };
  if (socket.generation !== s.generation) {
    return { statusCode: StatusCode.INVALID_RTMS_STREAM_ID, reason: 'the stream is not served by this server' };
  }
  const presented = ENTITY_KEYS.map((key) => message[key]).filter((value): value is string => typeof value === 'string');
  if (presented.length === 0) {
    return { statusCode: StatusCode.INVALID_PAYLOAD, reason: `missing entity id (${ENTITY_KEYS.join(' | ')})` };
  }
  const signature = message['signature'];
  const expected = handshakeSignature({
    clientId: s.host.credentials.clientId,
    clientSecret: s.host.credentials.clientSecret,
    entityId: s.entityId,
    rtmsStreamId: s.rtmsStreamId,
  });
  // The signature binds the entity id, so a wrong id is a signature failure too.
  if (!presented.includes(s.entityId) || typeof signature !== 'string' || !safeEqual(expected, signature.toLowerCase())) {
    return { statusCode: StatusCode.INVALID_SIGNATURE, reason: 'invalid signature' };
  }
  return undefined;
}

export function refuse(s: StreamCore, socket: PeerSocket, statusCode: number, reason: string): void {
  recordRejection(s, socket.channel, statusCode, reason);
  s.logger.info({ channel: socket.channel, statusCode, status: nameOf(STATUS_CODE_NAMES, statusCode) }, 'handshake refused');
  refuseHandshake(socket, statusCode, reason, s.host.settings.handshakeRefusal);
}

/**
 * Refuses a handshake: 'statusMessage' answers with its status code (msg 2 or 4 by channel)
 * and closes; 'bareClose' closes with 1000 and nothing else.
 */
export function refuseHandshake(socket: PeerSocket, statusCode: number, reason: string, style: HandshakeRefusal = 'statusMessage'): void {
  if (style === 'bareClose') {
    void socket.close(1000, '');
    return;
  }
  socket.send(socket.channel === 'signaling' ? signalingHandshakeResponse(statusCode, reason) : dataHandshakeResponse(statusCode, reason));
  void socket.close(1000, nameOf(STATUS_CODE_NAMES, statusCode).slice(0, 120));
}

/**
 * A handshake that reached the server this stream failed over from: a failed server does not
 * answer at all, so the connection is dropped without a word (no status, no close frame).
 */
function reachedOldServer(s: StreamCore, socket: PeerSocket): boolean {
  if (socket.generation >= s.generation || s.state === 'ended') return false;
  s.connections.oldServerAttempts += 1;
  s.logger.info({ channel: socket.channel, generation: socket.generation }, 'handshake to a failed-over server dropped unanswered');
  socket.terminate();
  return true;
}
