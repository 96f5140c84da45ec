import { DataOption, EventType, MessageType, RtmsSessionState, RtmsStreamState, StatusCode, StopReason } from './connectorShared.ts';
import type { Channel, InboundMessage, PeerSocket } from './peerSocket.ts';
import { sendEvent, sendSignaling, sendZccEvent, type StreamCore, ZccEvent } from './streamCore.ts';
import { reapClosedMedia } from './streamConnectionLoss.ts';
import { recordRejection } from './streamHandshakes.ts';
import { checkWhole, finish } from './streamLifecycle.ts';
import { flush } from './streamMedia.ts';
import { sessionStateUpdate, signalingHandshakeResponse } from './wireMessages.ts';

/*
 * What the client sends once joined: keep-alive answers, CLIENT_READY_ACK, event and video
 * subscriptions, state requests and the close request. Anything else is counted and ignored.
 */

export function onSignalingMessage(s: StreamCore, socket: PeerSocket, message: InboundMessage): void {
  if (socket !== s.signaling) return;
  const type = message?.['msg_type'];
  switch (type) {
    case MessageType.KEEP_ALIVE_RESP:
      socket.keepAliveAnswered();
      return;
    case MessageType.CLIENT_READY_ACK:
      return onReadyAck(s, message as Record<string, unknown>);
    case MessageType.EVENT_SUBSCRIPTION:
      return onSubscription(s, message as Record<string, unknown>);
    case MessageType.SESSION_STATE_REQ: {
      const sessionId = message?.['rtms_session_id'];
      const known = sessionId === undefined || sessionId === s.rtmsSessionId;
      socket.send({
        msg_type: MessageType.SESSION_STATE_RESP,
        rtms_session_id: typeof sessionId === 'string' ? sessionId : s.rtmsSessionId,
        state: !known ? RtmsSessionState.INACTIVE : s.ready ? RtmsSessionState.STARTED : RtmsSessionState.INITIALIZE,
        ...(known ? {} : { status_code: StatusCode.INVALID_RTMS_SESSION_ID, reason: 'unknown rtms_session_id' }),
        timestamp: s.host.now(),
      });
      return;
    }
    case MessageType.STREAM_STATE_REQ:
      reapClosedMedia(s);
      socket.send({
        msg_type: MessageType.STREAM_STATE_RESP,
        rtms_stream_id: s.rtmsStreamId,
        state: s.lostKinds.size > 0 ? RtmsStreamState.INTERRUPTED : RtmsStreamState.ACTIVE,
        timestamp: s.host.now(),
      });
      return;
    case MessageType.STREAM_CLOSE_REQ:
      socket.send({
        msg_type: MessageType.STREAM_CLOSE_RESP,
        rtms_stream_id: s.rtmsStreamId,
        status_code: StatusCode.OK,
        reason: 'OK',
        timestamp: s.host.now(),
      });
      s.logger.info('client requested stream close');
      void finish(s, {
        stopReason: StopReason.RECEIVER_REQUEST_CLOSE,
        cause: 'closeRequest',
        notifyClient: true,
        webhook: true,
        graceful: true,
      });
      return;
    case MessageType.VIDEO_SUBSCRIPTION_REQ:
      return onVideoSubscription(s, socket, message as Record<string, unknown>);
    case MessageType.SIGNALING_HAND_SHAKE_REQ:
      // A second handshake on an established socket: same answer as a second socket.
      s.connections.signalingRejectedDuplicate += 1;
      recordRejection(s, 'signaling', StatusCode.DUPLICATE_SIGNAL_REQUEST, 'duplicate signal request');
      socket.send(signalingHandshakeResponse(StatusCode.DUPLICATE_SIGNAL_REQUEST, 'duplicate signal request'));
      return;
    default:
      countUnknownMessage(s, 'signaling', type);
  }
}

export function onMediaMessage(s: StreamCore, socket: PeerSocket, message: InboundMessage): void {
  const type = message?.['msg_type'];
  if (type === MessageType.KEEP_ALIVE_RESP) {
    socket.keepAliveAnswered();
  } else if (type === MessageType.CLIENT_READY_ACK) {
    // Belongs on signaling; accepted here too, leniently.
    onReadyAck(s, message as Record<string, unknown>);
  } else {
    countUnknownMessage(s, 'media', type);
  }
}

export function countUnknownMessage(s: StreamCore, channel: Channel, type: unknown): void {
  s.connections.unknownMessages += 1;
  s.logger.warn({ channel, msgType: typeof type === 'number' ? type : String(type) }, 'ignored unexpected message');
}

