import { describe, expect, it } from 'vitest';
import { AUTH_FAILURE_BURST, AUTH_FAILURE_MAX_ADDRESSES, AuthFailureLimiter } from '../../../src/http/authFailureLimiter.ts';

function fakeClock(): { now: () => number; advance: (ms: number) => void } {
  let now = 1_730_000_000_000;
  return { now: () => now, advance: (ms) => (now += ms) };
}

describe('AuthFailureLimiter', () => {
  it('lets an address fail AUTH_FAILURE_BURST times, then once per second', () => {
    const clock = fakeClock();
    const limiter = new AuthFailureLimiter({ clock });
    for (let i = 0; i < AUTH_FAILURE_BURST; i++) {
      expect(limiter.retryAfterSeconds('10.0.0.1')).toBe(0);
      limiter.failed('10.0.0.1');
    }
    expect(limiter.retryAfterSeconds('10.0.0.1')).toBe(1);
    expect(limiter.retryAfterSeconds('10.0.0.2')).toBe(0);
    clock.advance(999);
    expect(limiter.retryAfterSeconds('10.0.0.1')).toBe(1);
    clock.advance(1);
    expect(limiter.retryAfterSeconds('10.0.0.1')).toBe(0);
    limiter.failed('10.0.0.1');
    expect(limiter.retryAfterSeconds('10.0.0.1')).toBe(1);
    expect(limiter.refused).toBe(3);
  });

  it('forgets an address once it has earned every attempt back', () => {
    const clock = fakeClock();
    const limiter = new AuthFailureLimiter({ clock });
    limiter.failed('10.0.0.1');
    expect(limiter.size).toBe(1);
    clock.advance(1000);
    expect(limiter.retryAfterSeconds('10.0.0.1')).toBe(0);
    expect(limiter.size).toBe(0);
  });

  it('remembers at most AUTH_FAILURE_MAX_ADDRESSES addresses', () => {
    const limiter = new AuthFailureLimiter({ clock: fakeClock() });
    for (let i = 0; i < AUTH_FAILURE_MAX_ADDRESSES + 500; i++) limiter.failed(`a${i}`);
    expect(limiter.size).toBe(AUTH_FAILURE_MAX_ADDRESSES);
  });
});
