import type { ParticipantCounts, ParticipantSnapshot } from '../vocabulary/streamStats.ts';

/** Participants sent to the supervisor with each stats report, and shown by `GET /streams/{id}`. */
export const PARTICIPANT_PAGE = 100;

interface Entry {
  userName: string | undefined;
  joinedAt: number | undefined;
  leftAt: number | undefined;
}

/**
 * Who is in the stream, from PARTICIPANT_JOIN/LEAVE, ACTIVE_SPEAKER_CHANGE and the user ids
 * seen on media. Ids are strings: Zoom user ids are numbers, Contact Center uses channel ids.
 *
 * Bounded (`RTMS_MAX_PARTICIPANTS`): when full, the participant who left longest ago makes
 * room; with everyone present, a newcomer is not kept, only counted (`notKept`). Counts are
 * kept as it goes, so a report costs at most one page, whatever the roster's size.
 */
export class ParticipantRoster {
  readonly #max: number;
  /** Insertion order is join order (a rejoin after a leave moves to the end). */
  readonly #participants = new Map<string, Entry>();
  /** Those who left, longest ago first: evicted first when the roster is full. */
  readonly #left = new Set<string>();
  #activeSpeaker: string | undefined;
  #joined = 0;
  #notKept = 0;
  /** Called with the number of newcomers not kept since the last call (for the metric). */
  readonly #onOverflow: ((count: number) => void) | undefined;

  constructor(options: { maxParticipants?: number; onOverflow?: (count: number) => void } = {}) {
    this.#max = options.maxParticipants ?? Number.POSITIVE_INFINITY;
    this.#onOverflow = options.onOverflow;
  }

  join(userId: string, userName: string | undefined, at: number): void {
    const existing = this.#participants.get(userId);
    if (existing === undefined && !this.#makeRoom()) return;
    if (existing === undefined) this.#joined += 1;
    this.#left.delete(userId);
    this.#participants.delete(userId);
    this.#participants.set(userId, { userName: userName ?? existing?.userName, joinedAt: existing?.joinedAt ?? at, leftAt: undefined });
  }

  leave(userId: string, at: number): void {
    const existing = this.#participants.get(userId);
    if (existing === undefined) {
      // A leave of someone never seen: remembered only if there is room.
      if (!this.#makeRoom()) return;
      this.#joined += 1;
      this.#participants.set(userId, { userName: undefined, joinedAt: undefined, leftAt: at });
    } else {
      existing.leftAt = at;
    }
    this.#left.delete(userId);
    this.#left.add(userId);
    if (this.#activeSpeaker === userId) this.#activeSpeaker = undefined;
  }

  /** Media from a user we have no join event for (mixed audio `'0'` is not a participant). */
  seen(userId: string, userName: string | undefined, at: number): void {
    if (userId === '0' || this.#participants.has(userId)) return;
    this.join(userId, userName, at);
  }

  setActiveSpeaker(userId: string, userName: string | undefined, at: number): void {
    this.seen(userId, userName, at);
    this.#activeSpeaker = this.#participants.has(userId) ? userId : undefined;
  }

  counts(): ParticipantCounts {
    const present = this.#participants.size - this.#left.size;
    return { joined: this.#joined, present, speaking: this.#activeSpeaker === undefined ? 0 : 1, notKept: this.#notKept };
  }

  /**
   * At most `PARTICIPANT_PAGE` participants: the active speaker, then those present, then
   * those who left, each in join order. Costs a page, not the roster.
   */
  page(): ParticipantSnapshot[] {
    const page: ParticipantSnapshot[] = [];
    const add = (userId: string, entry: Entry): void => {
      page.push({ userId, userName: entry.userName, joinedAt: entry.joinedAt, leftAt: entry.leftAt, speaking: userId === this.#activeSpeaker });
    };
    const speaker = this.#activeSpeaker === undefined ? undefined : this.#participants.get(this.#activeSpeaker);
    if (speaker !== undefined && this.#activeSpeaker !== undefined) add(this.#activeSpeaker, speaker);
    for (const [userId, entry] of this.#participants) {
      if (page.length >= PARTICIPANT_PAGE) break;
      if (entry.leftAt === undefined && userId !== this.#activeSpeaker) add(userId, entry);
    }
    for (const userId of this.#left) {
      if (page.length >= PARTICIPANT_PAGE) break;
      const entry = this.#participants.get(userId);
      if (entry !== undefined) add(userId, entry);
    }
    return page;
  }

  /** True when a new participant may be added: below the cap, or after evicting one who left. */
  #makeRoom(): boolean {
    if (this.#participants.size < this.#max) return true;
    const oldest = this.#left.values().next();
    if (!oldest.done) {
      this.#left.delete(oldest.value);
      this.#participants.delete(oldest.value);
      return true;
    }
    this.#notKept += 1;
    this.#onOverflow?.(1);
    return false;
  }
}
