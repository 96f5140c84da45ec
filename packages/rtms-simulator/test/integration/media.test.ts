import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type TestContext, describe, expect, it } from 'vitest';
import { type Harness, harness, timestampGaps } from './helpers/harness.ts';
import { eventually } from '../../../../test/support/eventually.ts';
import type { SimulatorOptions } from '../../src/simulator.ts';

const run = promisify(execFile);

/** A harness of the test's own, closed when the test ends (the tests run at once, so none is shared). */
async function ownHarness(context: TestContext, options: Partial<SimulatorOptions> = {}): Promise<Harness> {
  const h = await harness(options);
  context.onTestFinished(() => h.close());
  return h;
}

// The tests run at once: each has its own simulator, and their time is spent waiting on
// real-time streams, so the file takes about as long as its longest stream.
describe.concurrent('media delivery', () => {
  it('delivers mixed audio whose decoded bytes equal stream.sent.audio("0"), paced at 20 ms', async (context) => {
    const h = await ownHarness(context);
    const stream = await h.sim.startStream({ durationMs: 1500 });
    const session = await h.join(stream);
    await stream.whenReady();
    expect(await stream.whenEnded()).toMatchObject({ stopReason: 6, cause: 'stopped' });
    await session.signaling.closed;
    const received = session.collector.audioOf('0');
    // Media time starts at the signaling handshake; audio starts on its 20 ms grid at the media
    // handshake, which comes a few ms later, or a few 20 ms steps later on a busy machine.
    const firstAudioMs = (session.collector.audioTimestamps.get('0')?.[0] ?? Number.NaN) - (stream.firstPacketTimestamp ?? Number.NaN);
    expect(firstAudioMs).toBeGreaterThanOrEqual(0);
    expect(firstAudioMs % 20).toBe(0);
    // 16 kHz mono s16 is 32 bytes per ms: everything from then to the end of the 1.5 s stream.
    expect(received.length).toBeGreaterThanOrEqual((1400 - firstAudioMs) * 32);
    expect(received.length % 640).toBe(0);
    expect(received.equals(stream.sent.audio('0'))).toBe(true);
    expect(stream.sent.audioUserIds()).toEqual(['0']);
    expect(timestampGaps(session.collector.audioTimestamps.get('0') ?? [], 20)).toEqual([]);
    expect(session.collector.lengthMismatches).toBe(0);
    // Real speech, not silence.
    expect(received.some((byte) => byte !== 0)).toBe(true);
  });

  it('sends per-speaker packets in multi-stream mode at the negotiated rate, channels and send_rate', async (context) => {
    const h = await ownHarness(context);
    const stream = await h.sim.startStream({ durationMs: 4000, participants: 4 });
    const session = await h.join(stream, {
      media: [
        { url: 'audio', mediaType: 1, mediaParams: { audio: { sample_rate: 3, channel: 2, data_opt: 2, send_rate: 100 } } },
        { url: 'transcript', mediaType: 8 },
      ],
    });
    await stream.whenEnded();
    await session.signaling.closed;
    const userIds = stream.sent.audioUserIds();
    expect(userIds.length).toBeGreaterThan(0);
    expect(userIds).not.toContain('0');
    expect([...session.collector.audio.keys()].sort()).toEqual([...userIds].sort());
    for (const userId of userIds) {
      expect(session.collector.audioOf(userId).equals(stream.sent.audio(userId))).toBe(true);
      // 48 kHz stereo s16 for 100 ms = 19 200 bytes per packet.
      for (const chunk of session.collector.audio.get(userId) ?? []) expect(chunk.length).toBe(19_200);
      const timestamps = session.collector.audioTimestamps.get(userId) ?? [];
      for (let i = 1; i < timestamps.length; i += 1) expect(((timestamps[i] ?? 0) - (timestamps[i - 1] ?? 0)) % 100).toBe(0);
    }
    // At most three speakers share an interval.
    const perInterval = new Map<number, number>();
    for (const timestamps of session.collector.audioTimestamps.values()) {
      for (const timestamp of timestamps) perInterval.set(timestamp, (perInterval.get(timestamp) ?? 0) + 1);
    }
    expect(Math.max(...perInterval.values())).toBeLessThanOrEqual(3);
    const named = session.media[0]?.messages.find((m) => m.msg_type === 14)?.['content'] as Record<string, unknown>;
    expect(named).toMatchObject({ user_id: expect.any(Number), user_name: expect.any(String) });
  });

  it('streams H.264 access units at the negotiated fps that ffprobe decodes, and JPEG deskshare', async (context) => {
    const h = await ownHarness(context);
    const stream = await h.sim.startStream({ durationMs: 2000 });
    const session = await h.join(stream, {
      media: [
        { url: 'video', mediaType: 2, mediaParams: { video: { codec: 7, fps: 25 } } },
        { url: 'sharescreen', mediaType: 4 },
      ],
    });
    await stream.whenEnded();
    await session.signaling.closed;
    const frames = stream.sent.videoFrames();
    expect(frames.length).toBeGreaterThan(20);
    expect(session.collector.video).toHaveLength(frames.length);
    session.collector.video.forEach((frame, index) => expect(frame.equals(frames[index] as Buffer)).toBe(true));
    const dir = await mkdtemp(join(tmpdir(), 'sim-video-'));
    try {
      const file = join(dir, 'received.h264');
      await writeFile(file, Buffer.concat(session.collector.video));
      const { stdout, stderr } = await run('ffprobe', [
        '-v',
        'error',
        '-count_frames',
        '-show_entries',
        'stream=codec_name,nb_read_frames',
        '-of',
        'json',
        file,
      ]);
      expect(stderr).toBe('');
      const probed = (JSON.parse(stdout) as { streams: Array<{ codec_name: string; nb_read_frames: string }> }).streams[0];
      expect(probed?.codec_name).toBe('h264');
      expect(Number(probed?.nb_read_frames)).toBe(frames.length);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    const share = session.collector.deskshare;
    expect(share.length).toBeGreaterThanOrEqual(1);
    for (const picture of share) expect(picture.subarray(0, 2).toString('hex')).toBe('ffd8');
    const video = session.media[0]?.messages.find((m) => m.msg_type === 15)?.['content'] as Record<string, unknown>;
    expect(video).toMatchObject({ user_id: expect.any(Number), user_name: expect.any(String), timestamp: expect.any(Number) });
  });

  it('delivers transcripts and chat exactly as recorded, with times and language 9', async (context) => {
    const h = await ownHarness(context, { seed: 99 });
    const stream = await h.sim.startStream({ durationMs: 7000 });
    const session = await h.join(stream);
    await stream.whenEnded();
    await session.signaling.closed;
    const transcripts = stream.sent.transcripts();
    expect(transcripts.length).toBeGreaterThan(0);
    expect(session.collector.transcripts).toEqual(transcripts);
    for (const line of transcripts) {
      expect(line.endTime).toBeGreaterThan(line.startTime);
      expect(line.language).toBe(9);
      expect(line.text.length).toBeGreaterThan(0);
      expect(stream.participants.map((p) => p.key)).toContain(line.userId);
    }
    expect(session.collector.chats.map((c) => c.text)).toEqual(stream.sent.chats().map((c) => c.text));
    expect(stream.sent.chats().length).toBeGreaterThan(0);
  });

  it('sends subscribed participant events and the stop sequence', async (context) => {
    const h = await ownHarness(context);
    const stream = await h.sim.startStream({ durationMs: 2500, scopes: ['audio', 'video', 'deskshare'] });
    const session = await h.join(stream, { subscribe: [2, 3, 4, 5, 8, 9] });
    await stream.whenEnded();
    await session.signaling.closed;
    const events = session.signaling.messages.filter((m) => m.msg_type === 6).map((m) => m['event'] as Record<string, unknown>);
    const join = events.find((e) => e['event_type'] === 3);
    expect(join?.['participants']).toEqual(stream.participants.map((p) => ({ user_id: p.userId, user_name: p.userName })));
    expect(events.find((e) => e['event_type'] === 2)).toMatchObject({ user_id: expect.any(Number), user_name: expect.any(String) });
    expect(events.find((e) => e['event_type'] === 5)).toMatchObject({ user_id: stream.participants[0]?.userId });
    expect(events.find((e) => e['event_type'] === 8)).toBeDefined();
    const tail = session.signaling.messages.slice(-3);
    expect(tail[0]).toMatchObject({ msg_type: 6, event: { event_type: 4 } });
    expect(tail[1]).toMatchObject({ msg_type: 8, state: 4, reason: 6 });
    expect(tail[2]).toMatchObject({ msg_type: 9, state: 5, stop_reason: 6 });
    const stopped = await h.receiver.waitForEvent('meeting.rtms_stopped', stream.rtmsStreamId);
    expect(stopped.body.payload['stop_reason']).toBe(6);
  });

  it('runs Contact Center streams with channel ids and ZCC events', async (context) => {
    const h = await ownHarness(context);
    const stream = await h.sim.startStream({ product: 'contact_center', durationMs: 3000 });
    expect(stream.scopes).toEqual(['audio', 'transcript']);
    const started = await h.receiver.waitForEvent('contact_center.voice_rtms_started', stream.rtmsStreamId);
    expect(started.body.payload).toMatchObject({ engagement_id: stream.entityId, server_urls: stream.signalingUrl });
    const session = await h.join(stream, {
      media: [{ url: 'audio', mediaType: 1, mediaParams: { audio: { data_opt: 2 } } }],
      subscribe: [8, 10],
    });
    await stream.whenEnded();
    await session.signaling.closed;
    const channels = stream.participants.map((p) => p.channelId);
    expect(stream.sent.audioUserIds()).not.toHaveLength(0);
    expect(channels).toEqual(expect.arrayContaining(stream.sent.audioUserIds()));
    for (const id of stream.sent.audioUserIds()) expect(session.collector.audioOf(id).equals(stream.sent.audio(id))).toBe(true);
    const content = session.media[0]?.messages.find((m) => m.msg_type === 14)?.['content'] as Record<string, unknown>;
    expect(content).toHaveProperty('channel_id');
    expect(content).not.toHaveProperty('user_id');
    const events = session.signaling.messages.filter((m) => m.msg_type === 6).map((m) => m['event'] as Record<string, unknown>);
    expect(events.find((e) => e['event_type'] === 10)).toMatchObject({
      event_ts: expect.any(Number),
      participant_info: { channel_id: channels[0], participant_mode: 'agent' },
    });
    expect(events.find((e) => e['event_type'] === 8)).toMatchObject({ participant_info: { channel_id: channels[1], participant_mode: 'caller' } });
  });

  it('Contact Center mixed audio (data_opt 1) still comes one packet per channel_id, every 20 ms, with URL-safe engagement ids', async (context) => {
    const h = await ownHarness(context);
    const stream = await h.sim.startStream({ product: 'contact_center', durationMs: 1000 });
    expect(stream.entityId).toMatch(/^[A-Za-z0-9_-]{22}$/);
    const started = await h.receiver.waitForEvent('contact_center.voice_rtms_started', stream.rtmsStreamId);
    expect(started.body.payload['engagement_id']).toBe(stream.entityId);
    const session = await h.join(stream, { media: [{ url: 'audio', mediaType: 1, mediaParams: { audio: { data_opt: 1 } } }] });
    await stream.whenEnded();
    await session.signaling.closed;
    const channels = stream.participants.map((p) => p.channelId);
    expect([...stream.sent.audioUserIds()].sort()).toEqual([...channels].sort());
    const audio = session.media[0]?.messages.filter((m) => m.msg_type === 14).map((m) => m['content'] as Record<string, unknown>) ?? [];
    expect(audio.length).toBeGreaterThan(0);
    expect(audio.every((content) => typeof content['channel_id'] === 'string' && !('user_id' in content))).toBe(true);
    for (const id of channels) {
      const ofChannel = audio.filter((content) => content['channel_id'] === id).map((content) => Number(content['timestamp']));
      expect(timestampGaps(ofChannel, 20)).toEqual([]);
      expect(session.collector.audioOf(String(id)).equals(stream.sent.audio(String(id)))).toBe(true);
    }
  });

  it('individual video (data_opt 4) flows only for the subscribed participant', async (context) => {
    // Keep-alives every 100 ms: their count on the video socket shows how long it has been open.
    const h = await ownHarness(context, { keepAliveIntervalMs: 100 });
    const stream = await h.sim.startStream({ durationMs: 1500, scopes: ['video'] });
    const session = await h.join(stream, { media: [{ url: 'video', mediaType: 2, mediaParams: { video: { data_opt: 4, codec: 5, fps: 5 } } }] });
    const target = stream.participants[0];
    // Two frame intervals at 5 fps (400 ms) with no subscription: no video.
    await eventually(() => (session.media[0]?.messages.filter((m) => m.msg_type === 12).length ?? 0) >= 4, { what: '4 keep-alives on the video socket' });
    expect(session.collector.video).toHaveLength(0);
    session.signaling.send({ msg_type: 28, user_id: target?.userId, subscribe: true, timestamp: Date.now() });
    const accepted = await session.signaling.waitForType(29);
    expect(accepted).toMatchObject({ user_id: target?.userId, status_code: 0 });
    session.signaling.send({ msg_type: 28, user_id: target?.userId, subscribe: true, timestamp: Date.now() });
    expect(await session.signaling.waitFor((m) => m.msg_type === 29 && m !== accepted)).toMatchObject({ user_id: target?.userId, status_code: 44 });
    await stream.whenEnded();
    await session.signaling.closed;
    expect(session.collector.video.length).toBeGreaterThan(0);
    const users = new Set(session.media[0]?.messages.filter((m) => m.msg_type === 15).map((m) => (m['content'] as { user_id: number }).user_id));
    expect([...users]).toEqual([target?.userId]);
  });
});
