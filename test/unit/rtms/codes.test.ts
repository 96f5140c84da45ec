import { describe, expect, it } from 'vitest';
import {
  EVENT_TYPE_NAMES,
  EventType,
  RtmsSessionState,
  RtmsStreamState,
  SESSION_STATE_NAMES,
  STATUS_CODE_NAMES,
  STOP_REASON_NAMES,
  STREAM_STATE_NAMES,
  StatusCode,
  StopReason,
  ZCC_EVENT_TYPE_NAMES,
  ZccEventType,
  isRetryableStatus,
  nameOf,
} from '../../../src/rtms/codes.ts';

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

  it('each table names every value once, with no gap: the full tables, not only the values the code reads', () => {
    const tables: Array<[Readonly<Record<string, number>>, readonly string[], number]> = [
      [StatusCode, STATUS_CODE_NAMES, 48],
      [StopReason, STOP_REASON_NAMES, 27],
      [RtmsStreamState, STREAM_STATE_NAMES, 7],
      [RtmsSessionState, SESSION_STATE_NAMES, 6],
      [EventType, EVENT_TYPE_NAMES, 15],
    ];
    for (const [table, names, size] of tables) {
      expect(Object.values(table)).toEqual(Array.from({ length: size }, (_, value) => value));
      expect(names).toEqual(Object.keys(table));
    }
    expect(Object.values(ZccEventType)).toEqual(Array.from({ length: 22 }, (_, i) => i + 8));
    expect(nameOf(ZCC_EVENT_TYPE_NAMES, ZccEventType.TRANSFER_ACCEPTED)).toBe('TRANSFER_ACCEPTED');
  });
});
