import { describe, expect, it } from 'vitest';
import type { MediaKind } from '../../../../src/vocabulary/mediaKind.ts';
import type { Frame, MediaFormats } from '../../../../src/vocabulary/frame.ts';
import { FrameAdmission, isDecodeStart } from '../../../../src/worker/session/frameAdmission.ts';

const FORMATS: MediaFormats = { audio: { sampleRateHz: 16_000, channels: 1, mode: 'multi' }, video: { codec: 'h264' }, deskshare: { codec: 'jpg' } };
/** One-NAL access units: an IDR slice (type 5) and a slice that refers to earlier pictures (type 1). */
const IDR = Buffer.from([0x65, 1, 2, 3]);
const P_SLICE = Buffer.from([0x41, 1, 2, 3]);

function frame(kind: MediaKind, timestamp: number, options: { userId?: string; data?: Buffer } = {}): Frame {
  return { kind, userId: options.userId ?? '7', userName: undefined, timestamp, data: options.data ?? Buffer.alloc(640), receivedAt: timestamp };
}

/** Audio that takes everything but the timestamps listed as redelivered. */
function admission(options: { requested?: MediaKind[]; redelivered?: number[] } = {}): FrameAdmission {
  const redelivered = new Set(options.redelivered ?? []);
  return new FrameAdmission({
    requested: options.requested ?? ['audio', 'video', 'deskshare'],
    audio: { admit: (candidate) => !redelivered.has(candidate.timestamp) },
  });
}

describe('FrameAdmission', () => {
  it('admits what was requested and is new', () => {
    expect(admission().admit(frame('audio', 1), FORMATS)).toEqual({ admitted: true });
    expect(admission().admit(frame('video', 1, { data: P_SLICE }), FORMATS)).toEqual({ admitted: true });
  });

  it('a kind we did not ask for: not_requested, before anything else is looked at', () => {
    expect(admission({ requested: ['audio'], redelivered: [1] }).admit(frame('chat', 1), FORMATS)).toEqual({ admitted: false, reason: 'not_requested' });
  });

  it('audio Zoom redelivered: duplicate; the timeline is only asked once formats are known', () => {
    const gate = admission({ redelivered: [5] });
    expect(gate.admit(frame('audio', 5), FORMATS)).toEqual({ admitted: false, reason: 'duplicate' });
    expect(gate.admit(frame('audio', 5), undefined)).toEqual({ admitted: true });
  });

  it('an excluded participant: excluded from then on, and their video needs a keyframe after', () => {
    const gate = admission();
    gate.exclude('7');
    expect(gate.admit(frame('audio', 1), FORMATS)).toEqual({ admitted: false, reason: 'excluded' });
    expect(gate.admit(frame('video', 2, { data: P_SLICE }), FORMATS)).toEqual({ admitted: false, reason: 'excluded' });
    // Another participant's video on the same kind: the chain was cut, so it waits too.
    expect(gate.admit(frame('video', 3, { userId: '8', data: P_SLICE }), FORMATS)).toEqual({ admitted: false, reason: 'awaiting_keyframe' });
    expect(gate.admit(frame('video', 4, { userId: '8', data: IDR }), FORMATS)).toEqual({
      admitted: true,
      keyframeGap: { frames: 1, fromTimestamp: 3, toTimestamp: 3 },
    });
  });

  it('after a cut, H.264 pictures wait for a keyframe; the keyframe reports what waited', () => {
    const gate = admission();
    gate.cut('video');
    expect(gate.admit(frame('video', 10, { data: P_SLICE }), FORMATS)).toEqual({ admitted: false, reason: 'awaiting_keyframe' });
    expect(gate.admit(frame('video', 11, { data: P_SLICE }), FORMATS)).toEqual({ admitted: false, reason: 'awaiting_keyframe' });
    expect(gate.admit(frame('audio', 12), FORMATS)).toEqual({ admitted: true });
    expect(gate.admit(frame('video', 13, { data: IDR }), FORMATS)).toEqual({ admitted: true, keyframeGap: { frames: 2, fromTimestamp: 10, toTimestamp: 11 } });
    expect(gate.admit(frame('video', 14, { data: P_SLICE }), FORMATS)).toEqual({ admitted: true });
  });

  it('a cut costs nothing to frames that never depend on others (JPEG share, audio)', () => {
    const gate = admission();
    gate.cut('deskshare');
    gate.cut('audio');
    expect(gate.admit(frame('deskshare', 1, { data: P_SLICE }), FORMATS)).toEqual({ admitted: true });
    expect(gate.admit(frame('audio', 2), FORMATS)).toEqual({ admitted: true });
  });

  it('the stream ends while video still waits: giveUp reports what it held, once', () => {
    const gate = admission();
    gate.cut('video');
    gate.admit(frame('video', 20, { data: P_SLICE }), FORMATS);
    expect(gate.giveUp()).toEqual([{ kind: 'video', held: { frames: 1, fromTimestamp: 20, toTimestamp: 20 } }]);
    expect(gate.giveUp()).toEqual([]);
  });

  it('isDecodeStart: an H.264 IDR, or any frame of a codec without references', () => {
    expect(isDecodeStart(frame('video', 1, { data: IDR }), FORMATS)).toBe(true);
    expect(isDecodeStart(frame('video', 1, { data: P_SLICE }), FORMATS)).toBe(false);
    expect(isDecodeStart(frame('deskshare', 1, { data: P_SLICE }), FORMATS)).toBe(true);
    expect(isDecodeStart(frame('audio', 1), FORMATS)).toBe(true);
  });
});
