import { spawn } from 'node:child_process';
import { type ToneOnsetOptions, toneOnsets } from './toneOnsets.ts';

/**
 * Measures the audio-video offset of a recording at the stand-in's sync marks
 * (packages/rtms-simulator/README.md, "Sync marks"): ffmpeg decodes the audio to mono s16 with
 * each frame's presentation time (ashowinfo) and the video to grey with each picture's
 * presentation time and mean luma (showinfo); tone onsets (toneOnsets.ts) are paired with
 * white pictures. ffmpeg is the independent judge here, as ffprobe is for files
 * (test/support/ffprobe.ts).
 */

export interface AvOffsetOptions extends ToneOnsetOptions {
  /** Mean luma (0-255) at or above which a picture is a mark (default 200; fixture pictures are about 125, marks 235-255). */
  readonly lumaThreshold?: number;
  /**
   * A tone and a picture further apart than this are not the same mark, ms (default 400). Keep
   * it under half the mark period: an offset beyond it is reported unpaired, or (beyond half
   * the period) paired with the neighbouring mark.
   */
  readonly maxPairDistanceMs?: number;
  /** Which audio / video stream of the file (ffmpeg's `a:N` / `v:N`, default 0). */
  readonly audioStream?: number;
  readonly videoStream?: number;
}

/** One mark seen in both media. Times on the file's timeline (or the caller's, for parts), ms. */
export interface AvMarkPair {
  readonly audioMs: number;
  readonly videoMs: number;
  /** videoMs - audioMs: positive when the picture is presented after its tone. */
  readonly offsetMs: number;
}

export interface AvOffsetResult {
  /** Presentation time of every tone onset found, ms, ascending. */
  readonly audioMarksMs: readonly number[];
  /** Presentation time of every mark picture found (first of a run of bright pictures), ms, ascending. */
  readonly videoMarksMs: readonly number[];
  readonly pairs: readonly AvMarkPair[];
  readonly unpairedAudioMs: readonly number[];
  readonly unpairedVideoMs: readonly number[];
}

/** Decoded audio: mono s16 samples and where each run of them sits in time. */
interface TimedAudio {
  readonly samples: Int16Array;
  readonly sampleRateHz: number;
  /** Decoded frames in order: first sample index, presentation time in µs, sample count. */
  readonly frames: ReadonlyArray<{ readonly first: number; readonly ptsUs: number; readonly count: number }>;
}

interface Picture {
  readonly index: number;
  readonly ptsUs: number;
  readonly luma: number;
}

/** Offsets at the sync marks of a media file holding audio and video (MP4, Matroska, ...). */
export async function measureAvOffset(file: string, options: AvOffsetOptions = {}): Promise<AvOffsetResult> {
  const [audio, pictures] = await Promise.all([decodeAudio(file, options.audioStream ?? 0), decodePictures(file, options.videoStream ?? 0)]);
  const audioMarksMs = toneOnsets(audio.samples, audio.sampleRateHz, options).map((sample) => sampleTimeUs(audio, sample) / 1000);
  const videoMarksMs = markPictures(pictures, options.lumaThreshold ?? 200).map((picture) => picture.ptsUs / 1000);
  return pairMarks(audioMarksMs, videoMarksMs, options.maxPairDistanceMs ?? 400);
}

/**
 * The same from separate parts: a WAV (or any audio file) whose first sample is at
 * `audioStartMs`, and a video file without usable timing (e.g. an H.264 elementary stream
 * starting at an IDR) whose n-th decoded picture is at `frameTimestampsMs[n]`. Times in the
 * result are on the caller's timeline (e.g. Zoom timestamps).
 */
export async function measureAvOffsetFromParts(
  parts: { readonly audio: string; readonly audioStartMs: number; readonly video: string; readonly frameTimestampsMs: readonly number[] },
  options: AvOffsetOptions = {},
): Promise<AvOffsetResult> {
  const [audio, pictures] = await Promise.all([decodeAudio(parts.audio, 0), decodePictures(parts.video, 0)]);
  if (pictures.length !== parts.frameTimestampsMs.length) {
    throw new Error(`decoded ${pictures.length} pictures from ${parts.video} but ${parts.frameTimestampsMs.length} timestamps were given`);
  }
  const startUs = audio.frames[0]?.ptsUs ?? 0;
  const audioMarksMs = toneOnsets(audio.samples, audio.sampleRateHz, options).map(
    (sample) => parts.audioStartMs + (sampleTimeUs(audio, sample) - startUs) / 1000,
  );
  const videoMarksMs = markPictures(pictures, options.lumaThreshold ?? 200).map((picture) => parts.frameTimestampsMs[picture.index] ?? Number.NaN);
  return pairMarks(audioMarksMs, videoMarksMs, options.maxPairDistanceMs ?? 400);
}

