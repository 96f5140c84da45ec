import { describe, expect, it } from 'vitest';
import type { StreamStart } from '../../../../src/rtms/products.ts';
import { streamMetadata, streamStats, type StreamFacts } from '../../../../src/worker/session/streamReport.ts';
import { FILES_LISTED } from '../../../../src/vocabulary/streamStats.ts';

const START = {
  product: 'meeting',
  rtmsStreamId: 's1',
  entityIdKey: 'meeting_uuid',
  entityId: 'm1',
  sessionKey: 'k',
  accountId: 'a',
  signalingUrl: 'wss://x',
} as unknown as StreamStart;
const FACTS: StreamFacts = {
  start: START,
  state: 'ended',
  createdAt: Date.UTC(2026, 0, 1),
  liveAt: Date.UTC(2026, 0, 1, 0, 0, 1),
  endedAt: Date.UTC(2026, 0, 1, 0, 1),
  stopReason: 6,
  failure: undefined,
  released: undefined,
  reconnects: 2,
  formats: { audio: { sampleRateHz: 16_000, channels: 1, mode: 'mixed' }, video: { codec: 'h264' }, deskshare: { codec: 'jpg' } },
};
const FIGURES = {
  rejoins: { 'full/signaling_closed': 2 },
  media: { audio: { framesReceived: 10, bytesReceived: 64_000, framesWritten: 10, bytesWritten: 64_000, framesDropped: {} } },
  bufferedBytes: 5,
  files: ['audio.wav', 'events.jsonl'],
  participants: [],
  participantCounts: { joined: 0, present: 0, speaking: 0, notKept: 0 },
  sink: { state: 'ok' as const, lastError: { file: 'audio.wav', code: 'ENOSPC', at: 100 } },
  now: 123,
};

describe('streamStats / streamMetadata', () => {
  it('stats name the stop reason and turn audio bytes into seconds at the negotiated format', () => {
    const stats = streamStats(FACTS, FIGURES);
    expect(stats).toMatchObject({
      rtmsStreamId: 's1',
      state: 'ended',
      stopReason: 6,
      stopReasonName: 'MEETING_ENDED',
      reconnects: 2,
      rejoins: { 'full/signaling_closed': 2 },
      reportedAt: 123,
      fileCount: 2,
    });
    expect(stats.sink).toEqual({ state: 'ok', lastError: { file: 'audio.wav', code: 'ENOSPC', at: 100 } });
    expect(stats.audioSeconds).toBe(2); // 64,000 bytes at 16 kHz mono 16-bit
    expect(streamStats({ ...FACTS, formats: undefined }, FIGURES).audioSeconds).toBe(0);
  });

  it('a report names at most FILES_LISTED files and counts them all', () => {
    const files = Array.from({ length: FILES_LISTED + 3 }, (_, i) => `speaker-${i}.wav`);
    const stats = streamStats(FACTS, { ...FIGURES, files });
    expect(stats.files).toHaveLength(FILES_LISTED);
    expect(stats.fileCount).toBe(FILES_LISTED + 3);
  });

  it('a stream released to another owner says why in stream.json, so the next owner continues its directory', () => {
    expect(streamMetadata({ ...FACTS, released: 'handed_off' }, ['audio'])).toMatchObject({ state: 'ended', released: 'handed_off' });
  });

  it('stream.json metadata carries the same outcome, times as ISO 8601', () => {
    expect(streamMetadata(FACTS, ['audio'])).toEqual({
      rtmsStreamId: 's1',
      product: 'meeting',
      entityIdKey: 'meeting_uuid',
      entityId: 'm1',
      sessionKey: 'k',
      accountId: 'a',
      state: 'ended',
      createdAt: '2026-01-01T00:00:00.000Z',
      liveAt: '2026-01-01T00:00:01.000Z',
      endedAt: '2026-01-01T00:01:00.000Z',
      stopReason: 6,
      stopReasonName: 'MEETING_ENDED',
      failure: undefined,
      released: undefined,
      reconnects: 2,
      mediaRequested: ['audio'],
      formats: FACTS.formats,
    });
  });
});
