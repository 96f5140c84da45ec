import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { inspectStreamOutput } from '../support/streamOutputReport.ts';
import { readWavData } from '../support/wavReader.ts';
import type { SimulatedStream } from 'rtms-simulator';
import type { MediaCounters } from '../../src/vocabulary/streamStats.ts';
import { expectEveryFrameAccounted, readJsonLines, startRig, untilAudioSent, waitUntilEnded, type Rig } from './connectorHarness.ts';
import { eventually } from '../support/eventually.ts';

/** The connector's JSON log lines with this message. */
function logged(rig: Rig, message: string): Array<Record<string, unknown>> {
  return rig.connector.logLines
    .filter((line) => line.includes(message))
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((entry) => entry['msg'] === message);
}

async function until(condition: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  await eventually(condition, { what, timeoutMs });
}

/** Per media kind, the bytes the stream's files hold, counted as `bytesWritten` counts them. */
async function bytesOnDisk(dir: string): Promise<Record<string, number>> {
  const bytes: Record<string, number> = {};
  for (const name of await readdir(dir)) {
    const path = join(dir, name);
    if (/^audio.*\.wav$/.test(name)) bytes['audio'] = (bytes['audio'] ?? 0) + (await readWavData(path)).data.length;
    // A resumed stream goes on in a new H.264 part from an IDR (`video.part2.h264`).
    const kind = /^(video|deskshare)(?:\.part\d+)?\.h264$|^(transcript|chat)(?:\.part\d+)?\.jsonl$/.exec(name);
    if (kind !== null) bytes[kind[1] ?? kind[2]!] = (bytes[kind[1] ?? kind[2]!] ?? 0) + (await stat(path)).size;
    // Image codecs: one file per frame under video/ or deskshare/.
    if ((name === 'video' || name === 'deskshare') && (await stat(path)).isDirectory()) {
      for (const image of await readdir(path)) bytes[name] = (bytes[name] ?? 0) + (await stat(join(path, image))).size;
    }
  }
  return bytes;
}

/** Every frame accounted, `bytesWritten` equal to the files, every file valid (ffprobe), one `stream.ended`. */
async function expectOutputWhole(rig: Rig, stream: SimulatedStream): Promise<{ media: Record<string, MediaCounters>; events: Array<Record<string, unknown>> }> {
  const dir = rig.streamDir(stream);
  const media = await expectEveryFrameAccounted(rig, stream);
  const onDisk = await bytesOnDisk(dir);
  for (const [kind, counters] of Object.entries(media)) {
    expect({ kind, bytesWritten: counters.bytesWritten }).toEqual({ kind, bytesWritten: onDisk[kind] ?? 0 });
  }
  const report = await inspectStreamOutput(dir, { probe: true });
  expect(report.problems).toEqual([]);
  const events = await readJsonLines(join(dir, 'events.jsonl'));
  expect(events.filter((event) => event['eventType'] === 'stream.ended')).toHaveLength(1);
  return { media, events };
}

/** The stand-in saw one signaling connection at a time for every stream: nothing refused. */
function expectNoDuplicateSignaling(streams: readonly SimulatedStream[]): void {
  for (const stream of streams) {
    expect({ id: stream.rtmsStreamId, duplicate: stream.connections.signalingRejectedDuplicate, refused: stream.connections.handshakeRejections }).toEqual({
      id: stream.rtmsStreamId,
      duplicate: 0,
      refused: [],
    });
  }
}

/** Each crash resumed each of its orphans once: as many resumes as orphans, never two for one crash. */
function expectOneResumePerOrphan(rig: Rig): Map<string, number> {
  const orphans = logged(rig, 'worker exited unexpectedly').reduce((sum, entry) => sum + Number(entry['streams']), 0);
  const resumes = logged(rig, 'resuming stream on another worker');
  expect(resumes.length).toBe(orphans);
  const perStream = new Map<string, number>();
  for (const entry of resumes) perStream.set(String(entry['rtmsStreamId']), (perStream.get(String(entry['rtmsStreamId'])) ?? 0) + 1);
  return perStream;
}

