import { EventType, StopReason } from './connectorShared.ts';
import type { BacklogItem } from './mediaBacklog.ts';
import type { PictureFrame, ProducerOutlet } from './mediaProducer.ts';
import type { PeerSocket } from './peerSocket.ts';
import { chaosTick } from './streamChaosSchedule.ts';
import { interruptSignaling, loseMedia } from './streamConnectionLoss.ts';
import { closingFor, sendEvent, socketFor, type StreamCore } from './streamCore.ts';
import { finish } from './streamLifecycle.ts';
import { mediaDataMessage, pictureMessage } from './wireMessages.ts';

/*
 * Media production and delivery: each scheduler tick checks deadlines and keep-alives, lets
 * the producer generate what is due, and writes the backlog to the sockets while they keep up.
 */

/** SimulatedStream.tick(), whose comment is the contract. */
export function tick(s: StreamCore, now: number): void {
  if (s.state === 'ended') return;
  if (s.deadline !== undefined && now >= s.deadline.at) {
    const { stopReason, cause } = s.deadline;
    s.logger.info({ cause, stopReason }, 'deadline expired');
    void finish(s, { stopReason, cause, notifyClient: true, webhook: true, graceful: true });
    return;
  }
  keepAlive(s, now);
  chaosTick(s, now);
  const producer = s.producer;
  if (producer === undefined) return;
  if (s.durationMs !== undefined && s.firstReadyAt !== undefined && now - s.firstReadyAt >= s.durationMs) {
    // Media up to the end instant goes out before the goodbye.
    producer.produce(s.firstReadyAt + s.durationMs - producer.mediaStartAt, s.outlet);
    flush(s);
    void finish(s, { stopReason: StopReason.MEETING_ENDED, cause: 'stopped', notifyClient: true, webhook: true, graceful: true });
    return;
  }
  producer.produce(now - producer.mediaStartAt, s.outlet);
  flush(s);
}

export function keepAlive(s: StreamCore, now: number): void {
  const { keepAliveIntervalMs, keepAliveMissLimit } = s.host.settings;
  const signaling = s.signaling;
  if (signaling !== undefined) {
    const outcome = signaling.keepAlive(now, keepAliveIntervalMs, keepAliveMissLimit);
    if (outcome === 'missed' || outcome === 'timeout') s.connections.keepAliveMisses += 1;
    if (outcome === 'timeout') {
      s.connections.keepAliveTimeouts.push({ channel: 'signaling', kinds: [] });
      s.logger.info('signaling keep-alive timeout');
      void interruptSignaling(s, 'keepAlive');
      return;
    }
  }
  for (const socket of [...s.media]) {
    const outcome = socket.keepAlive(now, keepAliveIntervalMs, keepAliveMissLimit);
    if (outcome === 'missed' || outcome === 'timeout') s.connections.keepAliveMisses += 1;
    if (outcome === 'timeout') {
      s.connections.keepAliveTimeouts.push({ channel: 'media', kinds: socket.kinds });
      s.logger.info({ kinds: socket.kinds }, 'media keep-alive timeout');
      loseMedia(s, [socket], 'keepAlive');
    }
  }
}

export function mediaOutlet(s: StreamCore): ProducerOutlet {
  return {
    pictureOutlet: (kind) => {
      const socket = s.ready ? socketFor(s, kind) : undefined;
      if (socket === undefined) return 'closed';
      return socket.isStalled || socket.bufferedAmount >= s.host.settings.socketHighWaterBytes ? 'congested' : 'open';
    },
    sendPicture: (frame: PictureFrame) => {
      const socket = socketFor(s, frame.kind);
      if (socket === undefined) return;
      const oversized = s.oversizedPending.get(frame.kind);
      if (oversized !== undefined) {
        s.oversizedPending.delete(frame.kind);
        sendOversizedPicture(s, socket, frame, oversized);
        return;
      }
      socket.send(pictureMessage(frame), () => recordPicture(s, frame, frame.data));
    },
    pictureDropped: (kind) => {
      if (kind === 'video') s.droppedPictures.videoFrames += 1;
      else s.droppedPictures.deskshareFrames += 1;
    },
    activeSpeakerChanged: (participant, timestamp) => {
      if (s.product === 'contact_center' || !s.subscribed.has(EventType.ACTIVE_SPEAKER_CHANGE)) return;
      sendEvent(s, { event_type: EventType.ACTIVE_SPEAKER_CHANGE, timestamp, user_id: participant.userId, user_name: participant.userName });
    },
    cameraChanged: (participant, on, timestamp) => {
      const type = on ? EventType.PARTICIPANT_VIDEO_ON : EventType.PARTICIPANT_VIDEO_OFF;
      if (s.product === 'contact_center' || !s.scopes.includes('video') || !s.subscribed.has(type)) return;
      sendEvent(s, { event_type: type, timestamp, participants: [{ user_id: participant.userId }] });
    },
  };
}

