import { EventType, type MediaKind, RtmsStreamState, StopReason } from './connectorShared.ts';
import type { BacklogItem } from './mediaBacklog.ts';
import type { PeerSocket } from './peerSocket.ts';
import { postWebhook, sendEvent, sendSignaling, type StreamCore, transition } from './streamCore.ts';
import { armDeadline } from './streamLifecycle.ts';
import { flush } from './streamMedia.ts';
import type { InterruptOptions } from './streamTypes.ts';
import { lifecycleWebhookBody } from './webhookBodies.ts';
import { streamStateUpdate } from './wireMessages.ts';

/*
 * Connection loss, from either side: the simulator cuts signaling or media (interrupt,
 * dropMedia, keep-alive misses) or the client closes a socket. Lost media kinds are
 * remembered until they reconnect; undelivered media goes back to the backlog.
 */

/** SimulatedStream.interrupt(), whose comment is the contract. */
export async function interrupt(s: StreamCore, options: InterruptOptions = {}): Promise<void> {
  await interruptSignaling(s, 'api', options);
}

/** SimulatedStream.dropMedia(), whose comment is the contract. */
export async function dropMedia(s: StreamCore, kind?: MediaKind): Promise<void> {
  if (s.state !== 'connected' || s.media.size === 0) return;
  const sockets = kind === undefined ? [...s.media] : [...s.media].filter((socket) => socket.kinds.includes(kind));
  if (sockets.length === 0) return;
  loseMedia(s, sockets, 'api');
}

export function onSignalingClosed(s: StreamCore, socket: PeerSocket, byServer: boolean): void {
  if (socket !== s.signaling) return;
  s.signaling = undefined;
  if (!byServer && s.state === 'connected') {
    s.logger.info('client dropped the signaling socket');
    void interruptSignaling(s, 'clientClosed');
  }
}

export function onMediaClosed(s: StreamCore, socket: PeerSocket, byServer: boolean): void {
  s.closing.delete(socket);
  // Audio this socket never wrote goes back in front of the backlog, in order (text is lost).
  s.backlog.requeueUndelivered(socket.takeUndelivered() as BacklogItem[]);
  if (s.media.has(socket)) {
    if (!byServer && s.state === 'connected') {
      s.logger.info({ kinds: socket.kinds }, 'client dropped a media socket');
      // loseMedia takes the socket out of `media` and records its kinds as lost.
      loseMedia(s, [socket], 'clientClosed');
    } else {
      s.media.delete(socket);
    }
  }
  flush(s);
}

/**
 * Media sockets the client has already closed (its close frame is in; the `close` event is
 * a few round trips away) are lost now: a STREAM_STATE_REQ or CLIENT_READY_ACK that arrives
 * in between must not see them as alive.
 */
export function reapClosedMedia(s: StreamCore): void {
  if (s.state !== 'connected') return;
  const gone = [...s.media].filter((socket) => !socket.isOpen);
  if (gone.length === 0) return;
  s.logger.info({ kinds: gone.flatMap((socket) => socket.kinds) }, 'client closed a media socket');
  loseMedia(s, gone, 'clientClosed');
}

/** Terminates every socket, remembering which media kinds must come back. */
export function dropAllSockets(s: StreamCore): void {
  for (const socket of s.media) {
    for (const kind of socket.kinds) s.lostKinds.add(kind);
    s.closing.add(socket);
    socket.terminate();
  }
  s.media.clear();
  const signaling = s.signaling;
  s.signaling = undefined;
  signaling?.terminate();
  s.ready = false;
  s.whole = false;
}

export async function interruptSignaling(s: StreamCore, cause: 'api' | 'keepAlive' | 'clientClosed', options: InterruptOptions = {}): Promise<void> {
  if (s.state !== 'connected') return;
  dropAllSockets(s);
  transition(s, 'interrupted');
  s.connections.interruptions += 1;
  if (cause === 'keepAlive') {
    armDeadline(s, s.host.settings.reconnectGraceMs, StopReason.KEEP_ALIVE_TIMEOUT, 'keepAliveTimeout');
  } else {
    armDeadline(s, s.host.settings.reconnectGraceMs, StopReason.AWAIT_RECONNECTION_TIMEOUT, 'graceExpired');
  }
  s.logger.info({ cause }, 'stream interrupted');
  const body = lifecycleWebhookBody({ kind: 'rtms_interrupted', stream: s.identity, eventTs: s.host.now(), payloadNesting: s.payloadNesting });
  const webhook = options.webhook ?? 'now';
  if (webhook === 'afterRejoin') {
    s.lateInterrupted = { body: JSON.stringify(body), delayMs: options.delayMs ?? 0, afterReady: s.readyCount, postAt: undefined };
    return;
  }
  if (webhook === 'never') return;
  await postWebhook(s, JSON.stringify(body)).catch(() => undefined);
}

export function loseMedia(s: StreamCore, sockets: readonly PeerSocket[], cause: 'api' | 'keepAlive' | 'clientClosed'): void {
  for (const socket of sockets) {
    if (!s.media.delete(socket)) continue;
    for (const kind of socket.kinds) s.lostKinds.add(kind);
    // Until its `close` event hands back what it never wrote, nothing of its kinds may overtake
    // that; terminating (also one the client is closing) makes that event come at once.
    if (!socket.isClosed) {
      s.closing.add(socket);
      socket.terminate();
    }
  }
  s.whole = false;
  s.connections.mediaInterruptions += 1;
  const now = s.host.now();
  sendEvent(s, { event_type: EventType.MEDIA_CONNECTION_INTERRUPTED, timestamp: now });
  sendSignaling(s, streamStateUpdate(RtmsStreamState.INTERRUPTED, StopReason.DATA_CONNECTION_INTERRUPTED, now));
  if (cause === 'keepAlive') {
    armDeadline(s, s.host.settings.mediaReconnectGraceMs, StopReason.KEEP_ALIVE_TIMEOUT, 'keepAliveTimeout');
  } else {
    armDeadline(s, s.host.settings.mediaReconnectGraceMs, StopReason.AWAIT_RECONNECTION_TIMEOUT, 'graceExpired');
  }
  s.logger.info({ cause, lost: [...s.lostKinds] }, 'media interrupted');
}
