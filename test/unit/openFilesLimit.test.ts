import { describe, expect, it } from 'vitest';
import { openFilesLimit } from '../../src/openFilesLimit.ts';

describe('openFilesLimit', () => {
  it('reads the soft limit from /proc/self/limits text', () => {
    const text =
      'Limit                     Soft Limit           Hard Limit           Units\nMax open files            600                  4096                 files\n';
    expect(openFilesLimit(text)).toBe(600);
    expect(openFilesLimit('Max open files            unlimited            unlimited            files\n')).toBeUndefined();
    expect(openFilesLimit('')).toBeUndefined();
  });

  it('reads this process', () => {
    expect(openFilesLimit()).toBeGreaterThan(0);
  });
});
