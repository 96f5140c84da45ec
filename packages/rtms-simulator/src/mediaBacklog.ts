import { Deque } from './deque.ts';
import type { SimParticipant } from './participants.ts';
import type { PacketMark } from './syncMarks.ts';

/**
 * Server-side buffer of media that must not be lost: audio (Zoom buffers audio during
 * interruptions and delivers it after the client rejoins, docs/protocol.md#rejoins), and — as a simulator
 * convenience — transcript and chat lines. One FIFO per kind, so a missing transcript
 * socket never holds audio back. Bounded: audio by media time span and bytes, text by
 * item count; the oldest items go first and every drop is counted.
 */

export interface AudioItem {
  readonly kind: 'audio';
  /** Undefined for mixed audio (user 0). */
  readonly participant: SimParticipant | undefined;
  readonly data: Buffer;
  /** ms epoch */
  readonly timestamp: number;
  /** Media time of the packet start, ms. */
  readonly mediaMs: number;
  /** Sync-mark tone onsets in this packet (sync marks on, carrier only). */
  readonly syncMarks?: readonly PacketMark[];
}

export interface TranscriptItem {
  readonly kind: 'transcript';
  readonly participant: SimParticipant;
  readonly text: string;
  /** ms epoch */
  readonly startTime: number;
  /** ms epoch */
  readonly endTime: number;
  readonly language: number;
}

export interface ChatItem {
  readonly kind: 'chat';
  readonly participant: SimParticipant;
  readonly text: string;
  /** ms epoch */
  readonly timestamp: number;
}

export type BacklogItem = AudioItem | TranscriptItem | ChatItem;
export type BacklogKind = BacklogItem['kind'];

export interface BacklogLimits {
  /** Longest span of buffered audio, ms (default 60 000, Zoom's buffer). */
  readonly audioMaxMs?: number;
  /** Most buffered audio bytes (default 64 MiB). */
  readonly audioMaxBytes?: number;
  /** Most buffered transcript lines and chat messages, each (default 2000). */
  readonly textMaxItems?: number;
}

export interface BacklogDrops {
  audioPackets: number;
  transcripts: number;
  chats: number;
}

export class MediaBacklog {
  readonly #audio = new Deque<AudioItem>();
  readonly #transcript = new Deque<TranscriptItem>();
  readonly #chat = new Deque<ChatItem>();
  readonly #audioMaxMs: number;
  readonly #audioMaxBytes: number;
  readonly #textMaxItems: number;
  #audioBytes = 0;
  /** Items discarded because a bound was hit. */
  readonly dropped: BacklogDrops = { audioPackets: 0, transcripts: 0, chats: 0 };

  constructor(limits: BacklogLimits = {}) {
    this.#audioMaxMs = limits.audioMaxMs ?? 60_000;
    this.#audioMaxBytes = limits.audioMaxBytes ?? 64 * 1024 * 1024;
    this.#textMaxItems = limits.textMaxItems ?? 2000;
  }

  size(kind: BacklogKind): number {
    return this.#queue(kind).size;
  }

  get audioBytes(): number {
    return this.#audioBytes;
  }

  /** Appends a newly produced item, evicting the oldest of its kind beyond the bounds. */
  push(item: BacklogItem): void {
    switch (item.kind) {
      case 'audio': {
        this.#audio.push(item);
        this.#audioBytes += item.data.length;
        for (let oldest = this.#audio.peek(); oldest !== undefined; oldest = this.#audio.peek()) {
          if (oldest.mediaMs > item.mediaMs - this.#audioMaxMs && this.#audioBytes <= this.#audioMaxBytes) break;
          this.#audio.shift();
          this.#audioBytes -= oldest.data.length;
          this.dropped.audioPackets += 1;
        }
        break;
      }
      case 'transcript':
        this.#transcript.push(item);
        if (this.#transcript.size > this.#textMaxItems) {
          this.#transcript.shift();
          this.dropped.transcripts += 1;
        }
        break;
      case 'chat':
        this.#chat.push(item);
        if (this.#chat.size > this.#textMaxItems) {
          this.#chat.shift();
          this.dropped.chats += 1;
        }
        break;
    }
  }

  /** Puts items that were sent but never delivered back in front, keeping their order. */
  requeueFront(items: readonly BacklogItem[]): void {
    for (let i = items.length - 1; i >= 0; i -= 1) {
      const item = items[i] as BacklogItem;
      switch (item.kind) {
        case 'audio':
          this.#audio.unshift(item);
          this.#audioBytes += item.data.length;
          break;
        case 'transcript':
          this.#transcript.unshift(item);
          break;
        case 'chat':
          this.#chat.unshift(item);
          break;
      }
    }
  }

  /** Takes the oldest item of a kind. */
  shift(kind: BacklogKind): BacklogItem | undefined {
    const item = this.#queue(kind).shift();
    if (item?.kind === 'audio') this.#audioBytes -= item.data.length;
    return item;
  }

  /** Returns an item taken with `shift` that could not be sent. */
  unshift(item: BacklogItem): void {
    this.requeueFront([item]);
  }

  /** Discards everything (not counted as drops). */
  clear(): void {
    this.#audio.clear();
    this.#transcript.clear();
    this.#chat.clear();
    this.#audioBytes = 0;
  }

  #queue(kind: BacklogKind): Deque<BacklogItem> {
    return kind === 'audio' ? this.#audio : kind === 'transcript' ? this.#transcript : this.#chat;
  }
}
