import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../support/eventually.ts';
import { expectEveryFrameAccounted, startRig, waitUntilEnded, type Rig } from './connectorHarness.ts';

/**
 * Zoom's documents name no `server_urls` key for screen share; its RTMSManager library reads
 * `sharescreen`, the media parameters say `deskshare`. The connector takes either, in split mode.
 */

let rig: Rig;
beforeAll(async () => {
  rig = await startRig();
});
afterAll(async () => {
  await rig?.close();
});

describe('screen-share media URL key', () => {
  it.each(['sharescreen', 'deskshare'] as const)('joins the share socket offered under `%s` and records every share frame', async (shareUrlKey) => {
    const stream = await rig.simulator.startStream({ product: 'meeting', shareUrlKey });
    await stream.whenReady();
    await eventually(() => stream.sent.deskshareFrameCount() >= 2, { what: 'two share frames sent', timeoutMs: 15_000 });
    await stream.stop();
    await waitUntilEnded(rig, stream);
    // Split mode: one socket per kind (audio, video, deskshare, transcript, chat), never `all`.
    expect(stream.connections.mediaAccepted).toBe(5);
    const media = await expectEveryFrameAccounted(rig, stream);
    expect(media['deskshare']?.framesReceived).toBe(stream.sent.deskshareFrameCount());
    expect(media['deskshare']?.framesWritten).toBe(stream.sent.deskshareFrameCount());
  });
});