/** Pairs each picture with the nearest unused tone within `maxDistanceMs`. */
export function pairMarks(audioMarksMs: readonly number[], videoMarksMs: readonly number[], maxDistanceMs: number): AvOffsetResult {
  const used = new Set<number>();
  const pairs: AvMarkPair[] = [];
  const unpairedVideoMs: number[] = [];
  for (const videoMs of videoMarksMs) {
    let best = -1;
    for (let i = 0; i < audioMarksMs.length; i += 1) {
      const distance = Math.abs((audioMarksMs[i] ?? Number.NaN) - videoMs);
      if (!used.has(i) && distance <= maxDistanceMs && (best < 0 || distance < Math.abs((audioMarksMs[best] ?? 0) - videoMs))) best = i;
    }
    const audioMs = audioMarksMs[best];
    if (audioMs === undefined) {
      unpairedVideoMs.push(videoMs);
      continue;
    }
    used.add(best);
    pairs.push({ audioMs, videoMs, offsetMs: videoMs - audioMs });
  }
  return {
    audioMarksMs,
    videoMarksMs,
    pairs,
    unpairedAudioMs: audioMarksMs.filter((_, i) => !used.has(i)),
    unpairedVideoMs,
  };
}

function sampleTimeUs(audio: TimedAudio, sample: number): number {
  // Frames are few (tens per second); a linear scan from the end keeps this simple.
  for (let i = audio.frames.length - 1; i >= 0; i -= 1) {
    const frame = audio.frames[i];
    if (frame !== undefined && frame.first <= sample) return frame.ptsUs + ((sample - frame.first) * 1e6) / audio.sampleRateHz;
  }
  return Number.NaN;
}

/** The first picture of each run of pictures at or above the threshold. */
function markPictures(pictures: readonly Picture[], threshold: number): Picture[] {
  return pictures.filter((picture, i) => picture.luma >= threshold && (pictures[i - 1]?.luma ?? 0) < threshold);
}

async function decodeAudio(file: string, stream: number): Promise<TimedAudio> {
  // asettb=AVTB: ashowinfo's pts in µs, exact, whatever the container's time base.
  const { stdout, stderr } = await ffmpeg([
    '-copyts',
    '-i',
    file,
    '-map',
    `0:a:${stream}`,
    '-af',
    'aformat=sample_fmts=s16:channel_layouts=mono,asettb=AVTB,ashowinfo',
    '-f',
    's16le',
    'pipe:1',
  ]);
  const frames: Array<{ first: number; ptsUs: number; count: number }> = [];
  let sampleRateHz = 0;
  let first = 0;
  for (const match of stderr.matchAll(/\bn:\s*\d+\s+pts:\s*(-?\d+)\b.*?\brate:(\d+)\b.*?\bnb_samples:(\d+)/g)) {
    const count = Number(match[3]);
    sampleRateHz = Number(match[2]);
    frames.push({ first, ptsUs: Number(match[1]), count });
    first += count;
  }
  if (first * 2 !== stdout.length || sampleRateHz === 0) {
    throw new Error(`ffmpeg decoded ${stdout.length} audio bytes from ${file} but reported ${first} samples`);
  }
  const samples = new Int16Array(first);
  for (let i = 0; i < first; i += 1) samples[i] = stdout.readInt16LE(2 * i);
  return { samples, sampleRateHz, frames };
}

async function decodePictures(file: string, stream: number): Promise<Picture[]> {
  const { stderr } = await ffmpeg(['-copyts', '-i', file, '-map', `0:v:${stream}`, '-vf', 'settb=AVTB,format=gray,showinfo', '-f', 'null', '-']);
  const pictures: Picture[] = [];
  for (const match of stderr.matchAll(/\bn:\s*(\d+)\s+pts:\s*(-?\d+)\b.*?\bmean:\[(\d+)/g)) {
    pictures.push({ index: Number(match[1]), ptsUs: Number(match[2]), luma: Number(match[3]) });
  }
  return pictures;
}

/** Runs ffmpeg; rejects with its stderr when it exits non-zero. */
function ffmpeg(args: readonly string[]): Promise<{ stdout: Buffer; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('ffmpeg', ['-hide_banner', '-nostdin', '-nostats', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      const stderr = Buffer.concat(err).toString('utf8');
      if (code === 0) resolve({ stdout: Buffer.concat(out), stderr });
      else reject(new Error(`ffmpeg ${args.join(' ')} exited with ${String(code)}: ${stderr.trim().split('\n').slice(-3).join(' | ')}`));
    });
  });
}
