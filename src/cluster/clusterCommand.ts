import type { StreamStart } from '../rtms/products.ts';
import { parseStoredStart } from './streamRegistry.ts';

/**
 * Commands one replica sends another through the owner's command stream, when a webhook or
 * an admin call reaches a replica that does not own the stream. What a command changes is
 * also recorded in the stream record first (`StreamRegistry.note`), so a command that dies
 * with its owner is not lost: the next owner finds it in the record.
 */
export type ClusterCommandBody =
  /** An `rtms_started` for a stream you own: Zoom's failover (or a retry). */
  | { readonly type: 'started'; readonly start: StreamStart }
  /** `*.rtms_interrupted` (its `event_ts`, ms epoch). */
  | { readonly type: 'interrupt'; readonly rtmsStreamId: string; readonly eventTs: number }
  /** `*.rtms_stopped`. */
  | { readonly type: 'stop'; readonly rtmsStreamId: string; readonly stopReason: number }
  /** `DELETE /streams/{id}`. */
  | { readonly type: 'close'; readonly rtmsStreamId: string }
  /** `DELETE /streams/{id}/participants/{userId}`. */
  | { readonly type: 'exclude'; readonly rtmsStreamId: string; readonly userId: string }
  /** A stream without an owner that you have room for: claim it now rather than at the next scan. */
  | { readonly type: 'adopt'; readonly rtmsStreamId: string; readonly reason: string };

export type ClusterCommand = ClusterCommandBody & {
  /** Sending replica. */
  readonly from: string;
  /** ms epoch (sender's clock), for the command lag. */
  readonly sentAt: number;
  /** Times the command was forwarded because the stream had moved on; bounded. */
  readonly hops: number;
};

export type ClusterCommandType = ClusterCommand['type'];

export function commandStreamId(command: ClusterCommandBody): string {
  return command.type === 'started' ? command.start.rtmsStreamId : command.rtmsStreamId;
}

export function encodeCommand(command: ClusterCommand): string {
  return JSON.stringify(command);
}

/** Parses a command; undefined for anything malformed or of an unknown type (a newer version's). */
export function decodeCommand(json: string): ClusterCommand | undefined {
  let value: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(json);
    if (parsed === null || typeof parsed !== 'object') return undefined;
    value = parsed as Record<string, unknown>;
  } catch {
    return undefined;
  }
  const envelope = { from: text(value['from'], ''), sentAt: Number(value['sentAt'] ?? 0), hops: Number(value['hops'] ?? 0) };
  const id = value['rtmsStreamId'];
  switch (value['type']) {
    case 'started': {
      const start = parseStoredStart(JSON.stringify(value['start']));
      return start === undefined ? undefined : { type: 'started', start, ...envelope };
    }
    case 'interrupt':
      return typeof id === 'string' ? { type: 'interrupt', rtmsStreamId: id, eventTs: Number(value['eventTs'] ?? 0), ...envelope } : undefined;
    case 'stop':
      return typeof id === 'string' ? { type: 'stop', rtmsStreamId: id, stopReason: Number(value['stopReason'] ?? 0), ...envelope } : undefined;
    case 'close':
      return typeof id === 'string' ? { type: 'close', rtmsStreamId: id, ...envelope } : undefined;
    case 'exclude':
      return typeof id === 'string' && typeof value['userId'] === 'string'
        ? { type: 'exclude', rtmsStreamId: id, userId: value['userId'], ...envelope }
        : undefined;
    case 'adopt':
      return typeof id === 'string' ? { type: 'adopt', rtmsStreamId: id, reason: text(value['reason'], 'adopt'), ...envelope } : undefined;
    default:
      return undefined;
  }
}

/** A decoded string field, or `fallback` when it is missing or not a string. */
function text(value: unknown, fallback: string): string {
  return typeof value === 'string' ? value : fallback;
}
