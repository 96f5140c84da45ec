import { describe, expect, it } from 'vitest';
import { systemClock } from '../../../../src/clock.ts';
import type { MediaKind } from '../../../../src/vocabulary/mediaKind.ts';
import type { Frame, MediaFormats } from '../../../../src/vocabulary/frame.ts';
import { MessageType } from '../../../../src/rtms/codes.ts';
import { FrameAdmission } from '../../../../src/worker/session/frameAdmission.ts';
import { MediaIngest } from '../../../../src/worker/session/mediaIngest.ts';
import { SessionAccounting } from '../../../../src/worker/session/sessionAccounting.ts';

const FORMATS: MediaFormats = { audio: { sampleRateHz: 16_000, channels: 1, mode: 'multi' }, video: { codec: 'h264' }, deskshare: { codec: 'jpg' } };
const AUDIO = { key: 'audio', kinds: ['audio'] as MediaKind[] };

function audioMessage(timestamp: number, bytes = 640): { msg_type: number; content: Record<string, unknown> } {
  return { msg_type: MessageType.MEDIA_DATA_AUDIO, content: { user_id: 7, user_name: 'Ann', timestamp, data: Buffer.alloc(bytes, 1).toString('base64') } };
}

function rig(requested: MediaKind[] = ['audio']) {
  const written: Frame[] = [];
  const tapped: Frame[] = [];
  const ignored: string[] = [];
  const seen: string[] = [];
  const events: Array<{ eventType: string; data: Record<string, unknown> }> = [];
  const accounting = new SessionAccounting();
  const admission = new FrameAdmission({ requested, audio: { admit: (frame) => frame.timestamp !== 666 } });
  const ingest = new MediaIngest({
    admission,
    accounting,
    flow: { write: (frame) => written.push(frame) },
    roster: { seen: (userId) => seen.push(userId) },
    ignored: { record: (channel, reason) => ignored.push(`${channel}/${reason}`) },
    resumed: undefined,
    taps: [{ frame: (frame: Frame) => tapped.push(frame), event: () => undefined, flush: () => undefined } as never],
    metrics: { frameLatency: () => undefined },
    formats: () => FORMATS,
    event: (eventType, data) => events.push({ eventType, data }),
    clock: systemClock,
  });
  return { ingest, accounting, admission, written, tapped, ignored, seen, events };
}

describe('MediaIngest', () => {
  it('a frame admitted: counted received, seen in the roster, tapped and written', () => {
    const r = rig();
    r.ingest.message(AUDIO, audioMessage(1), 900);
    expect(r.written.map((frame) => frame.timestamp)).toEqual([1]);
    expect(r.tapped).toHaveLength(1);
    expect(r.seen).toEqual(['7']);
    expect(r.accounting.media({}).audio).toMatchObject({ framesReceived: 1, bytesReceived: 640, framesDropped: {} });
  });

  it('a frame refused: counted received and dropped with the reason, never tapped', () => {
    const r = rig(['video']);
    r.ingest.message(AUDIO, audioMessage(1), 900);
    const r2 = rig();
    r2.ingest.message(AUDIO, audioMessage(666), 900);
    expect(r.accounting.media({}).audio?.framesDropped).toEqual({ not_requested: 1 });
    expect(r2.accounting.media({}).audio?.framesDropped).toEqual({ duplicate: 1 });
    expect([...r.tapped, ...r2.tapped, ...r.written, ...r2.written]).toEqual([]);
  });

  it('an unreadable media message: received at its wire size, dropped as malformed, and ignored', () => {
    const r = rig();
    r.ingest.message(AUDIO, { msg_type: MessageType.MEDIA_DATA_AUDIO, content: { user_id: 7, timestamp: 1, data: '***' } }, 120);
    expect(r.accounting.media({}).audio).toMatchObject({ framesReceived: 1, bytesReceived: 120, framesDropped: { malformed: 1 } });
    expect(r.ignored).toEqual(['media:audio/malformed_media']);
  });

  it('not JSON at all: malformed for the socket, and every kind it carries waits for a keyframe', () => {
    const r = rig(['video', 'deskshare']);
    r.ingest.malformed({ key: 'all', kinds: ['video', 'deskshare'] }, 'invalid_json', 50);
    expect(r.accounting.media({}).video).toMatchObject({ framesReceived: 1, framesDropped: { malformed: 1 } });
    expect(r.ignored).toEqual(['media:all/invalid_json']);
    const pSlice = { msg_type: MessageType.MEDIA_DATA_VIDEO, content: { user_id: 7, timestamp: 2, data: Buffer.from([0x41, 1]).toString('base64') } };
    r.ingest.message({ key: 'all' }, pSlice, 60);
    expect(r.accounting.media({}).video?.framesDropped).toEqual({ malformed: 1, awaiting_keyframe: 1 });
  });

  it('a message of a type media sockets do not carry is ignored, a keep-alive is not', () => {
    const r = rig();
    r.ingest.message(AUDIO, { msg_type: 999 }, 10);
    r.ingest.message(AUDIO, { msg_type: MessageType.KEEP_ALIVE_REQ }, 10);
    expect(r.ignored).toEqual(['media:audio/unknown_msg_type']);
    expect(r.accounting.media({})).toEqual({});
  });
});
