import type { ParticipantSnapshot } from './streamStats.ts';

/**
 * Who is in the stream, from PARTICIPANT_JOIN/LEAVE, ACTIVE_SPEAKER_CHANGE and the user ids
 * seen on media. Ids are strings: Zoom user ids are numbers, Contact Center uses channel ids.
 */
export class ParticipantRoster {
  readonly #participants = new Map<string, { userName: string | undefined; joinedAt: number | undefined; leftAt: number | undefined }>();
  #activeSpeaker: string | undefined;

  join(userId: string, userName: string | undefined, at: number): void {
    const existing = this.#participants.get(userId);
    this.#participants.set(userId, { userName: userName ?? existing?.userName, joinedAt: existing?.joinedAt ?? at, leftAt: undefined });
  }

  leave(userId: string, at: number): void {
    const existing = this.#participants.get(userId);
    this.#participants.set(userId, { userName: existing?.userName, joinedAt: existing?.joinedAt, leftAt: at });
    if (this.#activeSpeaker === userId) this.#activeSpeaker = undefined;
  }

  /** Media from a user we have no join event for (mixed audio `'0'` is not a participant). */
  seen(userId: string, userName: string | undefined, at: number): void {
    if (userId === '0' || this.#participants.has(userId)) return;
    this.join(userId, userName, at);
  }

  setActiveSpeaker(userId: string, userName: string | undefined, at: number): void {
    this.seen(userId, userName, at);
    this.#activeSpeaker = userId;
  }

  snapshot(): ParticipantSnapshot[] {
    return [...this.#participants].map(([userId, p]) => ({
      userId,
      userName: p.userName,
      joinedAt: p.joinedAt,
      leftAt: p.leftAt,
      speaking: userId === this.#activeSpeaker,
    }));
  }
}
