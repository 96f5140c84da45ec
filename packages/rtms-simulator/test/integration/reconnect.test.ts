import { afterEach, describe, expect, it } from 'vitest';
import { CREDENTIALS, type Harness, harness, timestampGaps } from './helpers/harness.ts';
import { MediaCollector, TestSocket, collectInto, joinStream, mediaHandshake, signatureOf, type Message } from './helpers/rawRtmsClient.ts';
import { EventType, MessageType } from '../../src/connectorShared.ts';
import type { SimulatedStream } from '../../src/simulator.ts';
import { eventually } from '../../../../test/support/eventually.ts';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** 16 kHz mono L16: bytes of audio per millisecond of stream time. */
const AUDIO_BYTES_PER_MS = 32;

/** Until the simulator has delivered `ms` of audio: the stream has run that long. */
function untilAudioMs(stream: { sent: { audioBytes(): number } }, ms: number): Promise<true> {
  return eventually(() => stream.sent.audioBytes() >= ms * AUDIO_BYTES_PER_MS, {
    what: `${ms} ms of audio sent`,
    timeoutMs: 10_000,
    state: () => stream.sent.audioBytes(),
  });
}

/** An EVENT_UPDATE saying the media connection was interrupted. */
const mediaInterrupted = (m: Message): boolean =>
  m.msg_type === MessageType.EVENT_UPDATE && (m['event'] as { event_type: number }).event_type === EventType.MEDIA_CONNECTION_INTERRUPTED;

describe('keep-alive', () => {
  it('interrupts after three unanswered signaling keep-alives, then stops with 24 when nobody rejoins', async () => {
    h = await harness({ keepAliveIntervalMs: 100, reconnectGraceMs: 400 });
    const stream = await h.sim.startStream();
    const session = await h.join(stream);
    session.signaling.answerKeepAlive = false;
    const interrupted = await h.receiver.waitForEvent('meeting.rtms_interrupted', stream.rtmsStreamId);
    expect(interrupted.body.payload).toEqual({ meeting_uuid: stream.entityId, rtms_stream_id: stream.rtmsStreamId });
    const requests = session.signaling.messages.filter((m) => m.msg_type === 12);
    expect(requests.length).toBe(3);
    expect(stream.connections.keepAliveTimeouts).toEqual([{ channel: 'signaling', kinds: [] }]);
    expect(stream.connections.keepAliveMisses).toBe(3);
    expect((await session.signaling.closed).code).toBe(1006);
    for (const media of session.media) await media.closed;
    expect(await stream.whenEnded()).toMatchObject({ stopReason: 24, cause: 'keepAliveTimeout' });
    const stopped = await h.receiver.waitForEvent('meeting.rtms_stopped', stream.rtmsStreamId);
    expect(stopped.body.payload['stop_reason']).toBe(24);
  });

  it('keeps a stream whose client answers every keep-alive (keepAliveWhen always: media sockets are asked too while media flows)', async () => {
    h = await harness({ keepAliveIntervalMs: 50, keepAliveWhen: 'always' });
    const stream = await h.sim.startStream({ durationMs: 600 });
    const session = await h.join(stream);
    await stream.whenEnded();
    expect(stream.end?.stopReason).toBe(6);
    expect(stream.connections.keepAliveMisses).toBe(0);
    expect(session.signaling.messages.filter((m) => m.msg_type === 12).length).toBeGreaterThan(3);
    expect(session.media[0]?.messages.filter((m) => m.msg_type === 12).length).toBeGreaterThan(3);
  });

  it('drops only the media socket on media keep-alive misses and says so on signaling', async () => {
    h = await harness({ keepAliveIntervalMs: 100, reconnectGraceMs: 30_000, keepAliveWhen: 'always' });
    const stream = await h.sim.startStream();
    const session = await h.join(stream);
    const media = session.media[0];
    if (media === undefined) throw new Error('no media socket');
    media.answerKeepAlive = false;
    await media.closed;
    // waitFor rejects when the message never comes: awaiting it is the assertion.
    await session.signaling.waitFor(mediaInterrupted);
    expect(await session.signaling.waitFor((m) => m.msg_type === MessageType.STREAM_STATE_UPDATE && m['state'] === 2)).toMatchObject({ state: 2, reason: 14 });
    expect(stream.connections.keepAliveTimeouts).toEqual([{ channel: 'media', kinds: ['audio', 'video', 'deskshare', 'transcript', 'chat'] }]);
    expect(stream.state).toBe('connected');
    expect(h.receiver.events('meeting.rtms_interrupted')).toHaveLength(0);
  });
});

