import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { ffprobe } from './ffprobe.ts';

/**
 * Reads a synced recording (`recording*.mkv`, docs/output.md "Recording") the way a player
 * would: ffprobe's streams and packet times (rejecting any complaint), and the audio track's
 * PCM copied out by ffmpeg, untouched (`-c copy`).
 */

const run = promisify(execFile);

export interface RecordingTrack {
  readonly index: number;
  readonly codec: string;
  readonly type: 'audio' | 'video';
  readonly title: string | undefined;
  /** `16000 Hz` or `160x90`. */
  readonly detail: string;
  /** Packet start times and durations, seconds, in file order. */
  readonly packets: ReadonlyArray<{ readonly pts: number; readonly duration: number }>;
}

export interface RecordingProbe {
  readonly tracks: readonly RecordingTrack[];
  /** The Zoom timestamp of time 0 (the `ZOOM_START_MS` tag). */
  readonly zoomStartMs: number | undefined;
  /** From the first packet's start to the last packet's end over the audio and video tracks, seconds. */
  readonly spanS: number;
  /** The transcript subtitle track's cues (WebVTT in Matroska), undefined when the file has none. */
  readonly captions: readonly RecordingCaption[] | undefined;
}

/** One cue as ffmpeg's Matroska reader hands it over: ms from time 0, and its text (`<v Speaker>line`). */
export interface RecordingCaption {
  readonly startMs: number;
  readonly durationMs: number;
  readonly text: string;
}

export async function probeRecording(path: string): Promise<RecordingProbe> {
  const info = await ffprobe(path, ['-show_entries', 'stream=index,codec_name,codec_type,sample_rate,width,height:stream_tags=title:format_tags']);
  const packets = await ffprobe(path, ['-show_entries', 'packet=stream_index,pts_time,duration_time']);
  const tracks = info.streams
    .filter((stream) => stream['codec_type'] === 'audio' || stream['codec_type'] === 'video')
    .map((stream) => {
      const index = Number(stream['index']);
      const tags = (stream as { tags?: Record<string, string> }).tags;
      return {
        index,
        codec: String(stream['codec_name']),
        type: stream['codec_type'] as 'audio' | 'video',
        title: tags?.['title'],
        detail: stream['codec_type'] === 'audio' ? `${String(stream['sample_rate'])} Hz` : `${String(stream['width'])}x${String(stream['height'])}`,
        packets: (packets as unknown as { packets: Array<Record<string, string>> }).packets
          .filter((packet) => Number(packet['stream_index']) === index)
          .map((packet) => ({ pts: Number(packet['pts_time']), duration: Number(packet['duration_time'] ?? 0) || 0 })),
      };
    });
  const formatTags = (info.format as { tags?: Record<string, string> } | undefined)?.tags ?? {};
  const zoomStart = Object.entries(formatTags).find(([key]) => key.toUpperCase().endsWith('ZOOM_START_MS'))?.[1];
  const all = tracks.flatMap((track) => track.packets);
  const spanS = all.length === 0 ? 0 : Math.max(...all.map((packet) => packet.pts + packet.duration)) - Math.min(...all.map((packet) => packet.pts));
  const subtitle = info.streams.find((stream) => stream['codec_type'] === 'subtitle');
  const captions = subtitle === undefined ? undefined : await subtitleCues(path, Number(subtitle['index']));
  return { tracks, zoomStartMs: zoomStart === undefined ? undefined : Number(zoomStart), spanS, captions };
}

/**
 * The subtitle track's packets with their bytes (`-show_data`): Debian 12's ffmpeg 5.1 does not
 * decode `S_TEXT/WEBVTT` (it reads the track as codec `none`), but its Matroska reader gives
 * every block's time, duration and text, and skips the empty ones.
 */
async function subtitleCues(path: string, index: number): Promise<RecordingCaption[]> {
  const result = (await ffprobe(path, ['-select_streams', String(index), '-show_data', '-show_entries', 'packet=pts,duration,data'])) as unknown as {
    packets?: Array<Record<string, string>>;
  };
  return (result.packets ?? []).map((packet) => ({
    startMs: Number(packet['pts']),
    durationMs: Number(packet['duration'] ?? 0) || 0,
    text: hexDumpBytes(packet['data'] ?? '').toString('utf8'),
  }));
}

/** The bytes of ffprobe's hex dump (`00000000: 3c76 2041 ...  <v A`): 8 groups of 4 hex digits after the offset. */
function hexDumpBytes(dump: string): Buffer {
  return Buffer.from(
    dump
      .split('\n')
      .map((line) => line.slice(10, 49).replaceAll(' ', ''))
      .join(''),
    'hex',
  );
}

/** The audio track's samples as stored (`-c copy` to raw s16le): byte for byte what was muxed. */
export async function recordingAudioBytes(path: string): Promise<Buffer> {
  const { stdout } = await run('ffmpeg', ['-v', 'error', '-i', path, '-map', '0:a:0', '-c', 'copy', '-f', 's16le', '-'], {
    encoding: 'buffer',
    maxBuffer: 512 * 1024 * 1024,
  });
  return stdout;
}

/** One line for people: `audio pcm_s16le 16000 Hz (500 packets) + video h264 160x90 (250 packets), 10.00 s`. */
export function describeRecording(probe: RecordingProbe): string {
  const tracks = probe.tracks.map((track) => `${track.title ?? track.type} ${track.codec} ${track.detail} (${track.packets.length} packets)`);
  return `${tracks.join(' + ')}, ${probe.spanS.toFixed(2)} s`;
}

/** Where the audio track has no samples: `[end of one packet, start of the next]`, ms, for holes longer than `minMs`. */
export function audioGaps(probe: RecordingProbe, minMs = 10): Array<[number, number]> {
  const audio = probe.tracks.find((track) => track.type === 'audio')?.packets ?? [];
  const gaps: Array<[number, number]> = [];
  for (let i = 1; i < audio.length; i++) {
    const end = (audio[i - 1]!.pts + audio[i - 1]!.duration) * 1000;
    if (audio[i]!.pts * 1000 - end > minMs) gaps.push([end, audio[i]!.pts * 1000]);
  }
  return gaps;
}
