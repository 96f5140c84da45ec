import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MediaKind } from '../../../src/vocabulary/mediaKind.ts';
import { inspectStreamOutput } from '../../support/streamOutputReport.ts';
import { MALFORMED_VARIANTS, malformedVariantsFor } from 'rtms-simulator';
import { untilAudioSent, type Rig } from '../connectorHarness.ts';
import { eventually } from '../../support/eventually.ts';
import { mediaCounters, rejoinsOf, RELAXED_KEEPALIVE_ENV, runThroughDisruption, startChaosRig, streamEvents } from './chaosRig.ts';

/**
 * Broken messages against the real connector: every malformed media message is counted as
 * received and dropped as `malformed`, unknown message types are recorded and skipped, the
 * stream stays live, and the valid media around them arrives intact. The connector's
 * `framesReceived` per kind equals what the simulator put on the wire: valid + malformed.
 */

const KINDS: readonly MediaKind[] = ['audio', 'video', 'deskshare', 'transcript', 'chat'];

let rig: Rig;
beforeAll(async () => {
  rig = await startChaosRig({ env: RELAXED_KEEPALIVE_ENV });
});
afterAll(async () => {
  await rig?.close();
});

describe('chaos: malformed, truncated, unknown and oversized messages', () => {
  it('every malformed variant on every media socket is counted and dropped; unknown types skipped; audio identical', async () => {
    const { stream, snapshot, media } = await runThroughDisruption(rig, {
      stream: { participants: 3 },
      async disrupt(stream) {
        let seed = 1;
        for (const kind of KINDS) {
          for (const variant of malformedVariantsFor(kind)) {
            // Twice each: between the two, valid media keeps flowing on the same socket.
            expect(await stream.sendMalformed(kind, variant, seed++)).toBe(true);
            await untilAudioSent(stream, stream.sent.audioBytes() + 640);
            expect(await stream.sendMalformed(kind, variant, seed++)).toBe(true);
          }
          expect(await stream.sendUnknown(kind, seed++)).toBe(true);
        }
        expect(await stream.sendUnknown('signaling', seed)).toBe(true);
        // Garbage on signaling: skipped (logged), not media, not counted.
        expect(await stream.sendRaw('signaling', '{"msg_type":6,"event":')).toBe(true);
        expect(await stream.sendRaw('signaling', 'garbage')).toBe(true);
        // Valid transcript lines around the broken ones, so the check on transcript.jsonl below has lines to compare.
        await untilAudioSent(stream, 0, { transcripts: 2 });
      },
      recovery: 'none',
    });
    expect(snapshot).toMatchObject({ state: 'ended', reconnects: 0 });
    for (const kind of KINDS) {
      const counters = media[kind];
      expect({ kind, malformed: counters?.framesDropped['malformed'] ?? 0 }).toEqual({ kind, malformed: stream.sent.malformedCount(kind) });
      expect({ kind, received: counters?.framesReceived }).toEqual({ kind, received: stream.sent.mediaMessageCount(kind) });
      // A malformed picture is a lost picture: H.264 after it waits for the next IDR, so the
      // valid pictures in between are held back (counted), never written undecodable.
      const heldBack = counters?.framesDropped['awaiting_keyframe'] ?? 0;
      expect({ kind, written: (counters?.framesWritten ?? 0) + heldBack }).toEqual({ kind, written: stream.sent.validCount(kind) });
      if (kind === 'video') expect(heldBack).toBeGreaterThan(0);
      else expect(heldBack).toBe(0);
    }
    const report = await inspectStreamOutput(rig.streamDir(stream), { probe: true });
    expect(report.problems).toEqual([]);
    expect(report.videoFrames).toBe(media['video']?.framesWritten);
    expect(stream.sent.malformedCount()).toBe(2 * KINDS.reduce((sum, kind) => sum + malformedVariantsFor(kind).length, 0));
    expect(new Set(KINDS.flatMap((kind) => malformedVariantsFor(kind)))).toEqual(new Set(MALFORMED_VARIANTS));

    const unknown = (await streamEvents(rig, stream)).filter((event) => event.eventType === 'rtms.unknown_message');
    expect(unknown).toHaveLength(stream.sent.unknownCount());
    expect(unknown.map((event) => event.data['channel']).sort()).toEqual(['signaling', ...KINDS.map((kind) => `media:${kind}`)].sort());
    expect(stream.sent.unknownCount()).toBe(KINDS.length + 1);

    // The stream's transcript and chat files hold exactly the valid lines.
    const transcript = (await readFile(join(rig.streamDir(stream), 'transcript.jsonl'), 'utf8')).split('\n').filter((line) => line !== '');
    expect(transcript.map((line) => (JSON.parse(line) as { text: string }).text)).toEqual(stream.sent.transcripts().map((line) => line.text));
  });

  it('an oversized frame under the payload limit is an ordinary frame: written, and video.h264 still decodes', async () => {
    const { stream, snapshot, media } = await runThroughDisruption(rig, {
      async disrupt(stream) {
        expect(stream.sendOversized('video', 1.5 * 1024 * 1024)).toBe(true);
        expect(stream.sendOversized('deskshare', 1024 * 1024)).toBe(true);
        await eventually(() => stream.sent.oversizedCount() >= 2, { what: 'both oversized frames sent', timeoutMs: 15_000 });
      },
      recovery: 'none',
    });
    expect(stream.sent.oversizedCount('video')).toBe(1);
    expect(stream.sent.oversizedCount('deskshare')).toBe(1);
    expect(snapshot).toMatchObject({ state: 'ended', reconnects: 0 });
    expect(media['video']?.framesReceived).toBe(stream.sent.videoFrameCount());
    expect(media['video']?.framesWritten).toBe(stream.sent.videoFrameCount());
    expect(media['video']?.bytesWritten).toBe(stream.sent.videoFrames().reduce((sum, frame) => sum + frame.length, 0));
    expect(media['deskshare']?.framesWritten).toBe(stream.sent.deskshareFrameCount());
    const h264 = await readFile(join(rig.streamDir(stream), 'video.h264'));
    expect(h264.equals(Buffer.concat(stream.sent.videoFrames()))).toBe(true);
    const report = await inspectStreamOutput(rig.streamDir(stream), { probe: true });
    expect(report.problems).toEqual([]);
  });

  it("a frame above the client's payload limit: that socket is dropped (1009) and rejoined alone, nothing else lost", async () => {
    let mediaBefore = 0;
    const { stream, snapshot } = await runThroughDisruption(rig, {
      disrupt(stream) {
        mediaBefore = stream.connections.mediaAccepted;
        // The connector accepts messages up to 32 MiB; base64 makes this ~45 MB on the wire.
        expect(stream.sendOversized('deskshare', 34 * 1024 * 1024)).toBe(true);
      },
      recovery: 'rejoin',
      noticeWithinMs: 30_000,
    });
    const rejoins = rejoinsOf(snapshot);
    expect(rejoins).toHaveLength(1);
    expect(rejoins[0]?.[0]).toMatch(/^media\//);
    expect(stream.connections.signalingAccepted).toBe(1);
    expect(stream.sent.oversizedLostCount('deskshare')).toBe(1);
    // The client closed the deskshare socket (1009); Zoom answered with EVENT_UPDATE 7, and that one socket came back.
    expect(stream.connections.mediaAccepted).toBe(mediaBefore + 1);
    expect(stream.connections.mediaInterruptions).toBe(1);
    const media = await mediaCounters(rig, stream);
    for (const kind of KINDS) expect({ kind, received: media[kind]?.framesReceived ?? 0 }).toEqual({ kind, received: stream.sent.mediaMessageCount(kind) });
  });
});