describe('a media socket closed by the client', () => {
  const split = [
    { url: 'audio', mediaType: 1 },
    { url: 'transcript', mediaType: 8 },
  ];

  /** A stream joined with split audio and transcript sockets, whose client then closed the audio one. */
  async function joinAndCloseAudio(mediaReconnectGraceMs: number): Promise<{ stream: SimulatedStream; session: Awaited<ReturnType<Harness['join']>> }> {
    h = await harness({ reconnectGraceMs: 30_000, mediaReconnectGraceMs });
    const stream = await h.sim.startStream();
    const session = await h.join(stream, { media: split });
    await stream.whenReady();
    const audio = session.media[0];
    if (audio === undefined) throw new Error('no audio socket');
    audio.close();
    await audio.closed;
    await session.signaling.waitFor(mediaInterrupted);
    return { stream, session };
  }

  async function streamState(session: Awaited<ReturnType<Harness['join']>>, rtmsStreamId: string): Promise<unknown> {
    const before = session.signaling.messages.length;
    session.signaling.send({ msg_type: MessageType.STREAM_STATE_REQ, rtms_stream_id: rtmsStreamId });
    const answer = await session.signaling.waitFor((m) => m.msg_type === MessageType.STREAM_STATE_RESP && session.signaling.messages.indexOf(m) >= before);
    return answer['state'];
  }

  it('is lost: STREAM_STATE says INTERRUPTED, a CLIENT_READY_ACK does not cancel the grace, the stream ends with 19', async () => {
    const { stream, session } = await joinAndCloseAudio(800);
    expect(await streamState(session, stream.rtmsStreamId)).toBe(2);
    session.signaling.send({ msg_type: MessageType.CLIENT_READY_ACK, rtms_stream_id: stream.rtmsStreamId });
    expect(await streamState(session, stream.rtmsStreamId)).toBe(2);
    expect(await stream.whenEnded()).toMatchObject({ stopReason: 19, cause: 'graceExpired' });
    expect(stream.readyCount).toBe(1);
    expect(stream.connections.mediaInterruptions).toBe(1);
  });

  it('is back once the client rejoins that media: ACTIVE again and the grace is cancelled', async () => {
    const { stream, session } = await joinAndCloseAudio(30_000);
    const urls = (session.handshake['media_server'] as { server_urls: Record<string, string> }).server_urls;
    const options = { signalingUrl: stream.signalingUrl, rtmsStreamId: stream.rtmsStreamId, entityId: stream.entityId, ...CREDENTIALS };
    const { answer } = await mediaHandshake(urls['audio'] ?? '', options, { url: 'audio', mediaType: 1 });
    expect(answer['status_code']).toBe(0);
    session.signaling.send({ msg_type: MessageType.CLIENT_READY_ACK, rtms_stream_id: stream.rtmsStreamId });
    await stream.whenReady(2);
    expect(await streamState(session, stream.rtmsStreamId)).toBe(1);
  });
});

