import type { MediaKind } from '../../../src/vocabulary/mediaKind.ts';
import type { Frame, MediaFormats } from '../../../src/vocabulary/frame.ts';

/** Frame and format builders shared by the file sink tests and their child-process fixture. */

export const MIXED_16K: MediaFormats = {
  audio: { sampleRateHz: 16000, channels: 1, mode: 'mixed' },
  video: { codec: 'h264' },
  deskshare: { codec: 'jpg' },
};

export const MULTI_16K: MediaFormats = { ...MIXED_16K, audio: { sampleRateHz: 16000, channels: 1, mode: 'multi' } };

export function frame(kind: MediaKind, data: Buffer | string, fields: Partial<Omit<Frame, 'kind' | 'data'>> = {}): Frame {
  return {
    kind,
    userId: '0',
    userName: undefined,
    timestamp: 1_700_000_000_000,
    receivedAt: 1_700_000_000_005,
    ...fields,
    data: typeof data === 'string' ? Buffer.from(data, 'utf8') : data,
  };
}
