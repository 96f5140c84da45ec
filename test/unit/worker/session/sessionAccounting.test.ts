import { describe, expect, it } from 'vitest';
import { SESSION_DROP_REASONS } from '../../../../src/vocabulary/reasons.ts';
import { SessionAccounting } from '../../../../src/worker/session/sessionAccounting.ts';

describe('SessionAccounting', () => {
  it('every frame received is written by the sink or dropped with a reason, per kind', () => {
    const accounting = new SessionAccounting();
    for (let i = 0; i < 10; i += 1) accounting.received('audio', 640);
    accounting.dropped('audio', 'duplicate');
    accounting.dropped('audio', 'buffer_full');
    accounting.malformed('video', 99);
    const media = accounting.media({ audio: { framesWritten: 7, bytesWritten: 4480, framesDropped: { sink_error: 1 } } });
    expect(media.audio).toEqual({
      framesReceived: 10,
      bytesReceived: 6400,
      framesWritten: 7,
      bytesWritten: 4480,
      framesDropped: { duplicate: 1, buffer_full: 1, sink_error: 1 },
    });
    expect(media.video).toEqual({ framesReceived: 1, bytesReceived: 99, framesWritten: 0, bytesWritten: 0, framesDropped: { malformed: 1 } });
    for (const counters of Object.values(media)) {
      const dropped = Object.values(counters.framesDropped).reduce((sum, count) => sum + count, 0);
      expect(counters.framesReceived).toBe(counters.framesWritten + dropped);
    }
  });

  it("adds an earlier incarnation's counts, including kinds this one has not seen yet", () => {
    const accounting = new SessionAccounting({
      audio: { framesReceived: 5, bytesReceived: 50, framesWritten: 3, bytesWritten: 30, framesDropped: { duplicate: 1, worker_lost: 1 } },
      chat: { framesReceived: 2, bytesReceived: 20, framesWritten: 2, bytesWritten: 20, framesDropped: {} },
    });
    accounting.received('audio', 10);
    accounting.dropped('audio', 'duplicate');
    const media = accounting.media({});
    expect(media.audio).toEqual({ framesReceived: 6, bytesReceived: 60, framesWritten: 3, bytesWritten: 30, framesDropped: { duplicate: 2, worker_lost: 1 } });
    expect(media.chat?.framesWritten).toBe(2);
  });

  it('the snapshot is a copy: later counts do not change it', () => {
    const accounting = new SessionAccounting();
    accounting.received('audio', 1);
    accounting.dropped('audio', 'excluded');
    const before = accounting.media({});
    accounting.dropped('audio', 'excluded');
    expect(before.audio?.framesDropped).toEqual({ excluded: 1 });
  });

  it('drop reasons are a closed list', () => {
    expect(SESSION_DROP_REASONS).toEqual(['not_requested', 'duplicate', 'excluded', 'awaiting_keyframe', 'buffer_full', 'malformed']);
  });
});
