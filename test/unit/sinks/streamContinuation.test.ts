import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { planStreamOutput } from '../../../src/sinks/streamContinuation.ts';
import { recordRejection } from '../../../src/sinks/rejectionRecord.ts';
import { statsFromDisk } from '../../../src/worker/resumeFromDisk.ts';
import type { StreamStart } from '../../../src/rtms/products.ts';
import { tempDir } from '../media/mediaTools.ts';

let dir: Awaited<ReturnType<typeof tempDir>>;
beforeEach(async () => {
  dir = await tempDir('rtms-continue-');
});
afterEach(async () => {
  await dir.remove();
});

const START = { rtmsStreamId: 'abc', product: 'meeting', entityIdKey: 'meeting_uuid', entityId: 'm1' } as unknown as StreamStart;

async function seed(document: Record<string, unknown>): Promise<string> {
  const directory = join(dir.path, 'abc');
  await mkdir(directory, { recursive: true });
  await writeFile(join(directory, 'stream.json'), JSON.stringify(document));
  await writeFile(join(directory, 'events.jsonl'), '{"eventType":"stream.ended"}\n');
  return directory;
}

describe('planStreamOutput', () => {
  it('a file where the stream directory goes holds no earlier stream: the attempt writes there (and its files fail visibly)', async () => {
    await writeFile(join(dir.path, 'abc'), 'not a directory');
    expect(planStreamOutput(join(dir.path, 'abc'), { rtmsStreamId: 'abc', at: 0 })).toEqual({
      directory: join(dir.path, 'abc'),
      continues: undefined,
      lateAttempt: undefined,
    });
  });

  it('a stream released to another owner (hand-off, lost lease) is continued, not treated as finished', async () => {
    const directory = await seed({ state: 'ended', released: 'handed_off', files: ['stream.json', 'audio.wav'] });
    expect(planStreamOutput(directory, { rtmsStreamId: 'abc', at: 0 })).toMatchObject({ directory, lateAttempt: undefined, continues: { state: 'ended' } });
  });

  it('a fresh directory: a fresh stream', () => {
    expect(planStreamOutput(join(dir.path, 'abc'), { rtmsStreamId: 'abc', at: 0 })).toEqual({
      directory: join(dir.path, 'abc'),
      continues: undefined,
      lateAttempt: undefined,
    });
  });

  it('an unfinished run (killed connector) is continued in place, with its files and counters', async () => {
    const directory = await seed({
      state: 'live',
      createdAt: '2026-01-01T00:00:00.000Z',
      liveAt: '2026-01-01T00:00:01.000Z',
      reconnects: 2,
      files: ['stream.json', 'events.jsonl', 'audio.wav'],
      media: { audio: { framesReceived: 10, bytesReceived: 6400, framesWritten: 9, bytesWritten: 5760, framesDropped: { buffer_full: 1 } }, video: 'garbage' },
    });
    const plan = planStreamOutput(directory, { rtmsStreamId: 'abc', at: 0 });
    expect(plan).toMatchObject({ directory, lateAttempt: undefined, continues: { state: 'live', files: ['stream.json', 'events.jsonl', 'audio.wav'] } });
    const stats = statsFromDisk(plan.continues!, START);
    expect(stats).toMatchObject({
      createdAt: Date.parse('2026-01-01T00:00:00.000Z'),
      liveAt: Date.parse('2026-01-01T00:00:01.000Z'),
      reconnects: 2,
      media: { audio: { framesReceived: 10, bytesReceived: 6400, framesWritten: 9, bytesWritten: 5760, framesDropped: { buffer_full: 1 } } },
    });
    expect(stats.media.video).toBeUndefined();
  });

  it('a finished stream is never written over: the late attempt goes to attempts/<n>, noted in its events', async () => {
    const directory = await seed({ state: 'ended', files: ['stream.json', 'events.jsonl'] });
    const before = await readFile(join(directory, 'stream.json'), 'utf8');
    const first = planStreamOutput(directory, { rtmsStreamId: 'abc', at: Date.parse('2026-01-01T00:00:00Z') });
    const second = planStreamOutput(directory, { rtmsStreamId: 'abc', at: Date.parse('2026-01-01T00:00:01Z') });
    expect(first).toEqual({ directory: join(directory, 'attempts', '2'), continues: undefined, lateAttempt: 'attempts/2' });
    expect(second.lateAttempt).toBe('attempts/3');
    expect(await readFile(join(directory, 'stream.json'), 'utf8')).toBe(before);
    const events = (await readFile(join(directory, 'events.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { eventType: string; data: unknown });
    expect(events.slice(1)).toMatchObject([
      { eventType: 'stream.late_start', data: { attempt: 'attempts/2', previousState: 'ended' } },
      { eventType: 'stream.late_start', data: { attempt: 'attempts/3', previousState: 'ended' } },
    ]);
  });

  it('a stream.json it cannot read (foreign content) is never written over either', async () => {
    const directory = join(dir.path, 'abc');
    await mkdir(directory, { recursive: true });
    await writeFile(join(directory, 'stream.json'), 'not json {');
    expect(planStreamOutput(directory, { rtmsStreamId: 'abc', at: 0 })).toMatchObject({
      directory: join(directory, 'attempts', '2'),
      lateAttempt: 'attempts/2',
    });
    expect(await readFile(join(directory, 'stream.json'), 'utf8')).toBe('not json {');
  });

  it('a rejection of a late rtms_started is recorded beside the finished stream too', async () => {
    const directory = await seed({ state: 'failed', files: ['stream.json', 'events.jsonl'] });
    const before = await readFile(join(directory, 'stream.json'), 'utf8');
    await recordRejection({ outputDir: dir.path, start: START, reason: 'max_streams', at: 0 });
    expect(await readFile(join(directory, 'stream.json'), 'utf8')).toBe(before);
    expect(await readdir(join(directory, 'attempts', '2'))).toEqual(expect.arrayContaining(['stream.json', 'events.jsonl']));
    expect(JSON.parse(await readFile(join(directory, 'attempts', '2', 'stream.json'), 'utf8'))).toMatchObject({ state: 'rejected', failure: 'max_streams' });
  });
});
