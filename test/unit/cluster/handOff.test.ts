import { describe, expect, it } from 'vitest';
import { peerPicker } from '../../../src/cluster/handOff.ts';

describe('peerPicker', () => {
  it('spreads streams over peers, the one with the most room first (ties: the first listed), a slot taken each time', () => {
    const pick = peerPicker(
      new Map([
        ['a', 1],
        ['b', 3],
        ['c', 2],
      ]),
    );
    expect(Array.from({ length: 7 }, () => pick())).toEqual(['b', 'b', 'c', 'a', 'b', 'c', undefined]);
  });

  it('no peer with room: every stream is released for the takeover scan', () => {
    const pick = peerPicker(new Map([['a', 0]]));
    expect(pick()).toBeUndefined();
    expect(peerPicker(new Map())()).toBeUndefined();
  });
});
