import { readFile, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readWavData } from '../../support/wavReader.ts';
import { streamDirectory } from '../../../src/sinks/streamDirectory.ts';
import { startRig, type Rig } from '../connectorHarness.ts';
import { flood, HostileRtmsServer } from './hostileRtmsServer.ts';
import { startBystander, startHostileStream } from './hostileRig.ts';
import { eventually } from '../../support/eventually.ts';

/**
 * A server that sends audio under 20,000 distinct user ids (each its own WAV): the connector's
 * descriptors stay within 2 x OUTPUT_MAX_OPEN_SPEAKER_FILES (64) + 4 (see speakerFiles.ts) of its
 * baseline, plus a margin for the other streams' files, every frame is written (speakers who come back continue in a `.part2.wav`), a
 * bystander stream keeps writing, and memory does not keep a writer per speaker.
 */

const SPEAKERS = 20_000;
const RETURNING = 100;
/** Stated bound: descriptors above the connector's baseline, at any sample during the flood. */
const EXTRA_FDS_LIMIT = 2 * 64 + 4 + 16;
/**
 * Stated bound: RSS growth over the flood, MB. Finalized speaker parts are forgotten and the ones
 * waiting to be finalized count in the 32 MiB buffer (docs/security.md "Bad RTMS server"):
 * measured +114 to +119 MB; keeping every writer, as before, measured +190 to +198 MB.
 */
const RSS_GROWTH_LIMIT_MB = 160;

let rig: Rig;
beforeAll(async () => {
  rig = await startRig({
    RTMS_MEDIA: 'audio,transcript',
    RTMS_AUDIO_MODE: 'multi',
    // The whole flood (13 MB of audio) fits in the buffer: creating 20,000 files on a busy
    // machine is slower than the server sends, and this test is about descriptors, not the
    // drop policy. The bad server sends no keep-alives.
    BUFFER_HIGH_WATER_BYTES: String(32 * 1024 * 1024),
    BUFFER_LOW_WATER_BYTES: String(8 * 1024 * 1024),
    RTMS_KEEPALIVE_TIMEOUT_MS: '600000',
  });
});
afterAll(async () => {
  await rig?.close();
});

/** What a process's descriptors point at, grouped (speaker WAVs as one kind), most first. */
async function describeFds(pid: number): Promise<string> {
  const names = await readdir(`/proc/${pid}/fd`).catch(() => [] as string[]);
  const kinds = new Map<string, number>();
  for (const name of names) {
    const target = (await readlink(`/proc/${pid}/fd/${name}`).catch(() => '?'))
      .replace(/audio-\d+(\.part\d+)?\.wav$/, 'audio-<id>.wav')
      .replace(/\[\d+\]$/, '');
    kinds.set(target, (kinds.get(target) ?? 0) + 1);
  }
  return JSON.stringify([...kinds].sort((a, b) => b[1] - a[1]).slice(0, 6));
}

function pcm(index: number): Buffer {
  const data = Buffer.alloc(640);
  for (let i = 0; i < data.length; i += 1) data[i] = (index * 31 + i * 7) & 0xff;
  return data;
}

function audioMessage(userId: number, index: number, timestamp: number): string {
  return JSON.stringify({ msg_type: 14, content: { user_id: userId, data: pcm(index).toString('base64'), timestamp } });
}

describe('distinct speaker flood', () => {
  it('20,000 user ids: descriptors bounded, no audio lost, a bystander keeps writing', { timeout: 180_000 }, async () => {
    const pid = rig.connector.pid!;
    const fds = async (): Promise<number> => (await readdir(`/proc/${pid}/fd`)).length;
    const bystander = await startBystander(rig);
    const baseline = await fds();
    const rssBefore = Number(/VmRSS:\s+(\d+) kB/.exec(await readFile(`/proc/${pid}/status`, 'utf8'))?.[1]) / 1024;
    let sent: Promise<void> | undefined;
    const start = Date.now();
    const server = await HostileRtmsServer.start({
      onMediaReady: (media) => {
        sent ??= (async () => {
          await flood(media, SPEAKERS, (i) => audioMessage(5_000_000 + i, i, start + i));
          await flood(media, RETURNING, (i) => audioMessage(5_000_000 + i, SPEAKERS + i, start + i + 20));
        })();
      },
    });
    let maxFds = baseline;
    let atMax = '';
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const now = await fds().catch(() => 0);
        if (now > maxFds) {
          maxFds = now;
          atMax = await describeFds(pid);
        }
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    })();
    try {
      const id = await startHostileStream(rig, server.url(), 'speakers');
      await eventually(() => sent !== undefined, { what: 'the hostile server to start its flood' });
      await sent;
      await rig.connector.waitForStream(
        id,
        (stream) => ((stream['media'] as Record<string, { framesWritten: number }>)['audio']?.framesWritten ?? 0) >= SPEAKERS + RETURNING,
        120_000,
      );
      await bystander.check();
      expect((await rig.connector.admin(`/streams/${id}`, 'DELETE')).status).toBe(202);
      const final = await rig.connector.waitForStream(id, (stream) => stream['active'] === false, 60_000);
      sampling = false;
      await sampler;
      const audio = (final['media'] as Record<string, { framesReceived: number; framesWritten: number; framesDropped: Record<string, number> }>)['audio'];
      expect(audio).toMatchObject({ framesReceived: SPEAKERS + RETURNING, framesWritten: SPEAKERS + RETURNING, framesDropped: {} });
      expect(maxFds - baseline, `descriptors at the maximum: ${atMax}`).toBeLessThan(EXTRA_FDS_LIMIT);
      expect(final['fileCount']).toBe(2 * (SPEAKERS + RETURNING) + 2); // each WAV and its time index, + stream.json, events.jsonl
      expect((final['files'] as unknown[]).length).toBe(1000);
      // A returning speaker's audio: part 1 then part 2, byte for byte.
      const dir = streamDirectory(rig.outputDir, id);
      for (const i of [0, 57, RETURNING - 1]) {
        const first = await readWavData(join(dir, `audio-${5_000_000 + i}.wav`));
        const second = await readWavData(join(dir, `audio-${5_000_000 + i}.part2.wav`));
        expect(Buffer.concat([first.data, second.data]).equals(Buffer.concat([pcm(i), pcm(SPEAKERS + i)]))).toBe(true);
      }
      const metrics = await (await fetch(`${rig.connector.baseUrl}/metrics`)).text();
      const closedEarly = Number(/rtms_stream_limit_hits_total\{limit="open_files"\} (\d+)/.exec(metrics)?.[1]);
      expect(closedEarly).toBeGreaterThanOrEqual(SPEAKERS - 64);
      await bystander.finish();
      const rss = Number(/VmRSS:\s+(\d+) kB/.exec(await readFile(`/proc/${pid}/status`, 'utf8'))?.[1]) / 1024;
      process.stdout.write(
        `speakers: descriptors ${baseline} baseline, ${maxFds} max (+${maxFds - baseline}); ${closedEarly} WAVs closed early; RSS ${rssBefore.toFixed(0)} -> ${rss.toFixed(0)} MB\n`,
      );
      expect(rss - rssBefore).toBeLessThan(RSS_GROWTH_LIMIT_MB);
    } finally {
      sampling = false;
      await sampler;
      await server.close();
    }
  });
});
