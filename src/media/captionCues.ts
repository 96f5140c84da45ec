/**
 * Transcript lines as subtitle cues, for `transcript.vtt` (WebVTT) and `transcript.srt`
 * (SubRip): pure formatting, no I/O (docs/output.md "Captions").
 */

export type CaptionFormat = 'vtt' | 'srt';
export const CAPTION_FORMATS: readonly CaptionFormat[] = ['vtt', 'srt'];

/**
 * How long a cue shows when Zoom gave no end time after its start, ms: about one short
 * sentence, so the line is readable without hiding the next one for long.
 */
export const CAPTION_FALLBACK_MS = 2000;

/** RTMS_DATA_MESSAGE_ATTRIBUTE DELETE (docs/protocol.md): a line withdrawn, never a cue. */
const ATTRIBUTE_DELETE = 3;

/** A transcript line as the sink receives it (the fields of a transcript `Frame`). */
export interface TranscriptLine {
  readonly userId: string;
  readonly userName: string | undefined;
  /** ms epoch */
  readonly timestamp: number;
  readonly startTime?: number | undefined;
  readonly endTime?: number | undefined;
  readonly attribute?: number | undefined;
  readonly text: string;
}

/** One cue, in ms from the file's origin. */
export interface Cue {
  readonly startMs: number;
  readonly endMs: number;
  readonly speaker: string;
  /** Non-empty lines of text. */
  readonly lines: readonly string[];
}

/**
 * The cue for a transcript line, timed from `originMs` (the Zoom time of 00:00:00.000), or
 * undefined for a line that shows nothing (empty text, or a DELETE). Starts before the origin
 * are clamped to it; an end missing or not after the start becomes start +
 * {@link CAPTION_FALLBACK_MS}.
 */
export function transcriptCue(line: TranscriptLine, originMs: number): Cue | undefined {
  if (line.attribute === ATTRIBUTE_DELETE) return undefined;
  const lines = line.text
    .split(/\r\n|\r|\n/)
    .map((text) => text.trim())
    .filter((text) => text !== '');
  if (lines.length === 0) return undefined;
  const start = line.startTime !== undefined && line.startTime > 0 ? line.startTime : line.timestamp;
  const end = line.endTime !== undefined && line.endTime > start ? line.endTime : start + CAPTION_FALLBACK_MS;
  const startMs = Math.max(0, Math.round(start - originMs));
  const endMs = Math.max(startMs + 1, Math.round(end - originMs));
  const name = (line.userName ?? '').replace(/\s+/g, ' ').trim();
  return { startMs, endMs, speaker: name === '' ? `user ${line.userId}` : name, lines };
}

/** {@link transcriptCue} of a transcript frame as it arrives: its `data` is the line's UTF-8 text. */
export function frameCue(frame: Omit<TranscriptLine, 'text'> & { readonly data: Buffer }, originMs: number): Cue | undefined {
  return transcriptCue({ ...frame, text: frame.data.toString('utf8') }, originMs);
}

/** `HH:MM:SS.mmm` (`,` before the ms for SRT); hours grow past 99 when they must. */
export function clockTime(ms: number, format: CaptionFormat): string {
  const whole = Math.max(0, Math.round(ms));
  const hours = Math.floor(whole / 3_600_000);
  const minutes = Math.floor(whole / 60_000) % 60;
  const seconds = Math.floor(whole / 1000) % 60;
  const millis = whole % 1000;
  const pad = (value: number, width: number): string => String(value).padStart(width, '0');
  return `${pad(hours, 2)}:${pad(minutes, 2)}:${pad(seconds, 2)}${format === 'srt' ? ',' : '.'}${pad(millis, 3)}`;
}

/**
 * The first bytes of a WebVTT file: the signature, and where its time zero lies in Zoom time
 * (fixed length for 13-digit ms epochs, so the header can be rewritten in place).
 */
export function vttHeader(originMs: number): string {
  return `WEBVTT - 00:00:00.000 is Zoom time ${new Date(originMs).toISOString()} (${originMs})\n\n`;
}

/** One WebVTT cue with a voice span naming the speaker, ending in a blank line. */
export function vttCue(cue: Cue): string {
  const speaker = escapeVtt(cue.speaker);
  const text = cue.lines.map(escapeVtt).join('\n');
  return `${clockTime(cue.startMs, 'vtt')} --> ${clockTime(cue.endMs, 'vtt')}\n<v ${speaker}>${text}\n\n`;
}

/** One SubRip cue (`sequence` from 1), the speaker's name before the text, ending in a blank line. */
export function srtCue(cue: Cue, sequence: number): string {
  // An arrow inside the text could be read as a timing line by lenient parsers.
  const text = cue.lines.map((line) => line.replaceAll('-->', '->')).join('\n');
  return `${sequence}\n${clockTime(cue.startMs, 'srt')} --> ${clockTime(cue.endMs, 'srt')}\n${cue.speaker.replaceAll('-->', '->')}: ${text}\n\n`;
}

/** WebVTT cue text: `&`, `<` and `>` as character references (no tags, no `-->`). */
function escapeVtt(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}
