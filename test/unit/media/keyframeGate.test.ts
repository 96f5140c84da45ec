import { describe, expect, it } from 'vitest';
import type { Frame } from '../../../src/vocabulary/frame.ts';
import { KeyframeGate } from '../../../src/media/keyframeGate.ts';

function videoFrame(timestamp: number): Frame {
  return { kind: 'video', userId: '1', userName: undefined, timestamp, data: Buffer.alloc(1), receivedAt: timestamp };
}

describe('KeyframeGate', () => {
  it('waits only for the kind that lost a frame and reports what it held back', () => {
    const gate = new KeyframeGate();
    expect(gate.isWaiting('video')).toBe(false);
    gate.cut('video');
    gate.cut('video');
    expect(gate.isWaiting('video')).toBe(true);
    expect(gate.isWaiting('deskshare')).toBe(false);
    gate.hold(videoFrame(1040));
    gate.hold(videoFrame(1080));
    expect(gate.restart('video')).toEqual({ frames: 2, fromTimestamp: 1040, toTimestamp: 1080 });
    expect(gate.isWaiting('video')).toBe(false);
  });

  it('gives up at the end of the stream, reporting only kinds that held frames back', () => {
    const gate = new KeyframeGate();
    gate.cut('video');
    gate.cut('deskshare');
    gate.hold(videoFrame(2000));
    expect(gate.giveUp()).toEqual([{ kind: 'video', held: { frames: 1, fromTimestamp: 2000, toTimestamp: 2000 } }]);
    expect(gate.isWaiting('video') || gate.isWaiting('deskshare')).toBe(false);
  });

  it('reports nothing when the frame after the loss was already a keyframe', () => {
    const gate = new KeyframeGate();
    gate.cut('audio');
    expect(gate.restart('audio')).toBeUndefined();
    expect(gate.isWaiting('audio')).toBe(false);
  });
});
