import type { Product } from './connectorShared.ts';
import { AGENT_PHRASES, BACKCHANNEL_PHRASES, CHAT_MESSAGES, CUSTOMER_PHRASES, MEETING_PHRASES } from './phrases.ts';
import { Prng, deriveSeed } from './prng.ts';
import { PITCH_LEVELS, SYLLABLE_SHAPES } from './speechSynth.ts';

/**
 * The deterministic script of a simulated meeting: who talks when (turn-taking with pauses,
 * occasional overlap and short backchannels), what they say (transcript text), chat
 * messages and camera toggles. Times are media time in ms since the stream's first packet.
 * The script is generated lazily a little ahead of the time asked for, so it costs O(1)
 * memory however long the stream runs.
 */

export interface ScriptedSyllable {
  /** Offset from the utterance start, ms. */
  readonly offsetMs: number;
  /** Index into SYLLABLE_SHAPES. */
  readonly shape: number;
  /** 0 (low) to PITCH_LEVELS - 1 (high). */
  readonly pitch: number;
}

export interface Utterance {
  readonly id: number;
  /** Participant index. */
  readonly speaker: number;
  readonly startMs: number;
  readonly endMs: number;
  readonly text: string;
  readonly syllables: readonly ScriptedSyllable[];
  /** A short "mm-hmm" over someone else's turn; does not take the floor. */
  readonly backchannel: boolean;
}

export type ConversationEvent =
  | { readonly type: 'utteranceStart'; readonly atMs: number; readonly utterance: Utterance }
  | { readonly type: 'utteranceEnd'; readonly atMs: number; readonly utterance: Utterance }
  | { readonly type: 'chat'; readonly atMs: number; readonly sender: number; readonly text: string }
  | { readonly type: 'camera'; readonly atMs: number; readonly participant: number; readonly on: boolean };

export interface ConversationOptions {
  readonly product: Product;
  /** Number of participants (Contact Center: 2, agent first). */
  readonly participants: number;
  readonly seed: number;
}

/** How far ahead of the asked time the script is generated, ms. */
const LOOKAHEAD_MS = 3000;
/** How long finished utterances are kept for late audio rendering, ms (send_rate is at most 1 s). */
const RETAIN_MS = 5000;
/** Camera toggle cycle of the last participant: off from OFF_AT to ON_AT within each cycle, ms. */
const CAMERA_CYCLE_MS = 20_000;
const CAMERA_OFF_AT_MS = 8_000;
const CAMERA_ON_AT_MS = 13_000;

export class Conversation {
  readonly #options: ConversationOptions;
  /** Separate generators so the script does not depend on how often `advance()` is called. */
  readonly #prng: Prng;
  readonly #chatPrng: Prng;
  readonly #utterances: Utterance[] = [];
  #nextId = 1;
  #nextTurnAtMs: number;
  #lastSpeaker = -1;
  #nextChatAtMs: number;
  #advancedToMs = -1;

  constructor(options: ConversationOptions) {
    this.#options = options;
    this.#prng = new Prng(options.seed);
    this.#chatPrng = new Prng(deriveSeed(options.seed, 'chat'));
    this.#nextTurnAtMs = this.#prng.int(300, 800);
    this.#nextChatAtMs = this.#chatPrng.int(3000, 6000);
  }

  /** The participant whose camera toggles (the last one), or -1 when only one participant. */
  get togglingCamera(): number {
    return this.#options.product !== 'contact_center' && this.#options.participants >= 2 ? this.#options.participants - 1 : -1;
  }

  /** Camera state at a media time. */
  isCameraOn(participant: number, atMs: number): boolean {
    if (participant !== this.togglingCamera) return true;
    const phase = ((atMs % CAMERA_CYCLE_MS) + CAMERA_CYCLE_MS) % CAMERA_CYCLE_MS;
    return phase < CAMERA_OFF_AT_MS || phase >= CAMERA_ON_AT_MS;
  }