describe('keep-alive only when idle (the default)', () => {
  it('asks a socket busy with media for nothing, and a quiet one every interval', async () => {
    h = await harness({ keepAliveIntervalMs: 50 });
    const stream = await h.sim.startStream({ durationMs: 800, scopes: ['audio', 'video'] });
    // Audio flows every 20 ms; the video socket (data_opt 4, nobody subscribed) stays quiet.
    const session = await h.join(stream, {
      media: [
        { url: 'audio', mediaType: 1 },
        { url: 'video', mediaType: 2, mediaParams: { video: { data_opt: 4, codec: 5, fps: 5 } } },
      ],
    });
    const [audio, video] = session.media;
    // Not answering on the busy socket is harmless: nothing is asked of it.
    if (audio !== undefined) audio.answerKeepAlive = false;
    await stream.whenEnded();
    expect(stream.end?.stopReason).toBe(6);
    expect(audio?.messages.filter((m) => m.msg_type === 12)).toEqual([]);
    expect(session.collector.audio.size).toBeGreaterThan(0);
    expect(video?.messages.filter((m) => m.msg_type === 12).length).toBeGreaterThan(5);
    expect(session.signaling.messages.filter((m) => m.msg_type === 12).length).toBeGreaterThan(5);
    expect(stream.connections.keepAlivesSent['audio'] ?? 0).toBe(0);
    expect(stream.connections.keepAlivesSent['video']).toBe(video?.messages.filter((m) => m.msg_type === 12).length);
    expect(stream.connections.keepAliveMisses).toBe(0);
  });

  it('still drops a quiet media socket whose client stops answering', async () => {
    h = await harness({ keepAliveIntervalMs: 50, reconnectGraceMs: 30_000 });
    const stream = await h.sim.startStream({ scopes: ['video'] });
    const session = await h.join(stream, { media: [{ url: 'video', mediaType: 2, mediaParams: { video: { data_opt: 4, codec: 5, fps: 5 } } }] });
    const video = session.media[0];
    if (video === undefined) throw new Error('no media socket');
    video.answerKeepAlive = false;
    await video.closed;
    await session.signaling.waitFor(mediaInterrupted);
    expect(stream.connections.keepAliveTimeouts).toEqual([{ channel: 'media', kinds: ['video'] }]);
  });
});

