import { describe, expect, it } from 'vitest';
import { base64DecodedLength, decodeMediaMessage } from '../../../src/rtms/mediaMessage.ts';

const pcm = Buffer.from([1, 0, 2, 0, 255, 127, 0, 128]);

describe('decodeMediaMessage', () => {
  it('decodes mixed audio with user 0 and checks the declared length', () => {
    const decoded = decodeMediaMessage(
      { msg_type: 14, content: { user_id: 0, data: pcm.toString('base64'), length: pcm.length, timestamp: 1000 } },
      'audio',
      5,
    );
    expect(decoded).toEqual({ ok: true, frame: { kind: 'audio', userId: '0', userName: undefined, timestamp: 1000, data: pcm, receivedAt: 5 } });
  });

  it('uses the Contact Center channel_id as the speaker', () => {
    const decoded = decodeMediaMessage({ msg_type: 14, content: { channel_id: 'ch-agent', data: pcm.toString('base64'), timestamp: 1 } }, 'audio', 0);
    expect(decoded.ok && decoded.frame.userId).toBe('ch-agent');
  });

  it('keeps transcript text and timing', () => {
    const decoded = decodeMediaMessage(
      { msg_type: 17, content: { user_id: 16778240, user_name: 'Ada', data: 'héllo', timestamp: 10, start_time: 9, end_time: 11, language: 9 } },
      'transcript',
      0,
    );
    expect(decoded.ok && decoded.frame).toMatchObject({ userId: '16778240', userName: 'Ada', startTime: 9, endTime: 11, language: 9 });
    expect(decoded.ok && decoded.frame.data.toString('utf8')).toBe('héllo');
  });

  it('strips a data: URI prefix from share frames', () => {
    const jpeg = Buffer.from([0xff, 0xd8, 0xff, 0xd9]);
    const decoded = decodeMediaMessage(
      { msg_type: 16, content: { user_id: 1, data: `data:image/jpeg;base64,${jpeg.toString('base64')}`, timestamp: 1 } },
      'deskshare',
      0,
    );
    expect(decoded.ok && decoded.frame.data).toEqual(jpeg);
  });

  it.each([
    [{ msg_type: 14 }, 'no_content'],
    [{ msg_type: 14, content: { user_id: 0, timestamp: 1 } }, 'no_data'],
    [{ msg_type: 14, content: { user_id: 0, data: 'AAAA' } }, 'no_timestamp'],
    [{ msg_type: 14, content: { data: 'AAAA', timestamp: 1 } }, 'no_user'],
    [{ msg_type: 14, content: { user_id: 0, data: 'not base64!', timestamp: 1 } }, 'invalid_base64'],
    [{ msg_type: 14, content: { user_id: 0, data: 'AAAA AAA', timestamp: 1 } }, 'invalid_base64'],
    [{ msg_type: 14, content: { user_id: 0, data: 'AA=AAAAA', timestamp: 1 } }, 'invalid_base64'],
    [{ msg_type: 14, content: { user_id: 0, data: 'AAAAA===', timestamp: 1 } }, 'invalid_base64'],
    [{ msg_type: 14, content: { user_id: 0, data: 'AAAAA', timestamp: 1 } }, 'invalid_base64'],
    [{ msg_type: 14, content: { user_id: 0, data: 'AAAA\nAAAA', timestamp: 1 } }, 'invalid_base64'],
    [{ msg_type: 14, content: { user_id: 0, data: 'AAAA', length: 7, timestamp: 1 } }, 'length_mismatch'],
    [{ msg_type: 14, content: { user_id: 0, data: '', timestamp: 1 } }, 'empty'],
  ])('reports %j as %s instead of throwing', (message, reason) => {
    expect(decodeMediaMessage(message, 'audio', 0)).toEqual({ ok: false, kind: 'audio', reason });
  });
});

describe('base64DecodedLength', () => {
  it('accepts exactly the strings of the base64 alphabet (standard or URL-safe) with valid padding', () => {
    // Seeded strings over the alphabet plus the characters a corrupt frame could carry.
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
    const extra = '=-_ !.\n\u00e9';
    const strict = /^[A-Za-z0-9+/\-_]*={0,2}$/;
    let seed = 7;
    const random = (n: number): number => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed % n;
    };
    let valid = 0;
    for (let i = 0; i < 20_000; i++) {
      let text = '';
      for (let length = random(14); length > 0; length--) text += random(10) < 8 ? alphabet[random(64)] : extra[random(extra.length)];
      const expected = text.length % 4 !== 1 && strict.test(text);
      expect(Buffer.from(text, 'base64').length === base64DecodedLength(text), JSON.stringify(text)).toBe(expected);
      if (expected) valid += 1;
    }
    expect(valid).toBeGreaterThan(1000);
  });
});
