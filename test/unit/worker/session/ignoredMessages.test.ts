import { afterEach, describe, expect, it, vi } from 'vitest';
import { systemClock } from '../../../../src/clock.ts';
import { createLogger } from '../../../../src/logger.ts';
import { FIRST_PER_REASON, IgnoredMessages, SUMMARY_INTERVAL_MS } from '../../../../src/worker/session/ignoredMessages.ts';

afterEach(() => {
  vi.useRealTimers();
});

function setup() {
  vi.useFakeTimers({ now: 1_000_000 });
  const events: Array<{ eventType: string; data: Record<string, unknown> }> = [];
  const counted: string[] = [];
  const ignored = new IgnoredMessages({
    clock: systemClock,
    logger: createLogger({ level: 'silent' }),
    event: (eventType, data) => events.push({ eventType, data }),
    count: (channel, reason) => counted.push(`${channel}/${reason}`),
  });
  return { events, counted, ignored };
}

describe('IgnoredMessages', () => {
  it('counts every message, writes the first few per channel and reason, then one summary per interval', () => {
    const { events, counted, ignored } = setup();
    for (let i = 0; i < 100_000; i += 1) ignored.record('media:all', 'unknown_msg_type', { msgType: 100_000 + i });
    for (let i = 0; i < 3; i += 1) ignored.record('signaling', 'invalid_json');
    expect(counted).toHaveLength(100_003);
    expect(counted.filter((key) => key === 'signaling/invalid_json')).toHaveLength(3);
    expect(events.map((event) => event.eventType)).toEqual([...Array(FIRST_PER_REASON).fill('rtms.unknown_message'), ...Array(3).fill('rtms.ignored_message')]);
    expect(events[0]?.data).toEqual({ channel: 'media:all', reason: 'unknown_msg_type', msgType: 100_000 });
    expect(events[FIRST_PER_REASON - 1]?.data).toMatchObject({ moreSummarisedEveryMs: SUMMARY_INTERVAL_MS });

    vi.advanceTimersByTime(SUMMARY_INTERVAL_MS);
    expect(events).toHaveLength(FIRST_PER_REASON + 4);
    expect(events.at(-1)).toEqual({
      eventType: 'rtms.ignored_messages',
      data: {
        sinceMs: SUMMARY_INTERVAL_MS,
        counts: { 'media:all/unknown_msg_type': 100_000 - FIRST_PER_REASON },
        totals: { 'media:all/unknown_msg_type': 100_000 },
      },
    });
    // Quiet: no more summaries.
    vi.advanceTimersByTime(5 * SUMMARY_INTERVAL_MS);
    expect(events).toHaveLength(FIRST_PER_REASON + 4);

    ignored.record('media:all', 'unknown_msg_type', { msgType: 7 });
    ignored.close();
    expect(events.at(-1)?.data).toMatchObject({ counts: { 'media:all/unknown_msg_type': 1 }, totals: { 'media:all/unknown_msg_type': 100_001 } });
  });
});