export function onReadyAck(s: StreamCore, message: Record<string, unknown>): void {
  const streamId = message['rtms_stream_id'];
  if (streamId !== undefined && streamId !== s.rtmsStreamId) {
    countUnknownMessage(s, 'signaling', MessageType.CLIENT_READY_ACK);
    return;
  }
  s.connections.readyAcks += 1;
  reapClosedMedia(s);
  if (!s.ready && s.state === 'connected') {
    const now = s.host.now();
    s.ready = true;
    if (s.firstReadyAt === undefined) {
      s.firstReadyAt = now;
      // buffer_data: false drops what was produced before the first join completed.
      if (!s.bufferStartupAudio) s.backlog.clear();
    }
    sendSignaling(s, sessionStateUpdate(s.rtmsSessionId, RtmsSessionState.STARTED, 0, now));
  }
  checkWhole(s);
  flush(s);
}

export function onSubscription(s: StreamCore, message: Record<string, unknown>): void {
  const events = message['events'];
  if (!Array.isArray(events)) {
    countUnknownMessage(s, 'signaling', MessageType.EVENT_SUBSCRIPTION);
    return;
  }
  const added: number[] = [];
  for (const entry of events) {
    const type = (entry as Record<string, unknown> | null)?.['event_type'];
    if (typeof type !== 'number') continue;
    if ((entry as Record<string, unknown>)['subscribe'] === false) {
      s.subscribed.delete(type);
    } else if (!s.subscribed.has(type)) {
      s.subscribed.add(type);
      added.push(type);
    }
  }
  sendSnapshot(s, added);
}

/** On subscription, tell the client the current state of what it just subscribed to. */
export function sendSnapshot(s: StreamCore, types: readonly number[]): void {
  const now = s.host.now();
  if (s.product === 'contact_center') {
    for (const type of types) {
      const party = type === ZccEvent.USER_ANSWERED ? s.participants[0] : type === ZccEvent.CONSUMER_ANSWERED ? s.participants[1] : undefined;
      if (party !== undefined) sendZccEvent(s, type, party, now);
    }
    return;
  }
  for (const type of types) {
    switch (type) {
      case EventType.PARTICIPANT_JOIN:
        sendEvent(s, {
          event_type: EventType.PARTICIPANT_JOIN,
          timestamp: now,
          participants: s.participants.map((p) => ({ user_id: p.userId, user_name: p.userName })),
        });
        break;
      case EventType.ACTIVE_SPEAKER_CHANGE: {
        const speaker = s.producer?.activeSpeaker;
        if (speaker !== undefined) {
          sendEvent(s, { event_type: EventType.ACTIVE_SPEAKER_CHANGE, timestamp: now, user_id: speaker.userId, user_name: speaker.userName });
        }
        break;
      }
      case EventType.PARTICIPANT_VIDEO_ON: {
        const cameras = s.producer?.camerasOn() ?? s.participants;
        if (s.scopes.includes('video') && cameras.length > 0) {
          sendEvent(s, { event_type: EventType.PARTICIPANT_VIDEO_ON, timestamp: now, participants: cameras.map((p) => ({ user_id: p.userId })) });
        }
        break;
      }
      case EventType.SHARING_START: {
        const sharer = s.participants[0];
        if (s.scopes.includes('deskshare') && sharer !== undefined) {
          sendEvent(s, { event_type: EventType.SHARING_START, timestamp: now, user_id: sharer.userId, user_name: sharer.userName });
        }
        break;
      }
    }
  }
}

export function onVideoSubscription(s: StreamCore, socket: PeerSocket, message: Record<string, unknown>): void {
  const userId = message['user_id'];
  const subscribe = message['subscribe'] !== false;
  const answer = (statusCode: number, reason: string): void =>
    socket.send({ msg_type: MessageType.VIDEO_SUBSCRIPTION_RESP, user_id: userId, status_code: statusCode, reason, timestamp: s.host.now() });
  const participant = s.participants.find((p) => p.userId === Number(userId));
  if (s.producer?.params.video?.data_opt !== DataOption.VIDEO_SINGLE_INDIVIDUAL_STREAM)
    return answer(StatusCode.INVALID_MEDIA_VIDEO_DATA_OPT, 'video data_opt must be 4 (individual stream)');
  if (participant === undefined) return answer(StatusCode.INVALID_PAYLOAD, 'unknown user_id');
  if (subscribe && s.producer.videoSubscription === participant) return answer(StatusCode.DUPLICATE_VIDEO_SUBSCRIPTION, 'duplicate video subscription');
  s.producer.subscribeVideo(subscribe ? participant : undefined);
  answer(StatusCode.OK, '');
}