// Each test has its own connector and waits on its crash timers and real-time streams, not
// CPU: the three run side by side.
describe.concurrent('worker crash with many streams', () => {
  it('resumes each orphan exactly once on a live worker; admin DELETE and exclusion reach the resumed session; accounting and files stay whole', async () => {
    const rig = await startRig({ WORKER_THREADS: '2', DEBUG_WORKER_CRASH: '1:3000' });
    try {
      const streams = await Promise.all(Array.from({ length: 4 }, () => rig.simulator.startStream({ product: 'meeting', participants: 2 })));
      await Promise.all(streams.map((stream) => stream.whenReady()));
      // Least-loaded placement put two streams on each worker: worker 1's two come back.
      await until(() => streams.filter((stream) => stream.readyCount >= 2).length === 2, 'two resumed streams');
      const resumed = streams.filter((stream) => stream.readyCount >= 2);
      const untouched = streams.filter((stream) => !resumed.includes(stream));
      await Promise.all(resumed.map((stream) => untilAudioSent(stream, stream.sent.audioBytes() + 32_000 * 2)));

      // The admin API reaches the session that holds the stream now: Zoom gets STREAM_CLOSE.
      const [closed, excluding] = resumed as [SimulatedStream, SimulatedStream];
      expect((await rig.connector.admin(`/streams/${closed.rtmsStreamId}`, 'DELETE')).status).toBe(202);
      expect((await closed.whenEnded()).cause).toBe('closeRequest');
      // A privacy opt-out reaches the session that writes: that participant's frames are dropped.
      const optedOut = excluding.participants[1]!.userId;
      expect((await rig.connector.admin(`/streams/${excluding.rtmsStreamId}/participants/${optedOut}`, 'DELETE')).status).toBe(202);
      const excludedFrames = (snapshot: Record<string, unknown>): number =>
        Object.values(snapshot['media'] as Record<string, MediaCounters>).reduce((sum, counters) => sum + (counters.framesDropped['excluded'] ?? 0), 0);
      await rig.connector.waitForStream(excluding.rtmsStreamId, (snapshot) => excludedFrames(snapshot) > 0);
      const others = [excluding];
      await Promise.all([...others, ...untouched].map((stream) => stream.stop()));
      for (const stream of streams) expect(await waitUntilEnded(rig, stream)).toMatchObject({ state: 'ended' });

      expectNoDuplicateSignaling(streams);
      const resumes = expectOneResumePerOrphan(rig);
      expect([...resumes.keys()].sort()).toEqual(resumed.map((stream) => stream.rtmsStreamId).sort());
      expect([...resumes.values()]).toEqual([1, 1]);
      // The files are checked for all streams at once: ffprobe, not the streams, is the wait.
      const outputs = new Map(await Promise.all(streams.map(async (stream) => [stream, await expectOutputWhole(rig, stream)] as const)));
      for (const stream of resumed) {
        expect(stream.connections.signalingAccepted).toBe(2);
        const { media, events } = outputs.get(stream)!;
        expect(events.filter((event) => event['eventType'] === 'stream.resumed')).toHaveLength(1);
        expect(events.filter((event) => event['eventType'] === 'stream.participant_excluded')).toHaveLength(stream === excluding ? 1 : 0);
        // The window the dead worker's files lack is marked per kind it had, with the frames
        // counted as worker_lost.
        const gaps = events
          .filter((event) => event['eventType'] === 'media.gap')
          .map((event) => event['data'] as { kind: string; reason: string; frames: number; fromTimestamp: number; toTimestamp: number })
          .filter((gap) => gap.reason === 'worker_lost');
        expect(gaps.map((gap) => gap.kind)).toContain('audio');
        process.stdout.write(
          `[worker crash] worker_lost ${JSON.stringify(Object.fromEntries(gaps.map((gap) => [gap.kind, gap.frames])))}, gap ${gaps[0]!.toTimestamp - gaps[0]!.fromTimestamp} ms\n`,
        );
        for (const gap of gaps) {
          expect(gap.toTimestamp).toBeGreaterThanOrEqual(gap.fromTimestamp);
          expect({ kind: gap.kind, frames: gap.frames }).toEqual({ kind: gap.kind, frames: media[gap.kind]?.framesDropped['worker_lost'] ?? 0 });
        }
      }
      for (const stream of untouched) expect(stream.connections.signalingAccepted).toBe(1);
    } finally {
      await rig.close();
    }
  }, 90_000);

  it('survives repeated crashes and a crash during a resume: no stream skipped or doubled, streams wait for a replacement when no worker is live', async () => {
    // Worker 1 dies; its streams resume on worker 2, which dies 20 ms later while resuming
    // them (no live worker: all four wait); the replacement, worker 3, takes them and dies too;
    // worker 4 finishes the job.
    const rig = await startRig({ WORKER_THREADS: '2', DEBUG_WORKER_CRASH: '1:3000,2:3020,3:2500' });
    try {
      const streams = await Promise.all(Array.from({ length: 4 }, () => rig.simulator.startStream({ product: 'meeting' })));
      await Promise.all(streams.map((stream) => stream.whenReady()));
      await until(() => logged(rig, 'worker exited unexpectedly').length === 3, 'three worker crashes', 30_000);
      // After the third crash every stream is live again, on worker 4.
      await until(() => logged(rig, 'resuming stream on another worker').filter((entry) => entry['workerId'] === 4).length === 4, 'all four on worker 4');
      // Each stream, side by side: live again, then two more seconds of audio sent to it.
      await Promise.all(
        streams.map(async (stream) => {
          await rig.connector.waitForStream(stream.rtmsStreamId, (snapshot) => snapshot['state'] === 'live');
          await untilAudioSent(stream, stream.sent.audioBytes() + 32_000 * 2);
        }),
      );
      expect(logged(rig, 'no live worker for the stream now; it resumes when a worker is ready').length).toBeGreaterThan(0);
      await Promise.all(streams.map((stream) => stream.stop()));
      for (const stream of streams) expect(await waitUntilEnded(rig, stream)).toMatchObject({ state: 'ended' });

      expectNoDuplicateSignaling(streams);
      const resumes = expectOneResumePerOrphan(rig);
      for (const stream of streams) {
        // On worker 1 or 2 first: every stream was orphaned by each crash of the worker holding it.
        expect(resumes.get(stream.rtmsStreamId)).toBeGreaterThanOrEqual(2);
      }
      await Promise.all(streams.map((stream) => expectOutputWhole(rig, stream)));
      const metrics = await (await fetch(`${rig.connector.baseUrl}/metrics`)).text();
      expect(metrics).toMatch(/^rtms_worker_restarts_total\{reason="crashed"\} 3$/m);
      // One replacement per death, even for two deaths 100 ms apart: the pool is back to two.
      expect(metrics).toMatch(/^rtms_worker_threads 2$/m);
    } finally {
      await rig.close();
    }
  }, 120_000);

  it('a DELETE that arrives while the stream has no worker reaches Zoom once the stream resumes', async () => {
    // One worker: after its crash no worker is live until the replacement is ready.
    const rig = await startRig({ WORKER_THREADS: '1', DEBUG_WORKER_CRASH: '1:3000' });
    try {
      const stream = await rig.simulator.startStream({ product: 'meeting' });
      await stream.whenReady();
      await until(() => logged(rig, 'worker exited unexpectedly').length === 1, 'the crash', 10_000);
      expect(await rig.connector.admin(`/streams/${stream.rtmsStreamId}`, 'DELETE')).toMatchObject({ status: 202 });
      expect((await stream.whenEnded()).cause).toBe('closeRequest');
      expect(await waitUntilEnded(rig, stream)).toMatchObject({ state: 'ended' });
      // The close was asked before the replacement existed.
      expect(logged(rig, 'no live worker for the stream now; it resumes when a worker is ready')).toHaveLength(1);
      expectNoDuplicateSignaling([stream]);
      expect(stream.connections.signalingAccepted).toBe(2);
      await expectOutputWhole(rig, stream);
    } finally {
      await rig.close();
    }
  }, 60_000);
});
