import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { WavWriter } from '../../../src/media/wavWriter.ts';
import { measureMediaOnDisk } from '../../../src/sinks/outputOnDisk.ts';
import type { StreamStart } from '../../../src/rtms/products.ts';
import { ResumedAccounting, carryOver, lostDropReason } from '../../../src/worker/resumeAccounting.ts';
import { initialStreamStats } from '../../../src/vocabulary/streamStats.ts';
import { wavHeader } from '../../support/wavReader.ts';

describe('carryOver', () => {
  it('counts the unreported remainder under the lost reason and takes bytesWritten from the disk', () => {
    const previous = {
      audio: { framesReceived: 100, bytesReceived: 64_000, framesWritten: 88, bytesWritten: 56_320, framesDropped: { duplicate: 2 } },
      transcript: { framesReceived: 3, bytesReceived: 90, framesWritten: 3, bytesWritten: 300, framesDropped: {} },
    };
    const { media, lost } = carryOver(previous, { audio: 60_160, transcript: 300, chat: 120 }, 'worker_lost');
    expect(lost).toEqual({ audio: 10 });
    expect(media.audio).toEqual({
      framesReceived: 100,
      bytesReceived: 64_000,
      framesWritten: 88,
      bytesWritten: 60_160,
      framesDropped: { duplicate: 2, worker_lost: 10 },
    });
    expect(media.transcript?.framesDropped).toEqual({});
    // A file the report did not know yet (written after it) still counts as bytes on disk.
    expect(media.chat).toMatchObject({ framesReceived: 0, bytesWritten: 120 });
    for (const counters of Object.values(media)) {
      const dropped = Object.values(counters.framesDropped).reduce((sum, count) => sum + count, 0);
      expect(counters.framesReceived).toBe(counters.framesWritten + dropped);
    }
  });

  it('never lowers bytesWritten below the report (a replica on its own volume sees none of the files)', () => {
    const previous = { audio: { framesReceived: 10, bytesReceived: 6400, framesWritten: 10, bytesWritten: 6400, framesDropped: {} } };
    expect(carryOver(previous, undefined, 'replica_lost').media.audio?.bytesWritten).toBe(6400);
    expect(carryOver(previous, {}, 'replica_lost').media.audio?.bytesWritten).toBe(6400);
  });

  it('names the reason after what was lost', () => {
    expect(lostDropReason('worker_crashed')).toBe('worker_lost');
    expect(lostDropReason('worker_unresponsive')).toBe('worker_lost');
    expect(lostDropReason('takeover')).toBe('replica_lost');
    expect(lostDropReason('handoff')).toBe('replica_lost');
  });
});

describe('measureMediaOnDisk', () => {
  it("measures each kind as bytesWritten counts it: WAV data its header declares, other files' sizes", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rtms-measure-'));
    try {
      for (const name of ['audio.wav', 'audio.part2.wav', 'audio-16778240.wav']) {
        const wav = new WavWriter({ path: join(dir, name), sampleRateHz: 16_000, channels: 1 });
        wav.append(Buffer.alloc(640, 1));
        await wav.close();
      }
      await writeFile(join(dir, 'video.h264'), Buffer.alloc(1000));
      // A part started after a lost or torn file counts for its kind too.
      await writeFile(join(dir, 'video.part2.h264'), Buffer.alloc(24));
      await writeFile(join(dir, 'transcript.jsonl'), '{"text":"hi"}\n');
      await writeFile(join(dir, 'events.jsonl'), '{"eventType":"x"}\n');
      await mkdir(join(dir, 'deskshare'));
      await writeFile(join(dir, 'deskshare', '1.jpg'), Buffer.alloc(50));
      await writeFile(join(dir, 'deskshare', '.2.jpg.tmp'), Buffer.alloc(7));
      // Data past the header's data size (a crash between a write and the header refresh) is not readable audio.
      await writeFile(join(dir, 'audio-9.wav'), Buffer.concat([wavHeader(320), Buffer.alloc(640)]));
      expect(await measureMediaOnDisk(dir)).toEqual({ audio: 3 * 640 + 320, video: 1024, transcript: 14, deskshare: 50 });
      expect(await measureMediaOnDisk(join(dir, 'missing'))).toBeUndefined();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('ResumedAccounting', () => {
  const previous = {
    ...initialStreamStats({ rtmsStreamId: 's', product: 'meeting', entityId: 'e' } as StreamStart, 'live', 0),
    reportedAt: 1000,
    media: {
      audio: { framesReceived: 50, bytesReceived: 32_000, framesWritten: 45, bytesWritten: 28_800, framesDropped: {} },
      transcript: { framesReceived: 2, bytesReceived: 40, framesWritten: 2, bytesWritten: 200, framesDropped: {} },
    },
  };

  it('closes one media.gap per kind, from the last report to the first frame of the kind, or at the end', () => {
    const resumed = new ResumedAccounting({ previous, reason: 'worker_crashed', onDisk: { audio: 29_440, transcript: 200 } }, 1500);
    expect(resumed.summary()).toEqual({ lostReason: 'worker_lost', lostFrames: { audio: 5, transcript: 0 } });
    expect(resumed.media.audio).toMatchObject({ bytesWritten: 29_440, framesDropped: { worker_lost: 5 } });
    expect(resumed.close('audio', 1700)).toEqual({
      kind: 'audio',
      reason: 'worker_lost',
      frames: 5,
      fromTimestamp: 1000,
      toTimestamp: 1700,
      clock: 'connector',
    });
    expect(resumed.close('audio', 1800)).toBeUndefined();
    expect(resumed.closeAll(2000)).toEqual([
      { kind: 'transcript', reason: 'worker_lost', frames: 0, fromTimestamp: 1000, toTimestamp: 2000, clock: 'connector' },
    ]);
    expect(resumed.closeAll(2100)).toEqual([]);
  });

  it('an orderly hand-off marks only kinds that lost frames', () => {
    const resumed = new ResumedAccounting({ previous, reason: 'handoff' }, 1500);
    expect(resumed.summary()).toEqual({ lostReason: 'replica_lost', lostFrames: { audio: 5 } });
  });
});
