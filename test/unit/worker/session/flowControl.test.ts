import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { systemClock } from '../../../../src/clock.ts';
import type { MediaKind } from '../../../../src/vocabulary/mediaKind.ts';
import { createLogger } from '../../../../src/logger.ts';
import type { Frame } from '../../../../src/vocabulary/frame.ts';
import { FlowControl } from '../../../../src/worker/session/flowControl.ts';

const HIGH = 1000;
const LOW = 400;
const DEADLINE_MS = 5000;

function frame(kind: MediaKind, bytes: number, timestamp: number): Frame {
  return { kind, userId: '1', userName: undefined, timestamp, data: Buffer.alloc(bytes), receivedAt: timestamp };
}

/** A sink that takes frames while `open`, and records each one; and the session's side of the callbacks. */
function rig() {
  const sink = { open: true, written: [] as Frame[], write: (written: Frame): boolean => (sink.written.push(written), sink.open) };
  const sockets = { paused: false, pauses: 0, resumes: 0 };
  const evicted: Frame[] = [];
  const cuts: MediaKind[] = [];
  const events: Array<{ eventType: string; data: Record<string, unknown> }> = [];
  const flow = new FlowControl({
    buffer: { highWaterBytes: HIGH, lowWaterBytes: LOW, stallDeadlineMs: DEADLINE_MS },
    sink,
    media: {
      pause: () => ((sockets.paused = true), (sockets.pauses += 1)),
      resume: () => ((sockets.paused = false), (sockets.resumes += 1)),
    },
    // Every video frame but those stamped as multiples of 1000 refers to earlier pictures.
    isDecodeStart: (candidate) => candidate.kind !== 'video' || candidate.timestamp % 1000 === 0,
    evicted: (dropped) => evicted.push(dropped),
    cut: (kind) => cuts.push(kind),
    event: (eventType, data) => events.push({ eventType, data }),
    clock: systemClock,
    logger: createLogger({ level: 'silent' }),
  });
  return { flow, sink, sockets, evicted, cuts, events };
}

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

describe('FlowControl', () => {
  it('writes straight through while the sink takes frames', () => {
    const { flow, sink, sockets } = rig();
    for (let i = 0; i < 5; i += 1) flow.write(frame('audio', 500, i));
    expect(sink.written).toHaveLength(5);
    expect(flow.backlogBytes).toBe(0);
    expect(sockets.pauses).toBe(0);
  });

  it('a sink that pushes back: frames wait in order, sockets pause past the high mark and resume at the low mark', () => {
    const { flow, sink, sockets } = rig();
    sink.open = false;
    flow.write(frame('audio', 300, 0)); // taken, but the sink says "not now"
    flow.write(frame('audio', 300, 1));
    flow.write(frame('audio', 300, 2));
    flow.write(frame('audio', 300, 3));
    expect(sockets.paused).toBe(false); // 900 bytes waiting
    flow.write(frame('audio', 300, 4));
    expect(sockets.paused).toBe(true);
    expect(flow.paused).toBe(true);
    expect(flow.backlogBytes).toBe(1200);
    sink.open = true;
    flow.drained();
    expect(sink.written.map((written) => written.timestamp)).toEqual([0, 1, 2, 3, 4]);
    expect(flow.backlogBytes).toBe(0);
    expect(sockets.paused).toBe(false);
    vi.advanceTimersByTime(DEADLINE_MS * 2);
    expect(sockets.pauses).toBe(1); // the deadline was cancelled
  });

  it('a drain that leaves more than the low mark keeps the sockets paused', () => {
    const { flow, sink, sockets } = rig();
    sink.open = false;
    for (let i = 0; i < 6; i += 1) flow.write(frame('audio', 300, i));
    // The sink takes one frame, then pushes back again on the next (which it keeps): 900 bytes stay.
    let budget = 1;
    sink.write = (written: Frame): boolean => (sink.written.push(written), budget-- > 0);
    flow.drained();
    expect(sink.written.map((written) => written.timestamp)).toEqual([0, 1, 2]);
    expect(flow.backlogBytes).toBe(900);
    expect(sockets.paused).toBe(true);
  });

  it('past the stall deadline: sockets read on, video evicted first down to the high mark, one gap marker per kind when it ends', () => {
    const { flow, sink, sockets, evicted, cuts, events } = rig();
    sink.open = false;
    flow.write(frame('audio', 100, 0));
    for (let t = 1000; t < 1006; t += 1) flow.write(frame('video', 200, t)); // a keyframe at 1000, then its group
    flow.write(frame('audio', 100, 2000));
    expect(sockets.paused).toBe(true);
    vi.advanceTimersByTime(DEADLINE_MS - 1);
    expect(evicted).toHaveLength(0);
    vi.advanceTimersByTime(1);
    expect(sockets.paused).toBe(false);
    // 1300 bytes buffered: the whole group of pictures goes (it cannot be decoded without its start), audio stays.
    expect(evicted.every((dropped) => dropped.kind === 'video')).toBe(true);
    expect(evicted.length).toBeGreaterThan(0);
    expect(flow.backlogBytes).toBeLessThanOrEqual(HIGH);
    expect(cuts).toEqual(['video']);
    // While overflowing every write trims again, without pausing.
    flow.write(frame('video', 200, 1006));
    expect(sockets.pauses).toBe(1);
    expect(events).toHaveLength(0);
    sink.open = true;
    flow.drained();
    expect(events).toEqual([
      {
        eventType: 'media.gap',
        data: {
          kind: 'video',
          reason: 'buffer_full',
          frames: evicted.length,
          fromTimestamp: 1000,
          toTimestamp: Math.max(...evicted.map((dropped) => dropped.timestamp)),
        },
      },
    ]);
    expect(sink.written.filter((written) => written.kind === 'audio').map((written) => written.timestamp)).toEqual([0, 2000]);
  });

  it('audio is evicted only past twice the high mark', () => {
    const { flow, sink, evicted } = rig();
    sink.open = false;
    flow.write(frame('audio', 100, 0));
    for (let i = 1; i <= 15; i += 1) flow.write(frame('audio', 100, i)); // 1500 bytes waiting
    vi.advanceTimersByTime(DEADLINE_MS);
    expect(evicted).toHaveLength(0);
    for (let i = 16; i <= 21; i += 1) flow.write(frame('audio', 100, i)); // 2100: past twice the mark
    expect(evicted.map((dropped) => dropped.timestamp)).toEqual([1]);
    expect(flow.backlogBytes).toBe(2 * HIGH);
  });

  it('the end of the stream: no deadline fires, sockets read on, the overflow is reported and the backlog goes to the sink', () => {
    const { flow, sink, sockets, events } = rig();
    sink.open = false;
    for (let i = 0; i < 6; i += 1) flow.write(frame('audio', 300, i));
    flow.cancelDeadline();
    vi.advanceTimersByTime(DEADLINE_MS);
    expect(sockets.paused).toBe(true);
    flow.unpause();
    expect(sockets.paused).toBe(false);
    flow.endOverflow();
    expect(events).toHaveLength(0);
    flow.flushBacklog();
    expect(sink.written.map((written) => written.timestamp)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(flow.backlogBytes).toBe(0);
  });
});
