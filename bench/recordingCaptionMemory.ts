/**
 * What the recording's subtitle track costs in memory (docs/output.md "Recording"): the media
 * held back by `RECORDING_CAPTION_DELAY_MS`. Feeds a Recorder 60 s of 16 kHz mono audio (and,
 * second, the stand-in's camera H.264 at 25 fps), flushing once a second of media time, and
 * compares heap plus array buffers after a full GC, delay 0 (no subtitle track) against the
 * delay, median of three runs each.
 *
 *     node --expose-gc bench/recordingCaptionMemory.ts [delayMs]
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Recorder } from '../src/sinks/recording/recorder.ts';
import type { Frame } from '../src/vocabulary/frame.ts';
import { splitAccessUnits } from '../test/unit/media/mediaTools.ts';

const units = splitAccessUnits(readFileSync(new URL('../packages/rtms-simulator/fixtures/camera.h264', import.meta.url)));
const T0 = 1_700_000_000_000;
const SECONDS = 60;

function media(kind: 'audio' | 'video', ms: number, data: Buffer): Frame {
  return { kind, userId: '0', userName: undefined, timestamp: T0 + ms, receivedAt: T0 + ms, data };
}

async function heldBytes(delayMs: number, video: boolean): Promise<number> {
  const directory = mkdtempSync(join(tmpdir(), 'rtms-caption-memory-'));
  const recorder = new Recorder({ directory, taken: new Set(), fillAudioGaps: false, captionDelayMs: delayMs, onEvent: () => {} });
  recorder.setFormats({ audio: { sampleRateHz: 16000, channels: 1, mode: 'mixed' }, video: { codec: 'h264' }, deskshare: { codec: 'jpg' } });
  for (let ms = 0; ms < SECONDS * 1000; ms += 20) {
    recorder.add(media('audio', ms, Buffer.alloc(640, ms % 251)));
    if (video && ms % 40 === 0) recorder.add(media('video', ms, units[(ms / 40) % units.length]!));
    if (ms % 1000 === 980) await recorder.flush();
  }
  await recorder.flush();
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('run with node --expose-gc');
  gc();
  await new Promise((resolve) => setTimeout(resolve, 10));
  gc();
  const usage = process.memoryUsage();
  await recorder.close();
  rmSync(directory, { recursive: true, force: true });
  return usage.heapUsed + usage.arrayBuffers;
}

const delayMs = Number(process.argv[2] ?? 10_000);
const median = (values: number[]): number => values.sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
for (const video of [false, true]) {
  const without: number[] = [];
  const withDelay: number[] = [];
  for (let run = 0; run < 3; run += 1) {
    without.push(await heldBytes(0, video));
    withDelay.push(await heldBytes(delayMs, video));
  }
  const kib = (bytes: number): string => `${(bytes / 1024).toFixed(0)} KiB`;
  process.stdout.write(`${video ? 'audio + video' : 'audio only'}: ${kib(median(withDelay) - median(without))} more with a ${delayMs} ms caption delay\n`);
}
