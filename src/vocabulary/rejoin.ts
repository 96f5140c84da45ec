import { WORKER_EXIT_REASONS } from './reasons.ts';

/**
 * A rejoin is a scope (everything, or media only) and the trigger that started it. Stream
 * statistics key their rejoin counts `<scope>/<trigger>` (stream.json, GET /streams/{id}); this
 * file makes and reads those keys, so the metrics get a typed pair, never a split string.
 */

export const REJOIN_SCOPES = ['full', 'media'] as const;
export type RejoinScope = (typeof REJOIN_SCOPES)[number];

/**
 * Why a stream continues after its worker or replica went away (ipc `startStream.resume.reason`):
 * its worker ended (`worker_<exit reason>`), another replica handed it over or lost it, or this
 * process restarted and found its directory; `resumed` when the record kept no reason.
 */
export const RESUME_REASONS = [
  ...WORKER_EXIT_REASONS.map((reason) => `worker_${reason}` as const),
  'handoff',
  'takeover',
  'lease_recovered',
  'restart',
  'resumed',
] as const;
export type ResumeReason = (typeof RESUME_REASONS)[number];

/** What lost the connection while the stream ran: a webhook, a failover, a socket, Zoom's own signal. */
export const LIVE_REJOIN_TRIGGERS = [
  'interrupted_webhook',
  'failover',
  'signaling_closed',
  'keep_alive_timeout',
  'media_closed',
  'stream_state_interrupted',
  'media_connection_interrupted',
] as const;
export type LiveRejoinTrigger = (typeof LIVE_REJOIN_TRIGGERS)[number];

export const REJOIN_TRIGGERS = [...LIVE_REJOIN_TRIGGERS, ...RESUME_REASONS] as const;
export type RejoinTrigger = (typeof REJOIN_TRIGGERS)[number];

export interface Rejoin {
  readonly scope: RejoinScope;
  readonly trigger: RejoinTrigger;
}

export type RejoinKey = `${RejoinScope}/${RejoinTrigger}`;

export function rejoinKey(rejoin: Rejoin): RejoinKey {
  return `${rejoin.scope}/${rejoin.trigger}`;
}

/** The pair a stored key names, or undefined for a key outside the lists (an older version's). */
export function parseRejoinKey(key: string): Rejoin | undefined {
  const slash = key.indexOf('/');
  const scope = REJOIN_SCOPES.find((candidate) => candidate === key.slice(0, slash));
  const trigger = REJOIN_TRIGGERS.find((candidate) => candidate === key.slice(slash + 1));
  return slash < 0 || scope === undefined || trigger === undefined ? undefined : { scope, trigger };
}
