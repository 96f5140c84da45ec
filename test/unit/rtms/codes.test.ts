import { describe, expect, it } from 'vitest';
import { STATUS_CODE_NAMES, STOP_REASON_NAMES, isRetryableStatus, nameOf } from '../../../src/rtms/codes.ts';

describe('RTMS codes', () => {
  it('names status codes and stop reasons from the official tables, unknown ones verbatim', () => {
    expect(nameOf(STATUS_CODE_NAMES, 3)).toBe('INVALID_SIGNATURE');
    expect(nameOf(STATUS_CODE_NAMES, 45)).toBe('INTERNAL_EXCEPTION');
    expect(nameOf(STOP_REASON_NAMES, 24)).toBe('KEEP_ALIVE_TIMEOUT');
    expect(nameOf(STOP_REASON_NAMES, 99)).toBe('UNKNOWN_99');
  });

  it('retries only what a retry can fix', () => {
    expect([8, 15, 16, 45].every(isRetryableStatus)).toBe(true);
    // Credentials, stream ids and parameters do not change between attempts.
    expect([1, 2, 3, 4, 7, 9, 14, 17, 24, 41].some(isRetryableStatus)).toBe(false);
  });
});
