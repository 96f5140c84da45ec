import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { countVideoFrames, probeAudio } from './ffprobe.ts';
import { describeRecording, probeRecording } from './recordingProbe.ts';
import { readWavData } from './wavReader.ts';

/**
 * What one stream directory holds, read back from disk the way a consumer would: the state
 * in `stream.json`, audio seconds from the WAV headers, video frames, transcript and chat
 * lines, and, when `probe` is set, ffprobe's verdict on every audio and H.264 file.
 */
export interface StreamOutputReport {
  readonly directory: string;
  readonly state: string | undefined;
  readonly files: readonly string[];
  readonly audioSeconds: number;
  readonly videoFrames: number;
  readonly transcriptLines: number;
  readonly chatLines: number;
  readonly eventLines: number;
  /** Files ffprobe decoded without complaint. */
  readonly probedFiles: readonly string[];
  /** Each synced recording part (`recording*.mkv`) with ffprobe's summary, when `probe` is set. */
  readonly recordings: ReadonlyArray<{ readonly file: string; readonly summary: string }>;
  /** Everything that is wrong: unreadable files, ffprobe complaints. Empty when all is well. */
  readonly problems: readonly string[];
}

export async function inspectStreamOutput(directory: string, options: { probe: boolean }): Promise<StreamOutputReport> {
  const problems: string[] = [];
  const probedFiles: string[] = [];
  const files = (await readdir(directory, { recursive: true })).map(String).sort();
  const state = await readJson(join(directory, 'stream.json'))
    .then((json) => (typeof json['state'] === 'string' ? json['state'] : undefined))
    .catch((error: unknown) => {
      problems.push(`stream.json: ${String(error)}`);
      return undefined;
    });

  let audioSeconds = 0;
  for (const file of files.filter((name) => name.endsWith('.wav'))) {
    const path = join(directory, file);
    try {
      const wav = await readWavData(path);
      audioSeconds += wav.data.length / (wav.sampleRateHz * wav.channels * 2);
      if (options.probe) {
        const probe = await probeAudio(path);
        if (probe.codec !== 'pcm_s16le') problems.push(`${file}: ffprobe sees codec ${probe.codec}`);
        probedFiles.push(file);
      }
    } catch (error) {
      problems.push(`${file}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  let videoFrames = files.filter((name) => /^video\/.+\.(jpg|png)$/.test(name)).length;
  if (files.includes('video.h264')) {
    if (options.probe) {
      try {
        videoFrames += (await countVideoFrames(join(directory, 'video.h264'))).frames;
        probedFiles.push('video.h264');
      } catch (error) {
        problems.push(`video.h264: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  }

  const recordings: Array<{ file: string; summary: string }> = [];
  for (const file of options.probe ? files.filter((name) => /(^|\/)recording(\.part\d+)?\.mkv$/.test(name)) : []) {
    try {
      recordings.push({ file, summary: describeRecording(await probeRecording(join(directory, file))) });
      probedFiles.push(file);
    } catch (error) {
      problems.push(`${file}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  return {
    directory,
    state,
    recordings,
    files,
    audioSeconds,
    videoFrames,
    transcriptLines: await countLines(join(directory, 'transcript.jsonl')),
    chatLines: await countLines(join(directory, 'chat.jsonl')),
    eventLines: await countLines(join(directory, 'events.jsonl')),
    probedFiles,
    problems,
  };
}

async function readJson(path: string): Promise<Record<string, unknown>> {
  return JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
}

async function countLines(path: string): Promise<number> {
  try {
    return (await readFile(path, 'utf8')).split('\n').filter((line) => line.trim() !== '').length;
  } catch {
    return 0;
  }
}
