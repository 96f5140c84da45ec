import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

/**
 * ffprobe as the independent judge of the files we write (demo and tests). Rejects when
 * ffprobe reports any error, so "ffprobe reads it" means "without a single complaint".
 */

const run = promisify(execFile);

export interface ProbeResult {
  streams: Array<Record<string, string | number | undefined>>;
  format?: Record<string, string | number | undefined>;
}

/** True when an `ffprobe` binary is on PATH. */
export async function ffprobeAvailable(): Promise<boolean> {
  try {
    await run('ffprobe', ['-version']);
    return true;
  } catch {
    return false;
  }
}

/** Runs ffprobe with JSON output; rejects (with stderr) if ffprobe reports an error. */
export async function ffprobe(path: string, args: readonly string[]): Promise<ProbeResult> {
  const { stdout, stderr } = await run('ffprobe', ['-v', 'error', ...args, '-of', 'json', path], { maxBuffer: 16 * 1024 * 1024 });
  if (stderr.trim() !== '') throw new Error(`ffprobe complained about ${path}: ${stderr.trim()}`);
  return JSON.parse(stdout) as ProbeResult;
}

/** Sample rate, channels, codec and duration (seconds) of an audio file. */
export async function probeAudio(path: string): Promise<{ sampleRate: number; channels: number; codec: string; durationS: number }> {
  const result = await ffprobe(path, ['-show_entries', 'stream=sample_rate,channels,codec_name', '-show_entries', 'format=duration']);
  const stream = result.streams[0];
  if (stream === undefined) throw new Error(`no audio stream in ${path}`);
  return {
    sampleRate: Number(stream['sample_rate']),
    channels: Number(stream['channels']),
    codec: String(stream['codec_name']),
    durationS: Number(result.format?.['duration']),
  };
}

/** Frames a decoder reads from a video file (`-count_frames`), with codec and size. */
export async function countVideoFrames(path: string): Promise<{ codec: string; frames: number; width: number; height: number }> {
  const result = await ffprobe(path, ['-count_frames', '-select_streams', 'v:0', '-show_entries', 'stream=codec_name,nb_read_frames,width,height']);
  const stream = result.streams[0];
  if (stream === undefined) throw new Error(`no video stream in ${path}`);
  return {
    codec: String(stream['codec_name']),
    frames: Number(stream['nb_read_frames']),
    width: Number(stream['width']),
    height: Number(stream['height']),
  };
}
