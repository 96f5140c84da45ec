import type { Frame } from '../vocabulary/frame.ts';

/** One `transcript.jsonl` line. */
export function transcriptLine(frame: Frame): Record<string, unknown> {
  return {
    userId: frame.userId,
    userName: frame.userName ?? null,
    timestamp: frame.timestamp,
    startTime: frame.startTime ?? null,
    endTime: frame.endTime ?? null,
    language: frame.language ?? null,
    ...(frame.attribute === undefined ? {} : { attribute: frame.attribute }),
    text: frame.data.toString('utf8'),
  };
}

/** One `chat.jsonl` line. Newer Zoom chat payloads carry a JSON object as text: kept raw in `text`, parsed in `message`. */
export function chatLine(frame: Frame): Record<string, unknown> {
  const text = frame.data.toString('utf8');
  const line: Record<string, unknown> = { userId: frame.userId, userName: frame.userName ?? null, timestamp: frame.timestamp, text };
  if (text.trimStart().startsWith('{')) {
    try {
      const message: unknown = JSON.parse(text);
      if (message !== null && typeof message === 'object' && !Array.isArray(message)) line.message = message;
    } catch {
      // Plain text that happens to start with a brace.
    }
  }
  return line;
}