/** Sends buffered audio, transcripts and chat to their sockets, oldest first, while the sockets keep up. */
export function flush(s: StreamCore): void {
  if (!s.ready || s.state !== 'connected') return;
  for (const kind of ['audio', 'transcript', 'chat'] as const) {
    if (s.backlog.size(kind) === 0 || closingFor(s, kind)) continue;
    const socket = socketFor(s, kind);
    if (socket === undefined) continue;
    const highWater = s.host.settings.socketHighWaterBytes;
    while (socket.bufferedAmount < highWater) {
      const item = s.backlog.shift(kind);
      if (item === undefined) break;
      if (!socket.sendTracked(mediaDataMessage(item, s.product), item, (delivered) => recordDelivered(s, delivered as BacklogItem))) {
        s.backlog.unshift(item);
        break;
      }
    }
  }
}

export function recordDelivered(s: StreamCore, item: BacklogItem): void {
  switch (item.kind) {
    case 'audio': {
      const userId = item.participant === undefined ? '0' : item.participant.key;
      const before = s.record.audioBytes(userId);
      s.record.addAudio(userId, item.data);
      for (const mark of item.syncMarks ?? []) {
        // The timestamp the packet states for its first sample, plus the onset's place in it.
        s.record.addSyncMark({ kind: 'audio', timestamp: item.timestamp + mark.markMs - item.mediaMs, userId, offset: before + mark.byteOffset });
      }
      break;
    }
    case 'transcript':
      s.record.addTranscript({
        userId: item.participant.key,
        userName: item.participant.userName,
        text: item.text,
        timestamp: item.startTime,
        startTime: item.startTime,
        endTime: item.endTime,
        language: item.language,
      });
      break;
    case 'chat':
      s.record.addChat({ userId: item.participant.key, userName: item.participant.userName, text: item.text, timestamp: item.timestamp });
      break;
  }
}

/** A picture the socket accepted (`data`: as written, padded or not). */
function recordPicture(s: StreamCore, frame: PictureFrame, data: Buffer): void {
  if (frame.kind === 'video') s.record.addVideo(data);
  else s.record.addDeskshare(data);
  if (frame.syncMark === true) {
    s.record.addSyncMark({ kind: frame.kind, timestamp: frame.timestamp, userId: frame.participant.key, offset: s.record.validCount(frame.kind) - 1 });
  }
}

export function sendOversizedPicture(s: StreamCore, socket: PeerSocket, frame: PictureFrame, size: number): void {
  const data = size > frame.data.length ? Buffer.concat([frame.data, Buffer.alloc(size - frame.data.length)]) : frame.data;
  const text = JSON.stringify(pictureMessage({ ...frame, data }));
  const limit = s.host.chaos?.clientMaxPayloadBytes ?? 32 * 1024 * 1024;
  if (Buffer.byteLength(text) > limit) {
    // The client will close this socket (1009) without reading the frame or anything after it.
    socket.sendText(text, () => s.record.addOversizedLost(frame.kind));
    socket.doom();
    return;
  }
  socket.sendText(text, () => {
    s.record.addOversized(frame.kind);
    recordPicture(s, frame, data);
  });
}
