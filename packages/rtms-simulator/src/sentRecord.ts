/**
 * The exact record of what a simulated stream delivered to its client: a media message
 * counts once the socket accepted its bytes (the `ws` send callback succeeded), so content
 * buffered during an interruption counts when it is finally sent, and a message lost with
 * a socket torn down mid-write is never counted (it is re-queued, or for video dropped).
 * Tests compare what a client received with this byte for byte.
 */

export interface SentTranscript {
  /** `user_id` as a string, or the Contact Center `channel_id`. */
  readonly userId: string;
  readonly userName: string;
  readonly text: string;
  /** ms epoch */
  readonly timestamp: number;
  /** ms epoch */
  readonly startTime: number;
  /** ms epoch */
  readonly endTime: number;
  /** RTMS_TRANSCRIPT_LANGUAGE, 9 = English. */
  readonly language: number;
}

export interface SentChat {
  readonly userId: string;
  readonly userName: string;
  readonly text: string;
  /** ms epoch */
  readonly timestamp: number;
}

/** A sync mark delivered (sync marks on; README.md, "Sync marks"). */
export interface SentSyncMark {
  readonly kind: 'audio' | 'video' | 'deskshare';
  /** The Zoom timestamp of the mark: the tone's first sample, or the picture's `timestamp`, ms epoch. */
  readonly timestamp: number;
  /** Whose audio carried the tone (`'0'` for mixed) or whose picture it was. */
  readonly userId: string;
  /**
   * audio: byte offset of the tone's first sample in `audio(userId)`; video and deskshare:
   * index of the picture in `videoFrames()` / `deskshareFrames()`.
   */
  readonly offset: number;
}

/** Media kinds as the record counts them (same names as the connector's `MediaKind`). */
export type RecordKind = 'audio' | 'video' | 'deskshare' | 'transcript' | 'chat';

/** Where a chaos message with an unknown `msg_type` was written. */
export type UnknownChannel = 'signaling' | RecordKind;

/** Read side of the record, as exposed on `SimulatedStream.sent`. */
export interface SentMedia {
  /** Every PCM byte sent for a user id (`'0'` for mixed audio) or channel id, in order, concatenated. */
  audio(userId: string): Buffer;
  /** User ids (or channel ids) audio was sent for, in first-sent order. */
  audioUserIds(): string[];
  /** Bytes of audio sent: for one user id, or in total. Counted even when content recording is off. */
  audioBytes(userId?: string): number;
  /** Audio messages sent (all users). */
  audioPackets(): number;
  /** Video messages in order, one access unit or picture each. */
  videoFrames(): Buffer[];
  videoFrameCount(): number;
  deskshareFrames(): Buffer[];
  deskshareFrameCount(): number;
  transcripts(): SentTranscript[];
  transcriptCount(): number;
  chats(): SentChat[];
  chatCount(): number;
  /** Sync marks delivered, in delivery order: of one kind, or all. */
  syncMarks(kind?: SentSyncMark['kind']): SentSyncMark[];
  /** Valid media messages of a kind written (audio packets, video frames, ...). */
  validCount(kind: RecordKind): number;
  /**
   * Deliberately malformed media messages (chaos) written on a socket carrying `kind`:
   * unparsable or truncated JSON, and JSON with missing or invalid fields. A client counts
   * each as received and dropped; none is in the content record. Without `kind`: all kinds.
   */
  malformedCount(kind?: RecordKind): number;
  /**
   * What a client should count as media messages received for `kind`: valid + malformed.
   * (Messages with an unknown `msg_type` are not media and are counted by `unknownCount`.)
   */
  mediaMessageCount(kind: RecordKind): number;
  /** Messages with an unknown `msg_type` written (chaos), on signaling or a media socket. */
  unknownCount(channel?: UnknownChannel): number;
  /**
   * Valid frames larger than the client's payload limit (chaos `clientMaxPayloadBytes`): the
   * client closes the socket instead of reading them, so they are in no other count.
   */
  oversizedLostCount(kind?: RecordKind): number;
  /** Valid frames written that were padded to an oversized length (also in the valid counts). */
  oversizedCount(kind?: RecordKind): number;
  /** Text written with `sendRaw()`, unclassified, per channel. */
  rawCount(channel?: UnknownChannel): number;
  /**
   * False when content beyond the counters was not kept (recording disabled, or the
   * per-stream byte cap was reached); counters stay exact either way.
   */
  readonly complete: boolean;
}

export class SentRecord implements SentMedia {
  readonly #recordContent: boolean;
  readonly #maxContentBytes: number;
  #contentBytes = 0;
  #complete: boolean;
  readonly #audio = new Map<string, Buffer[]>();
  readonly #audioBytes = new Map<string, number>();
  #audioPackets = 0;
  readonly #video: Buffer[] = [];
  #videoCount = 0;
  readonly #deskshare: Buffer[] = [];
  #deskshareCount = 0;
  readonly #transcripts: SentTranscript[] = [];
  #transcriptCount = 0;
  readonly #chats: SentChat[] = [];
  #chatCount = 0;
  readonly #malformed = new Map<RecordKind, number>();
  readonly #unknown = new Map<UnknownChannel, number>();
  readonly #oversizedLost = new Map<RecordKind, number>();
  readonly #oversized = new Map<RecordKind, number>();
  readonly #raw = new Map<UnknownChannel, number>();
  readonly #syncMarks: SentSyncMark[] = [];

