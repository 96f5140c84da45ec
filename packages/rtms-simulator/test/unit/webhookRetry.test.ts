import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../../test/support/clock.ts';
import { type RetryOutcome, WebhookRetrier, ZOOM_WEBHOOK_RETRY_DELAYS_MS } from '../../src/webhookRetry.ts';
import type { WebhookResponse } from '../../src/webhookSender.ts';

const MINUTE = 60_000;

/** A retrier on a manual clock whose endpoint answers each attempt from `answers` (an Error: no answer in time). */
function rig(answers: Array<number | Error>, options: { timeScale?: number } = {}) {
  const clock = new ManualClock();
  const attempts: number[] = [];
  const retries: RetryOutcome[] = [];
  const retrier = new WebhookRetrier({
    ...options,
    clock,
    logger: pino({ level: 'silent' }),
    post: async (): Promise<WebhookResponse> => {
      attempts.push(clock.now());
      const answer = answers.shift() ?? 200;
      if (answer instanceof Error) throw answer;
      return { status: answer, body: '' };
    },
  });
  const deliver = () => retrier.deliver('{"event":"meeting.rtms_started"}', (outcome) => retries.push(outcome)).catch((error: unknown) => error);
  return { clock, attempts, retries, retrier, deliver, start: clock.now() };
}

describe("WebhookRetrier (Zoom's redelivery schedule)", () => {
  it('is 5 min after the first attempt, 20 min after the first retry, 60 min after the second, then nothing', () => {
    expect(ZOOM_WEBHOOK_RETRY_DELAYS_MS).toEqual([5 * MINUTE, 20 * MINUTE, 60 * MINUTE]);
  });

  it('never retries an acknowledged delivery', async () => {
    const r = rig([200]);
    await r.deliver();
    expect(r.retrier.pending).toBe(0);
    await r.clock.advance(2 * 3600_000);
    expect(r.attempts).toHaveLength(1);
  });

  it('retries an unanswered delivery on the schedule until the retries run out', async () => {
    const timeout = new Error('no answer within 3000 ms');
    const r = rig([timeout, 503, timeout, 500]);
    expect(await r.deliver()).toBe(timeout);
    await r.clock.advance(5 * MINUTE - 1);
    expect(r.attempts).toHaveLength(1);
    await r.clock.advance(1);
    expect(r.attempts).toHaveLength(2);
    await r.clock.advance(20 * MINUTE);
    await r.clock.advance(60 * MINUTE);
    expect(r.attempts.map((at) => (at - r.start) / MINUTE)).toEqual([0, 5, 25, 85]);
    expect(r.retries).toEqual([
      { retry: 1, status: 503, error: undefined },
      { retry: 2, status: undefined, error: 'no answer within 3000 ms' },
      { retry: 3, status: 500, error: undefined },
    ]);
    expect(r.retrier.pending).toBe(0);
    await r.clock.advance(24 * 60 * MINUTE);
    expect(r.attempts).toHaveLength(4);
  });

  it('stops once a retry is acknowledged, and compresses the schedule by timeScale', async () => {
    const r = rig([500, 500, 204], { timeScale: 0.001 });
    await r.deliver();
    await r.clock.advance(300 + 1200);
    expect(r.attempts.map((at) => at - r.start)).toEqual([0, 300, 1500]);
    expect(r.retries.at(-1)).toEqual({ retry: 2, status: 204, error: undefined });
    expect(r.retrier.pending).toBe(0);
  });

  it('close() cancels waiting retries', async () => {
    const r = rig([500]);
    await r.deliver();
    expect(r.retrier.pending).toBe(1);
    r.retrier.close();
    await r.clock.advance(2 * 3600_000);
    expect(r.attempts).toHaveLength(1);
  });
});
