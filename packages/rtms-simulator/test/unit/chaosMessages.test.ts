import { describe, expect, it } from 'vitest';
import { MessageType } from '../../../../src/rtms/codes.ts';
import { MEDIA_KIND_BY_MESSAGE_TYPE, decodeMediaMessage } from '../../../../src/rtms/mediaMessage.ts';
import type { RtmsMessage } from '../../../../src/rtms/rtmsSocket.ts';
import { MALFORMED_VARIANTS, UNKNOWN_MSG_TYPES, malformedMessage, malformedVariantsFor, unknownMessage } from '../../src/chaosMessages.ts';
import { createParticipants } from '../../src/participants.ts';
import { Prng } from '../../src/prng.ts';
import { SentRecord, type RecordKind } from '../../src/sentRecord.ts';

const KINDS: readonly RecordKind[] = ['audio', 'video', 'deskshare', 'transcript', 'chat'];

/** Why a client following docs/protocol.md#media-messages would refuse the text, or undefined if it would accept it. */
function refusal(text: string, kind: RecordKind): string | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return 'invalid_json';
  }
  if (value === null || typeof value !== 'object' || !Number.isInteger((value as { msg_type?: unknown }).msg_type)) return 'no_msg_type';
  const message = value as RtmsMessage;
  if (MEDIA_KIND_BY_MESSAGE_TYPE.get(message.msg_type) !== kind) return 'wrong_kind';
  const decoded = decodeMediaMessage(message, kind, 0);
  return decoded.ok ? undefined : decoded.reason;
}

describe('chaos messages', () => {
  for (const product of ['meeting', 'contact_center'] as const) {
    it(`${product}: every variant of every kind is a message a client must drop as malformed`, () => {
      const participant = createParticipants({ product, count: 2, seed: 1 })[0];
      if (participant === undefined) throw new Error('no participant');
      for (const kind of KINDS) {
        for (const variant of malformedVariantsFor(kind)) {
          for (let seed = 0; seed < 25; seed += 1) {
            const text = malformedMessage(variant, { kind, product, participant, now: 1_700_000_000_000, prng: new Prng(seed) });
            const why = refusal(text, kind);
            expect({ kind, variant, seed, why: why === undefined ? 'accepted' : 'refused' }).toEqual({ kind, variant, seed, why: 'refused' });
            if (variant === 'invalidJson' || variant === 'truncatedJson') expect(why).toBe('invalid_json');
            else expect(why).not.toBe('wrong_kind');
          }
        }
      }
    });
  }

  it('binary-only variants apply to audio, video and deskshare; chat keeps a missing user (it means user 0)', () => {
    expect(malformedVariantsFor('audio')).toEqual(MALFORMED_VARIANTS);
    expect(malformedVariantsFor('transcript')).toEqual(['invalidJson', 'truncatedJson', 'noContent', 'noData', 'noTimestamp', 'noUser']);
    expect(malformedVariantsFor('chat')).toEqual(['invalidJson', 'truncatedJson', 'noContent', 'noData', 'noTimestamp']);
  });

  it('unknown messages are JSON with a msg_type RTMS V1 does not define', () => {
    const known = new Set<number>(Object.values(MessageType));
    for (const type of UNKNOWN_MSG_TYPES) expect(known.has(type)).toBe(false);
    for (let seed = 0; seed < 50; seed += 1) {
      const message = JSON.parse(unknownMessage(new Prng(seed), 1)) as { msg_type: number };
      expect(UNKNOWN_MSG_TYPES).toContain(message.msg_type);
    }
  });

  it('the same seed builds the same message', () => {
    const participant = createParticipants({ product: 'meeting', count: 1, seed: 1 })[0];
    if (participant === undefined) throw new Error('no participant');
    const build = (): string => malformedMessage('truncatedJson', { kind: 'audio', product: 'meeting', participant, now: 5, prng: new Prng(11) });
    expect(build()).toBe(build());
  });
});

describe('SentRecord chaos counters', () => {
  it('keeps malformed, unknown, oversized and raw messages apart from the valid counts', () => {
    const record = new SentRecord({ recordContent: false });
    record.addAudio('0', Buffer.alloc(640));
    record.addAudio('0', Buffer.alloc(640));
    record.addVideo(Buffer.alloc(10));
    record.addMalformed('audio');
    record.addMalformed('chat');
    record.addUnknown('signaling');
    record.addUnknown('video');
    record.addOversized('video');
    record.addOversizedLost('deskshare');
    record.addRaw('signaling');
    expect(record.validCount('audio')).toBe(2);
    expect(record.malformedCount('audio')).toBe(1);
    expect(record.malformedCount()).toBe(2);
    expect(record.mediaMessageCount('audio')).toBe(3);
    expect(record.mediaMessageCount('chat')).toBe(1);
    expect(record.mediaMessageCount('video')).toBe(1);
    expect(record.unknownCount()).toBe(2);
    expect(record.unknownCount('signaling')).toBe(1);
    expect(record.oversizedCount('video')).toBe(1);
    expect(record.oversizedLostCount()).toBe(1);
    expect(record.rawCount('signaling')).toBe(1);
    expect(record.audioPackets()).toBe(2);
  });
});