describe('rejoin', () => {
  it('after interrupt(), buffered audio arrives first and the total equals what was sent, byte for byte', async () => {
    h = await harness({ reconnectGraceMs: 30_000 });
    const stream = await h.sim.startStream({ durationMs: 2500 });
    const collector = new MediaCollector();
    const first = await h.join(stream, { collector });
    await stream.whenReady();
    await untilAudioMs(stream, 600);
    const interrupted = h.receiver.waitForEvent('meeting.rtms_interrupted', stream.rtmsStreamId);
    await stream.interrupt();
    await interrupted;
    expect(stream.state).toBe('interrupted');
    await first.signaling.closed;
    // Stay away until the simulator has had to buffer.
    await eventually(() => stream.backlogSize('audio') > 10, { what: 'more than 10 audio frames buffered', timeoutMs: 10_000 });
    const second = await h.join(stream, { collector });
    await stream.whenReady(2);
    expect(await stream.whenEnded()).toMatchObject({ stopReason: 6 });
    await second.signaling.closed;
    const timestamps = collector.audioTimestamps.get('0') ?? [];
    expect(timestampGaps(timestamps, 20)).toEqual([]);
    expect(collector.audioOf('0').equals(stream.sent.audio('0'))).toBe(true);
    expect(collector.transcripts).toEqual(stream.sent.transcripts());
    expect(stream.connections).toMatchObject({ signalingAccepted: 2, interruptions: 1 });
    expect(stream.readyCount).toBe(2);
  });

  it('after dropMedia(), the media-only rejoin completes the audio without gaps or repeats', async () => {
    h = await harness({ reconnectGraceMs: 30_000 });
    const stream = await h.sim.startStream({ durationMs: 2000 });
    const options = {
      signalingUrl: stream.signalingUrl,
      clientId: CREDENTIALS.clientId,
      clientSecret: CREDENTIALS.clientSecret,
      rtmsStreamId: stream.rtmsStreamId,
      entityId: stream.entityId,
      media: [{ url: 'audio', mediaType: 1 }],
    };
    const session = await joinStream(options);
    await stream.whenReady();
    await untilAudioMs(stream, 400);
    await stream.dropMedia();
    await session.media[0]?.closed;
    await session.signaling.waitFor(mediaInterrupted);
    expect(await session.signaling.waitFor((m) => m.msg_type === MessageType.STREAM_STATE_UPDATE && m['state'] === 2)).toMatchObject({ state: 2, reason: 14 });
    // Stay away until the simulator has had to buffer.
    await eventually(() => stream.backlogSize('audio') > 5, { what: 'audio frames buffered while the media socket is away', timeoutMs: 10_000 });
    const urls = (session.handshake['media_server'] as { server_urls: Record<string, string> }).server_urls;
    const { socket, answer } = await mediaHandshake(urls['audio'] ?? '', options, { url: 'audio', mediaType: 1 });
    expect(answer['status_code']).toBe(0);
    collectInto(socket, session.collector);
    session.signaling.send({ msg_type: 7, rtms_stream_id: stream.rtmsStreamId });
    await stream.whenReady(2);
    await stream.whenEnded();
    await session.signaling.closed;
    expect(timestampGaps(session.collector.audioTimestamps.get('0') ?? [], 20)).toEqual([]);
    expect(session.collector.audioOf('0').equals(stream.sent.audio('0'))).toBe(true);
    expect(stream.connections).toMatchObject({ signalingAccepted: 1, mediaAccepted: 2, mediaInterruptions: 1 });
    // STREAM_STATE_UPDATE: active once joined, interrupted (14) on the loss, active again once
    // the media connection is back, terminated (6) at the end.
    const states = session.signaling.messages.filter((m) => m.msg_type === MessageType.STREAM_STATE_UPDATE).map((m) => [m['state'], m['reason']]);
    expect(states).toEqual([
      [1, 0],
      [2, 14],
      [1, 0],
      [4, 6],
    ]);
  });

  it('after failover(), announces the same stream at a new URL; the old server no longer answers; rejoin completes the audio', async () => {
    h = await harness({ reconnectGraceMs: 30_000 });
    const stream = await h.sim.startStream({ durationMs: 2500 });
    const collector = new MediaCollector();
    const first = await h.join(stream, { collector });
    await stream.whenReady();
    await untilAudioMs(stream, 500);
    const oldUrl = stream.signalingUrl;
    const response = await stream.failover();
    expect(response.status).toBe(200);
    const announcements = h.receiver.events('meeting.rtms_started');
    expect(announcements).toHaveLength(2);
    const [original, failover] = announcements;
    expect(failover?.body.payload['rtms_stream_id']).toBe(stream.rtmsStreamId);
    expect(failover?.body.payload['server_urls']).toBe(stream.signalingUrl);
    expect(stream.signalingUrl).toMatch(/\/signaling-2$/);
    expect(failover?.body.payload['server_urls']).not.toBe(original?.body.payload['server_urls']);
    await first.signaling.closed;
    // A failed server says nothing: the handshake is dropped without a status or a close frame.
    const stale = await TestSocket.open(oldUrl);
    stale.send({
      msg_type: MessageType.SIGNALING_HAND_SHAKE_REQ,
      protocol_version: 1,
      meeting_uuid: stream.entityId,
      rtms_stream_id: stream.rtmsStreamId,
      signature: signatureOf({ ...CREDENTIALS, rtmsStreamId: stream.rtmsStreamId, entityId: stream.entityId }),
    });
    expect((await stale.closed).code).toBe(1006);
    expect(stale.messages).toEqual([]);
    expect(stream.connections.oldServerAttempts).toBe(1);
    expect(stream.connections.handshakeRejections).toEqual([]);
    const second = await h.join(stream, { collector, signalingUrl: String(failover?.body.payload['server_urls']) });
    expect(second.media.length).toBe(1);
    await stream.whenEnded();
    await second.signaling.closed;
    expect(timestampGaps(collector.audioTimestamps.get('0') ?? [], 20)).toEqual([]);
    expect(collector.audioOf('0').equals(stream.sent.audio('0'))).toBe(true);
    expect(h.receiver.events('meeting.rtms_interrupted')).toHaveLength(0);
  });

  it('while the client is away only audio is buffered: transcripts and chat produced meanwhile are lost and counted', async () => {
    h = await harness({ reconnectGraceMs: 30_000 });
    const stream = await h.sim.startStream();
    const collector = new MediaCollector();
    const first = await h.join(stream, { collector });
    await stream.whenReady();
    await stream.interrupt();
    await first.signaling.closed;
    await eventually(() => stream.dropped.transcriptsWhileAway > 0, { what: 'a transcript line produced while away', timeoutMs: 20_000 });
    // The contrast: audio from the same span waits for the client, text does not.
    expect(stream.backlogSize('transcript')).toBe(0);
    expect(stream.backlogSize('chat')).toBe(0);
    expect(stream.backlogSize('audio')).toBeGreaterThan(0);
    const lostTranscripts = stream.dropped.transcriptsWhileAway;
    await h.join(stream, { collector });
    await stream.whenReady(2);
    await stream.stop();
    await eventually(() => collector.audioOf('0').length === stream.sent.audio('0').length, { what: 'all audio received' });
    expect(collector.audioOf('0').equals(stream.sent.audio('0'))).toBe(true);
    expect(collector.transcripts).toEqual(stream.sent.transcripts());
    expect(stream.dropped.transcriptsWhileAway).toBeGreaterThanOrEqual(lostTranscripts);
    expect(stream.dropped.audioPackets).toBe(0);
  });

  it('resendStart() re-posts the identical rtms_started body', async () => {
    h = await harness();
    const stream = await h.sim.startStream();
    await stream.resendStart();
    const [first, retry] = h.receiver.events('meeting.rtms_started');
    expect(retry?.rawBody.equals(first?.rawBody ?? Buffer.alloc(0))).toBe(true);
    expect(retry?.signatureValid).toBe(true);
  });

  it('stops with 19 when an interrupted client does not come back in time', async () => {
    h = await harness({ reconnectGraceMs: 300 });
    const stream = await h.sim.startStream();
    await h.join(stream);
    await stream.whenReady();
    await stream.interrupt();
    expect(await stream.whenEnded()).toMatchObject({ stopReason: 19, cause: 'graceExpired' });
    const stopped = await h.receiver.waitForEvent('meeting.rtms_stopped', stream.rtmsStreamId);
    expect(stopped.body.payload['stop_reason']).toBe(19);
    await expect(stream.whenReady(2)).rejects.toMatchObject({ code: 'STREAM_ENDED' });
  });

  it('treats a client dropping its signaling socket as an interruption', async () => {
    h = await harness({ reconnectGraceMs: 30_000 });
    const stream = await h.sim.startStream();
    const session = await h.join(stream);
    await stream.whenReady();
    session.signaling.terminate();
    await h.receiver.waitForEvent('meeting.rtms_interrupted', stream.rtmsStreamId);
    for (const media of session.media) await media.closed;
    expect(stream.state).toBe('interrupted');
  });

  it('stops with 11 when no client joins within joinTimeoutMs', async () => {
    h = await harness({ joinTimeoutMs: 200 });
    const stream = await h.sim.startStream();
    expect(await stream.whenEnded()).toMatchObject({ stopReason: 11, cause: 'joinTimeout' });
  });

  it('close() ends running streams without webhooks and is idempotent', async () => {
    h = await harness();
    const stream = await h.sim.startStream();
    const session = await h.join(stream);
    await stream.whenReady();
    await Promise.all([h.sim.close(), h.sim.close()]);
    expect(await stream.whenEnded()).toMatchObject({ cause: 'simulatorClosed' });
    await session.signaling.closed;
    expect(h.receiver.events('meeting.rtms_stopped')).toHaveLength(0);
    await expect(h.sim.startStream()).rejects.toMatchObject({ code: 'SIMULATOR_CLOSED' });
  });
});
