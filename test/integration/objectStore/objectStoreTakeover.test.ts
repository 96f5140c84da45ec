import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { eventually } from '../../support/eventually.ts';
import { s3TestEnv } from '../../support/s3Server.ts';
import { s3ServerForFile } from './s3Fixture.ts';
import { readWavData } from '../../support/wavReader.ts';
import { ClusterRig, untilAudio } from '../cluster/clusterRig.ts';

const BUCKET = 'rtms-output';
const BYTES_PER_MS = 32;
const run = promisify(execFile);
const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

describe('object storage: a replica killed mid-stream (SIGKILL), the stream taken over', () => {
  const s3 = s3ServerForFile(BUCKET);
  const objects = (prefix: string): Promise<Map<string, Buffer>> => s3.objects(prefix);

  it('keeps every part the dead owner stored; the new owner stores beside it under the same stream prefix; the example reassembles the audio', async () => {
    const env = {
      ...s3TestEnv(s3.server, `s3://${BUCKET}/cluster`),
      OBJECT_STORE_PART_INTERVAL_MS: '300',
      OBJECT_STORE_SCAN_INTERVAL_MS: '100',
      OBJECT_STORE_SMALL_FILE_INTERVAL_MS: '500',
    };
    const rig = await ClusterRig.start({ replicas: 2, env });
    try {
      const stream = await rig.startStreamOn(0);
      expect(await rig.waitForOwner(stream.rtmsStreamId)).toBe(0);
      const name = basename(rig.streamDir(0, stream));
      const prefix = `cluster/${name}/attempts/`;
      await untilAudio(stream, 2 * 1000 * BYTES_PER_MS);
      await eventually(async () => [...(await objects(prefix)).keys()].filter((key) => key.startsWith('1/audio.wav.parts/')).length >= 2, {
        what: 'two parts of the first owner',
      });

      await rig.stopReplica(0, 'SIGKILL');
      const stored = await objects(prefix);
      const firstParts = [...stored.entries()].filter(([key]) => key.startsWith('1/audio.wav.parts/')).sort(([a], [b]) => a.localeCompare(b));
      await stream.whenReady(2);
      expect(await rig.waitForOwner(stream.rtmsStreamId, (index) => index !== 0)).toBe(1);
      await untilAudio(stream, stream.sent.audioBytes() + 2 * 1000 * BYTES_PER_MS);
      await stream.stop();
      await rig.replica(1).waitForStream(stream.rtmsStreamId, (snapshot) => snapshot['active'] === false);
      const settled = await eventually(
        async () => {
          const now = await objects(prefix);
          const json = now.get('2/stream.json');
          return json !== undefined && (JSON.parse(json.toString()) as { objectStore?: { complete?: boolean } }).objectStore?.complete === true && now;
        },
        { what: 'the new owner to store its final files', timeoutMs: 30_000 },
      );

      // Every part the killed owner stored is still there, unchanged, and equals its local file's bytes.
      const deadLocal = await readFile(join(rig.streamDir(0, stream), 'audio.wav'));
      for (const [key, body] of firstParts) {
        expect(settled.get(key)?.equals(body), key).toBe(true);
        const [, start, end] = /(\d{15})-(\d{15})$/.exec(key)!.map(Number);
        // The WAV header (first 44 bytes) was rewritten locally after the part was stored.
        expect(body.subarray(44 - Math.min(44, start!)).equals(deadLocal.subarray(Math.max(start!, 44), end)), key).toBe(true);
      }
      // The parts are contiguous from byte 0: a retry never wrote a range twice.
      firstParts.forEach(([key], i) => expect(Number(/(\d{15})-/.exec(key)![1])).toBe(i === 0 ? 0 : Number(/-(\d{15})$/.exec(firstParts[i - 1]![0])![1])));
      // The new owner's final objects are its local files, byte for byte; its parts are gone.
      const takerDir = rig.streamDir(1, stream);
      expect(basename(takerDir)).toBe(name);
      // Every local file (transcript.jsonl only when Zoom sent a transcript meanwhile).
      const localFiles = (await readdir(takerDir)).filter((file) => !file.startsWith('.'));
      expect(localFiles).toEqual(expect.arrayContaining(['audio.wav', 'events.jsonl', 'stream.json']));
      for (const file of localFiles) {
        expect(sha256(settled.get(`2/${file}`) ?? Buffer.alloc(0)), file).toBe(sha256(await readFile(join(takerDir, file))));
      }
      expect([...settled.keys()].filter((key) => key.startsWith('2/') && key.includes('.parts/'))).toEqual([]);

      // The example consumer: the dead owner's stored parts, then the taker's audio, in order.
      const out = join(s3.server.directory, 'reassembled.wav');
      const { stdout } = await run(
        process.execPath,
        ['examples/objectStoreAudio.ts', '--url', `s3://${BUCKET}/cluster`, '--stream', name, '--out', out, '--endpoint', s3.server.endpoint],
        {
          env: { ...process.env, AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER' },
        },
      );
      expect(stdout).toMatch(/ from 2 files in 2 attempts/);
      const missing = await run(
        process.execPath,
        ['examples/objectStoreAudio.ts', '--url', `s3://${BUCKET}/cluster`, '--stream', 'no-such-stream', '--out', out, '--endpoint', s3.server.endpoint],
        {
          env: { ...process.env, AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER' },
        },
      ).then(
        () => undefined,
        (error: { code?: number; stderr?: string }) => error,
      );
      expect(missing).toMatchObject({ code: 1, stderr: expect.stringContaining('no mixed audio under s3://rtms-output/cluster/no-such-stream/attempts/') });
      const storedFirst = Buffer.concat(firstParts.map(([, body]) => body)).subarray(44);
      const taker = (await readWavData(join(takerDir, 'audio.wav'))).data;
      const reassembled = (await readWavData(out)).data;
      expect(reassembled.length).toBe(storedFirst.length + taker.length);
      expect(reassembled.subarray(0, storedFirst.length).equals(storedFirst)).toBe(true);
      expect(reassembled.subarray(reassembled.length - taker.length).equals(taker)).toBe(true);
      // And it is what Zoom sent: a prefix of it, then a suffix.
      const sent = stream.sent.audio('0');
      expect(sent.subarray(0, storedFirst.length).equals(storedFirst)).toBe(true);
      expect(sent.subarray(sent.length - taker.length).equals(taker)).toBe(true);
    } finally {
      await rig.close();
    }
  }, 120_000);
});
