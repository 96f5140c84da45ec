/** What the connector wrote for one stream, read back at the end of the soak. */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { SimulatedStream } from 'rtms-simulator';
import { fileSafeId } from '../../src/sinks/fileSafeId.ts';
import { streamDirectory } from '../../src/sinks/streamDirectory.ts';
import type { MediaKind } from '../../src/vocabulary/mediaKind.ts';
import type { MediaCounters } from '../../src/vocabulary/streamStats.ts';
import { readWavData } from '../../test/support/wavReader.ts';

export interface StreamJson {
  readonly state?: string;
  readonly failure?: string;
  readonly sink?: { readonly error?: { readonly code?: string } | null } | null;
  readonly media?: Partial<Record<MediaKind, MediaCounters>>;
}

/** How often the stream was admitted (`stream.connecting`) and failed, and files it lost, from its events.jsonl. */
export async function lifecycleOf(
  outputDir: string,
  rtmsStreamId: string,
): Promise<{ connecting: number; failed: number; fileFailures: number; fileRecoveries: number; filesLost: number }> {
  try {
    const text = await readFile(join(streamDirectory(outputDir, rtmsStreamId), 'events.jsonl'), 'utf8');
    const count = (eventType: string): number => text.split(`"eventType":"${eventType}"`).length - 1;
    return {
      connecting: count('stream.connecting'),
      failed: count('stream.failed'),
      fileFailures: count('sink.file_failing'),
      fileRecoveries: count('sink.file_recovered'),
      filesLost: count('sink.file_lost'),
    };
  } catch {
    return { connecting: 0, failed: 0, fileFailures: 0, fileRecoveries: 0, filesLost: 0 };
  }
}

/**
 * The stream's final stream.json. A stream that ended while the disk was full gets its final
 * one only at the sink's next successful retry (at most 2 s after space is back): wait for it.
 */
export async function finalStreamJson(outputDir: string, rtmsStreamId: string, timeoutMs = 30_000): Promise<StreamJson> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let json: StreamJson | undefined;
    try {
      json = JSON.parse(await readFile(join(streamDirectory(outputDir, rtmsStreamId), 'stream.json'), 'utf8')) as StreamJson;
    } catch (error) {
      if (Date.now() > deadline) throw error;
    }
    if (json !== undefined && (json.state === 'ended' || json.state === 'failed' || Date.now() > deadline)) return json;
    await sleep(200);
  }
}

/** Every audio file of the stream has exactly the PCM the stand-in delivered. */
export async function audioMatches(outputDir: string, stream: SimulatedStream): Promise<boolean> {
  for (const userId of stream.sent.audioUserIds()) {
    const file = userId === '0' ? 'audio.wav' : `audio-${fileSafeId(userId)}.wav`;
    try {
      const wav = await readWavData(join(streamDirectory(outputDir, stream.rtmsStreamId), file));
      if (!wav.data.equals(stream.sent.audio(userId))) return false;
    } catch {
      return false;
    }
  }
  return stream.sent.audioUserIds().length > 0;
}