  /**
   * @param options.recordContent keep payload bytes (default true); counters are always kept.
   * @param options.maxContentBytes cap on kept payload bytes per stream (default 256 MiB).
   */
  constructor(options: { recordContent?: boolean; maxContentBytes?: number } = {}) {
    this.#recordContent = options.recordContent ?? true;
    this.#maxContentBytes = options.maxContentBytes ?? 256 * 1024 * 1024;
    this.#complete = this.#recordContent;
  }

  get complete(): boolean {
    return this.#complete;
  }

  #keep(bytes: number): boolean {
    if (!this.#complete) return false;
    if (this.#contentBytes + bytes > this.#maxContentBytes) {
      this.#complete = false;
      return false;
    }
    this.#contentBytes += bytes;
    return true;
  }

  addAudio(userId: string, data: Buffer): void {
    this.#audioPackets += 1;
    this.#audioBytes.set(userId, (this.#audioBytes.get(userId) ?? 0) + data.length);
    let chunks = this.#audio.get(userId);
    if (chunks === undefined) {
      chunks = [];
      this.#audio.set(userId, chunks);
    }
    if (this.#keep(data.length)) chunks.push(data);
  }

  addVideo(frame: Buffer): void {
    this.#videoCount += 1;
    if (this.#keep(frame.length)) this.#video.push(frame);
  }

  addDeskshare(frame: Buffer): void {
    this.#deskshareCount += 1;
    if (this.#keep(frame.length)) this.#deskshare.push(frame);
  }

  addTranscript(transcript: SentTranscript): void {
    this.#transcriptCount += 1;
    if (this.#keep(transcript.text.length + 64)) this.#transcripts.push(transcript);
  }

  addChat(chat: SentChat): void {
    this.#chatCount += 1;
    if (this.#keep(chat.text.length + 64)) this.#chats.push(chat);
  }

  /** Kept whatever the content cap: marks are few (one per kind per `everyMs`). */
  addSyncMark(mark: SentSyncMark): void {
    this.#syncMarks.push(mark);
  }

  syncMarks(kind?: SentSyncMark['kind']): SentSyncMark[] {
    return this.#syncMarks.filter((mark) => kind === undefined || mark.kind === kind);
  }

  addMalformed(kind: RecordKind): void {
    increment(this.#malformed, kind);
  }

  addUnknown(channel: UnknownChannel): void {
    increment(this.#unknown, channel);
  }

  addOversizedLost(kind: RecordKind): void {
    increment(this.#oversizedLost, kind);
  }

  addOversized(kind: RecordKind): void {
    increment(this.#oversized, kind);
  }

  addRaw(channel: UnknownChannel): void {
    increment(this.#raw, channel);
  }

  validCount(kind: RecordKind): number {
    switch (kind) {
      case 'audio':
        return this.#audioPackets;
      case 'video':
        return this.#videoCount;
      case 'deskshare':
        return this.#deskshareCount;
      case 'transcript':
        return this.#transcriptCount;
      case 'chat':
        return this.#chatCount;
    }
  }

  malformedCount(kind?: RecordKind): number {
    return count(this.#malformed, kind);
  }

  mediaMessageCount(kind: RecordKind): number {
    return this.validCount(kind) + this.malformedCount(kind);
  }

  unknownCount(channel?: UnknownChannel): number {
    return count(this.#unknown, channel);
  }

  oversizedLostCount(kind?: RecordKind): number {
    return count(this.#oversizedLost, kind);
  }

  oversizedCount(kind?: RecordKind): number {
    return count(this.#oversized, kind);
  }

  rawCount(channel?: UnknownChannel): number {
    return count(this.#raw, channel);
  }

  audio(userId: string): Buffer {
    return Buffer.concat(this.#audio.get(userId) ?? []);
  }

  audioUserIds(): string[] {
    return [...this.#audioBytes.keys()];
  }

  audioBytes(userId?: string): number {
    if (userId !== undefined) return this.#audioBytes.get(userId) ?? 0;
    let total = 0;
    for (const bytes of this.#audioBytes.values()) total += bytes;
    return total;
  }

  audioPackets(): number {
    return this.#audioPackets;
  }

  videoFrames(): Buffer[] {
    return [...this.#video];
  }

  videoFrameCount(): number {
    return this.#videoCount;
  }

  deskshareFrames(): Buffer[] {
    return [...this.#deskshare];
  }

  deskshareFrameCount(): number {
    return this.#deskshareCount;
  }

  transcripts(): SentTranscript[] {
    return [...this.#transcripts];
  }

  transcriptCount(): number {
    return this.#transcriptCount;
  }

  chats(): SentChat[] {
    return [...this.#chats];
  }

  chatCount(): number {
    return this.#chatCount;
  }
}

function increment<K>(map: Map<K, number>, key: K): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

function count<K>(map: ReadonlyMap<K, number>, key: K | undefined): number {
  if (key !== undefined) return map.get(key) ?? 0;
  let total = 0;
  for (const value of map.values()) total += value;
  return total;
}
