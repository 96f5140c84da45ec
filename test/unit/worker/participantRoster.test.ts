import { describe, expect, it } from 'vitest';
import { PARTICIPANT_PAGE, ParticipantRoster } from '../../../src/worker/participantRoster.ts';

describe('ParticipantRoster', () => {
  it('keeps at most maxParticipants: those who left make room first, then newcomers are counted, not kept', () => {
    const overflow: number[] = [];
    const roster = new ParticipantRoster({ maxParticipants: 3, onOverflow: (count) => overflow.push(count) });
    roster.join('1', 'Ada', 10);
    roster.join('2', 'Bob', 20);
    roster.join('3', undefined, 30);
    roster.leave('2', 40);
    roster.join('4', 'Dan', 50); // takes the place of 2, who left
    expect(roster.counts()).toEqual({ joined: 4, present: 3, speaking: 0, notKept: 0 });
    roster.join('5', 'Eve', 60);
    roster.seen('6', undefined, 70);
    roster.leave('7', 80);
    expect(roster.counts()).toEqual({ joined: 4, present: 3, speaking: 0, notKept: 3 });
    expect(overflow).toEqual([1, 1, 1]);
    expect(roster.page().map((p) => p.userId)).toEqual(['1', '3', '4']);
    // A known participant rejoining is no newcomer.
    roster.leave('1', 90);
    roster.join('1', undefined, 100);
    expect(roster.counts()).toMatchObject({ present: 3, notKept: 3 });
  });

  it('a page is bounded: the speaker first, then those present, then those who left', () => {
    const roster = new ParticipantRoster({ maxParticipants: 1_000_000 });
    for (let i = 0; i < 50_000; i += 1) roster.join(String(i), undefined, i);
    for (let i = 0; i < 10; i += 1) roster.leave(String(i), 60_000);
    roster.setActiveSpeaker('40000', 'Zoe', 70_000);
    const page = roster.page();
    expect(page).toHaveLength(PARTICIPANT_PAGE);
    expect(page[0]).toMatchObject({ userId: '40000', speaking: true });
    expect(page[1]?.userId).toBe('10');
    expect(page.every((p) => p.leftAt === undefined)).toBe(true);
    expect(roster.counts()).toEqual({ joined: 50_000, present: 49_990, speaking: 1, notKept: 0 });
  });
});
