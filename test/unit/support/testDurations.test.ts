import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readRecordedDurations } from '../../support/durationSequencer.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

describe('test/durations.json (the order the suite runs its files in)', () => {
  it('is recorded, and names only test files that exist (re-record with `npm run test:durations` after moving one)', () => {
    const recorded = readRecordedDurations();
    expect(Object.keys(recorded).length).toBeGreaterThan(50);
    const missing = Object.keys(recorded).filter((file) => !existsSync(`${ROOT}${file}`));
    expect(missing).toEqual([]);
    for (const seconds of Object.values(recorded)) expect(seconds).toBeGreaterThanOrEqual(0);
  });
});