  /**
   * Moves the script to `untilMs` and returns what happened after the previous call, up to
   * and including `untilMs`, in time order. Times must not go backwards.
   */
  advance(untilMs: number): ConversationEvent[] {
    const fromMs = this.#advancedToMs;
    if (untilMs <= fromMs) return [];
    while (this.#nextTurnAtMs <= untilMs + LOOKAHEAD_MS) this.#generateTurn();

    const events: ConversationEvent[] = [];
    for (const utterance of this.#utterances) {
      if (utterance.startMs > fromMs && utterance.startMs <= untilMs) events.push({ type: 'utteranceStart', atMs: utterance.startMs, utterance });
      if (utterance.endMs > fromMs && utterance.endMs <= untilMs) events.push({ type: 'utteranceEnd', atMs: utterance.endMs, utterance });
    }
    while (this.#nextChatAtMs <= untilMs) {
      const sender = this.#chatPrng.int(0, this.#options.participants - 1);
      const text = this.#chatPrng.pick(CHAT_MESSAGES);
      if (this.#nextChatAtMs > fromMs) events.push({ type: 'chat', atMs: this.#nextChatAtMs, sender, text });
      this.#nextChatAtMs += this.#chatPrng.int(8000, 20_000);
    }
    const camera = this.togglingCamera;
    if (camera >= 0) {
      const firstCycle = Math.floor(Math.max(0, fromMs) / CAMERA_CYCLE_MS);
      for (let cycle = firstCycle; cycle * CAMERA_CYCLE_MS <= untilMs; cycle += 1) {
        for (const [offset, on] of [
          [CAMERA_OFF_AT_MS, false],
          [CAMERA_ON_AT_MS, true],
        ] as const) {
          const atMs = cycle * CAMERA_CYCLE_MS + offset;
          if (atMs > fromMs && atMs <= untilMs) events.push({ type: 'camera', atMs, participant: camera, on });
        }
      }
    }
    // Ends before starts at the same instant, so a speaker hand-over reads naturally.
    events.sort((a, b) => a.atMs - b.atMs || rank(a) - rank(b));

    this.#advancedToMs = untilMs;
    const keepFrom = untilMs - RETAIN_MS;
    let drop = 0;
    while (drop < this.#utterances.length && (this.#utterances[drop] as Utterance).endMs < keepFrom) drop += 1;
    if (drop > 0) this.#utterances.splice(0, drop);
    return events;
  }

  /** Utterances that overlap [fromMs, toMs), within the retained window. */
  utterancesBetween(fromMs: number, toMs: number): Utterance[] {
    return this.#utterances.filter((utterance) => utterance.startMs < toMs && utterance.endMs > fromMs);
  }

  #generateTurn(): void {
    const prng = this.#prng;
    const count = this.#options.participants;
    let speaker = 0;
    if (count > 1) {
      if (this.#lastSpeaker >= 0 && prng.chance(0.15)) {
        speaker = this.#lastSpeaker;
      } else {
        speaker = prng.int(0, count - 2);
        if (speaker >= this.#lastSpeaker && this.#lastSpeaker >= 0) speaker += 1;
      }
    }
    const phrases = this.#options.product === 'contact_center' ? (speaker === 0 ? AGENT_PHRASES : CUSTOMER_PHRASES) : MEETING_PHRASES;
    const utterance = this.#utterance(speaker, this.#nextTurnAtMs, prng.pick(phrases), false);
    this.#insert(utterance);
    this.#lastSpeaker = speaker;

    const duration = utterance.endMs - utterance.startMs;
    // A listener says "mm-hmm" during a longer turn (needs a third person to stay realistic).
    if (count >= 3 && duration > 1500 && prng.chance(0.2)) {
      let listener = prng.int(0, count - 2);
      if (listener >= speaker) listener += 1;
      const at = utterance.startMs + Math.round(duration * prng.range(0.35, 0.65));
      this.#insert(this.#utterance(listener, at, prng.pick(BACKCHANNEL_PHRASES), true));
    }

    if (count > 1 && prng.chance(0.12)) {
      // The next speaker starts before this one finishes.
      this.#nextTurnAtMs = utterance.endMs - prng.int(150, Math.max(151, Math.min(500, Math.floor(duration / 2))));
    } else if (prng.chance(0.08)) {
      this.#nextTurnAtMs = utterance.endMs + prng.int(1500, 3000);
    } else {
      this.#nextTurnAtMs = utterance.endMs + prng.int(250, 900);
    }
  }

  #utterance(speaker: number, startMs: number, text: string, backchannel: boolean): Utterance {
    const prng = this.#prng;
    const words = text.split(/\s+/).filter((word) => word !== '');
    const syllableCount = words.reduce((sum, word) => sum + syllablesIn(word), 0);
    const question = text.trimEnd().endsWith('?');
    const syllables: ScriptedSyllable[] = [];
    let offset = 0;
    let index = 0;
    for (const word of words) {
      const count = syllablesIn(word);
      for (let s = 0; s < count; s += 1) {
        const shape = prng.int(0, SYLLABLE_SHAPES.length - 1);
        // Declination: high at the start, low at the end; questions rise at the end.
        const position = syllableCount <= 1 ? 0.5 : index / (syllableCount - 1);
        let pitch = position < 0.34 ? PITCH_LEVELS - 1 : position < 0.67 ? 1 : 0;
        if (question && index === syllableCount - 1) pitch = PITCH_LEVELS - 1;
        syllables.push({ offsetMs: offset, shape, pitch });
        offset += (SYLLABLE_SHAPES[shape]?.durationMs ?? 150) + prng.int(0, 25);
        index += 1;
      }
      offset += /[,;:]$/.test(word) ? prng.int(180, 320) : prng.int(30, 110);
    }
    const last = syllables.at(-1);
    const endOffset = last === undefined ? 200 : last.offsetMs + (SYLLABLE_SHAPES[last.shape]?.durationMs ?? 150);
    const utterance: Utterance = {
      id: this.#nextId,
      speaker,
      startMs,
      endMs: startMs + endOffset,
      text,
      syllables,
      backchannel,
    };
    this.#nextId += 1;
    return utterance;
  }

  #insert(utterance: Utterance): void {
    let i = this.#utterances.length;
    while (i > 0 && (this.#utterances[i - 1] as Utterance).startMs > utterance.startMs) i -= 1;
    this.#utterances.splice(i, 0, utterance);
  }
}

function rank(event: ConversationEvent): number {
  return event.type === 'utteranceEnd' ? 0 : event.type === 'utteranceStart' ? 1 : 2;
}

/** Rough English syllable count: vowel groups, at least one, at most four. */
function syllablesIn(word: string): number {
  const groups = word
    .toLowerCase()
    .replace(/[^a-z]/g, '')
    .replace(/e$/, '')
    .match(/[aeiouy]+/g);
  return Math.max(1, Math.min(4, groups?.length ?? 1));
}
