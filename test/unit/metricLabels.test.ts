import { describe, expect, it } from 'vitest';
import { nameOf, STOP_REASON_NAMES } from '../../src/rtms/codes.ts';
import { boundedLabel, STREAM_END_LABELS, WEBHOOK_REJECTION_LABELS } from '../../src/metricLabels.ts';

describe('boundedLabel', () => {
  it('keeps a listed value and turns anything else into other', () => {
    expect(boundedLabel(STREAM_END_LABELS, 'MEETING_ENDED')).toBe('MEETING_ENDED');
    expect(boundedLabel(STREAM_END_LABELS, nameOf(STOP_REASON_NAMES, 1_000_007))).toBe('other');
    expect(boundedLabel(WEBHOOK_REJECTION_LABELS, 'WEBHOOK_SIGNATURE_INVALID')).toBe('WEBHOOK_SIGNATURE_INVALID');
    expect(boundedLabel(WEBHOOK_REJECTION_LABELS, undefined)).toBe('other');
  });

  it('gives 100 made-up stop reasons at most 40 distinct values', () => {
    const labels = new Set(Array.from({ length: 100 }, (_, i) => boundedLabel(STREAM_END_LABELS, nameOf(STOP_REASON_NAMES, 1000 + i))));
    expect(labels).toEqual(new Set(['other']));
    expect(STREAM_END_LABELS.length).toBeLessThanOrEqual(40);
  });
});
