import { describe, expect, it } from 'vitest';
import { fileSafeId } from '../../../src/sinks/fileSafeId.ts';
import { oldHashCollision, oldName } from './oldFileSafeId.ts';

describe('fileSafeId', () => {
  it('keeps Zoom user ids and plain Contact Center channel ids as they are', () => {
    expect(fileSafeId('16778240')).toBe('16778240');
    expect(fileSafeId('0')).toBe('0');
    expect(fileSafeId('ch_1-A')).toBe('ch_1-A');
  });

  it('neutralizes path syntax and keeps distinct ids distinct', () => {
    const ids = ['../x', '..%2Fx', '.._x', 'a/b', 'a_b', 'a b', '', '.', '..', 'x'.repeat(65), 'ünï'];
    const safe = ids.map(fileSafeId);
    for (const name of safe) {
      expect(name).toMatch(/^[A-Za-z0-9_~-]{1,81}$/);
      expect(name).not.toMatch(/^\.+$/);
    }
    expect(new Set(safe).size).toBe(ids.length);
    expect(fileSafeId('a/b')).toMatch(/^a_b~[0-9a-f]{32}$/);
    expect(fileSafeId('a/b')).toBe(fileSafeId('a/b'));
  });

  it('keeps apart two ids that shared a name when only 32 bits of hash were kept', () => {
    const [a, b] = oldHashCollision();
    expect(oldName(a)).toBe(oldName(b));
    expect(fileSafeId(a)).not.toBe(fileSafeId(b));
    expect(fileSafeId(a).startsWith('C'.repeat(48) + '~')).toBe(true);
  });
});
