import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startRig } from '../connectorHarness.ts';
import { eventually } from '../../support/eventually.ts';
import { s3TestEnv } from '../../support/s3Server.ts';
import { s3ServerForFile } from './s3Fixture.ts';

const BUCKET = 'connector-output';
const BYTES_PER_MS = 32;
const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');
/** Seconds of audio the store stays down for (`OBJECT_STORE_IT_OUTAGE_S` shortens it while working on this file). */
const OUTAGE_S = Number(process.env['OBJECT_STORE_IT_OUTAGE_S'] ?? 30);

describe('object storage with the real connector', () => {
  const s3 = s3ServerForFile(BUCKET);
  const objects = (prefix: string): Promise<Map<string, Buffer>> => s3.objects(prefix);

  it(
    'ingest loses nothing while the store is down; the parts catch up; SIGTERM stores every file whole before the exit',
    async () => {
      const rig = await startRig({
        ...s3TestEnv(s3.server, `s3://${BUCKET}/c`),
        RTMS_MEDIA: 'audio,transcript',
        OBJECT_STORE_PART_INTERVAL_MS: '300',
        OBJECT_STORE_SCAN_INTERVAL_MS: '100',
      });
      try {
        const stream = await rig.simulator.startStream({ product: 'meeting' });
        await stream.whenReady();
        const prefix = `c/${basename(rig.streamDir(stream))}/attempts/1/`;
        const partsEnd = async (): Promise<number> =>
          Math.max(
            0,
            ...[...(await objects(prefix)).keys()].filter((key) => key.startsWith('audio.wav.parts/')).map((key) => Number(/-(\d{15})$/.exec(key)![1])),
          );
        await eventually(async () => (await partsEnd()) > 0, { what: 'the first audio part in the store' });

        await s3.server.stop();
        const sentAtStop = stream.sent.audioBytes();
        const metrics = async (): Promise<string> => (await fetch(`${rig.connector.baseUrl}/metrics`)).text();
        await eventually(async () => /^rtms_object_store_failures_total\{reason="unreachable"\} [1-9]/m.test(await metrics()), {
          what: 'an unreachable store counted',
        });
        await eventually(() => stream.sent.audioBytes() >= sentAtStop + OUTAGE_S * 1000 * BYTES_PER_MS, {
          what: `${OUTAGE_S} s of audio sent while the store is down`,
          timeoutMs: OUTAGE_S * 1000 + 20_000,
        });
        await s3.server.start();
        // Caught up: the parts reach what the WAV held when the store came back.
        const heldThen = (await readFile(join(rig.streamDir(stream), 'audio.wav'))).length;
        await eventually(async () => (await partsEnd()) >= heldThen, { what: 'the parts to catch up', timeoutMs: 45_000 });

        expect(await rig.connector.stop('SIGTERM')).toBe(0);
        const stored = await objects(prefix);
        const local = JSON.parse(await readFile(join(rig.streamDir(stream), 'stream.json'), 'utf8')) as {
          objectStore: unknown;
          media: Record<string, { framesReceived: number; framesWritten: number }>;
        };
        expect(local['objectStore']).toMatchObject({ attempt: 1, complete: true, notUploaded: [] });
        // Every local file (transcript.jsonl only when Zoom sent a transcript meanwhile).
        const localFiles = (await readdir(rig.streamDir(stream))).filter((file) => !file.startsWith('.'));
        expect(localFiles).toEqual(expect.arrayContaining(['audio.wav', 'events.jsonl', 'stream.json']));
        for (const file of localFiles) {
          expect(sha256(stored.get(file) ?? Buffer.alloc(0)), file).toBe(sha256(await readFile(join(rig.streamDir(stream), file))));
        }
        expect([...stored.keys()].filter((key) => key.includes('.parts/'))).toEqual([]);
        // Every audio frame received was written: the outage never reached ingest.
        const audio = local.media['audio'];
        expect(audio?.framesReceived).toBeGreaterThan(0);
        expect(audio?.framesWritten).toBe(audio?.framesReceived);
      } finally {
        await rig.close();
      }
    },
    120_000 + OUTAGE_S * 1000,
  );
});
