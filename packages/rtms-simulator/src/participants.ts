import type { Product } from './connectorShared.ts';
import { PARTICIPANT_NAMES } from './phrases.ts';
import { Prng } from './prng.ts';
import { VOICE_COUNT } from './speechSynth.ts';

/** One simulated participant (meetings, webinars, sessions) or call leg (Contact Center). */
export interface SimParticipant {
  /** Position in the stream's participant list; the conversation refers to participants by it. */
  readonly index: number;
  /** Zoom `user_id` (uint32). */
  readonly userId: number;
  readonly userName: string;
  /**
   * Who a media message belongs to, as `stream.sent.audio()` and clients key it: the user id
   * as a string, or the Contact Center `channel_id`.
   */
  readonly key: string;
  /** Contact Center only: the SIP channel of this party, sent as `channel_id`. */
  readonly channelId: string | undefined;
  /** Contact Center only. */
  readonly role: 'agent' | 'customer' | undefined;
  /** Voice profile of the speech synthesiser, 0 to VOICE_COUNT - 1. */
  readonly voice: number;
  /** Linear gain applied in the mix, 0..1. */
  readonly gain: number;
  /** Stereo position in the mix, -1 (left) to 1 (right). */
  readonly pan: number;
}

// Zoom user ids are uint32s that look like 16778240, 16779264…
const USER_ID_BASE = 16_777_216;

/** Creates `count` participants (Contact Center: always an agent and a customer). Deterministic per seed. */
export function createParticipants(options: { product: Product; count: number; seed: number }): SimParticipant[] {
  const prng = new Prng(options.seed);
  if (options.product === 'contact_center') {
    return (['agent', 'customer'] as const).map((role, index) => {
      const channelId = Array.from({ length: 12 }, () => prng.int(0, 15).toString(16)).join('');
      return {
        index,
        userId: USER_ID_BASE + (index + 1) * 1024,
        userName: role === 'agent' ? prng.pick(PARTICIPANT_NAMES) : 'Customer',
        key: channelId,
        channelId,
        role,
        voice: role === 'agent' ? prng.int(3, VOICE_COUNT - 1) : prng.int(0, 2),
        gain: 0.9,
        pan: index === 0 ? -0.4 : 0.4,
      };
    });
  }
  const count = Math.max(1, Math.floor(options.count));
  const offset = prng.int(0, PARTICIPANT_NAMES.length - 1);
  const voiceOffset = prng.int(0, VOICE_COUNT - 1);
  return Array.from({ length: count }, (_, index) => {
    const userId = USER_ID_BASE + (index + 1) * 1024;
    const base = PARTICIPANT_NAMES[(offset + index) % PARTICIPANT_NAMES.length] ?? 'Participant';
    return {
      index,
      userId,
      // Names repeat past the list length; a suffix keeps them distinct.
      userName: index < PARTICIPANT_NAMES.length ? base : `${base} ${Math.floor(index / PARTICIPANT_NAMES.length) + 1}`,
      key: String(userId),
      channelId: undefined,
      role: undefined,
      voice: (voiceOffset + index) % VOICE_COUNT,
      gain: prng.range(0.8, 1),
      pan: count === 1 ? 0 : -0.6 + (1.2 * index) / (count - 1),
    };
  });
}
