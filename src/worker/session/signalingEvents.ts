import {
  EVENT_TYPE_NAMES,
  EventType,
  RtmsStreamState,
  SESSION_STATE_NAMES,
  STOP_REASON_NAMES,
  STREAM_STATE_NAMES,
  StopReason,
  ZCC_EVENT_TYPE_NAMES,
  ZccEventType,
  nameOf,
} from '../../rtms/codes.ts';
import type { Product } from '../../rtms/products.ts';
import type { DecodedRtmsMessage, RtmsDecodeFailure, RtmsEvent } from '../../rtms/rtmsMessages.ts';
import { PARTICIPANT_PAGE, type ParticipantRoster } from '../participantRoster.ts';
import type { LiveRejoinTrigger } from '../../vocabulary/rejoin.ts';

/**
 * What a message on the signaling socket means for the stream, as data: the events to
 * record, the roster changes, and whether the stream rejoins its media, ends, or ignores the
 * message. A pure function of the decoded message (rtms/decodeRtmsMessage.ts); `StreamSession` carries the decision out, in the
 * order roster, events, ignored, rejoin, terminate.
 */

export type RosterChange =
  | { readonly op: 'join'; readonly userId: string; readonly userName: string | undefined; readonly at: number }
  | { readonly op: 'leave'; readonly userId: string; readonly at: number }
  | { readonly op: 'speaker'; readonly userId: string; readonly userName: string | undefined; readonly at: number };

export type SignalingRejoinTrigger = Extract<LiveRejoinTrigger, 'stream_state_interrupted' | 'media_connection_interrupted'>;

export interface SignalingDecision {
  readonly roster: readonly RosterChange[];
  /** Lifecycle events to record, in order. */
  readonly events: ReadonlyArray<{ readonly eventType: string; readonly data: Record<string, unknown> }>;
  /** A message type we do not know: counted as ignored. */
  readonly ignored?: { readonly reason: 'unknown_msg_type'; readonly msgType: number };
  /** Zoom lost our media connection: rejoin media only. */
  readonly rejoin?: { readonly scope: 'media'; readonly trigger: SignalingRejoinTrigger };
  /** Zoom terminated the stream. */
  readonly terminate?: { readonly reason: string; readonly stopReason: number | undefined };
  /** A line for the log (info): what Zoom said about the stream as a whole. */
  readonly log?: { readonly msg: string; readonly fields: Record<string, unknown> };
}

export interface SignalingContext {
  readonly product: Product;
  /** Local time, ms epoch: the time of an event that carries none. */
  readonly now: number;
}

const NOTHING: SignalingDecision = { roster: [], events: [] };

/** A media message that could not be read is, on the signaling socket, as unknown as any other media. */
export function interpretSignaling(message: DecodedRtmsMessage | RtmsDecodeFailure, context: SignalingContext): SignalingDecision {
  switch (message.type) {
    case 'event_update':
      return interpretEvent(message.event, context);
    case 'stream_state_update': {
      const { state, reason } = message;
      const data = stateData(STREAM_STATE_NAMES, state, reason);
      const events = [{ eventType: 'rtms.stream_state', data }];
      // ACTIVE comes once the stream flows and again when a lost connection is back: with the
      // rest, it is logged, a rare message that says where the stream stands.
      const log = { msg: 'rtms stream state', fields: data };
      if (state === RtmsStreamState.TERMINATED) {
        return {
          roster: [],
          events,
          log,
          terminate: { reason: `terminated: ${nameOf(STOP_REASON_NAMES, reason ?? StopReason.UNDEFINED)}`, stopReason: reason },
        };
      }
      if (state === RtmsStreamState.INTERRUPTED && reason === StopReason.DATA_CONNECTION_INTERRUPTED) {
        return { roster: [], events, log, rejoin: { scope: 'media', trigger: 'stream_state_interrupted' } };
      }
      return { roster: [], events, log };
    }
    case 'session_state_update': {
      const data = { rtmsSessionId: message.rtmsSessionId, ...stateData(SESSION_STATE_NAMES, message.state, message.reason) };
      return { roster: [], events: [{ eventType: 'rtms.session_state', data }] };
    }
    case 'response':
      return { roster: [], events: [{ eventType: 'rtms.response', data: { msgType: message.msg_type, statusCode: message.statusCode } }] };
    case 'keep_alive':
      return NOTHING; // answered by RtmsSocket
    default:
      return { roster: [], events: [], ignored: { reason: 'unknown_msg_type', msgType: message.msg_type } };
  }
}

/** A stream or session state message as event data: each code with its name. */
function stateData(stateNames: readonly string[], state: number | undefined, reason: number | undefined): Record<string, unknown> {
  return {
    state,
    stateName: state === undefined ? undefined : nameOf(stateNames, state),
    reason,
    reasonName: reason === undefined ? undefined : nameOf(STOP_REASON_NAMES, reason),
  };
}

function interpretEvent(event: RtmsEvent, context: SignalingContext): SignalingDecision {
  const { eventType, participants } = event;
  const at = event.at ?? context.now;
  const isContactCenter = context.product === 'contact_center';
  // Contact Center's own events start at 8, where the meeting ones (PARTICIPANT_VIDEO_ON …) overlap.
  const isContactCenterEvent = isContactCenter && eventType >= ZccEventType.CONSUMER_ANSWERED;
  const name = isContactCenterEvent ? nameOf(ZCC_EVENT_TYPE_NAMES, eventType) : nameOf(EVENT_TYPE_NAMES, eventType);

  if (isContactCenterEvent) {
    const info = event.participantInfo;
    const channelId = info?.channelId;
    const roster: RosterChange[] = channelId ? [{ op: 'join', userId: channelId, userName: info?.displayName, at }] : [];
    return { roster, events: [{ eventType: 'rtms.event', data: { eventType, eventName: name, channelId, participantMode: info?.participantMode } }] };
  }
  switch (eventType) {
    case EventType.MEDIA_CONNECTION_INTERRUPTED:
      return {
        roster: [],
        events: [{ eventType: 'rtms.event', data: { eventType, eventName: name } }],
        rejoin: { scope: 'media', trigger: 'media_connection_interrupted' },
      };
    case EventType.ACTIVE_SPEAKER_CHANGE: {
      const userId = event.userId;
      const roster: RosterChange[] = userId === undefined ? [] : [{ op: 'speaker', userId, userName: event.userName, at }];
      return { roster, events: [{ eventType: 'rtms.event', data: { eventType, eventName: name, userId } }] };
    }
    case EventType.PARTICIPANT_JOIN:
    case EventType.PARTICIPANT_LEAVE: {
      const userIds: string[] = [];
      const roster: RosterChange[] = [];
      for (const { userId, userName } of participants) {
        if (userId === undefined) continue;
        userIds.push(userId);
        roster.push(eventType === EventType.PARTICIPANT_JOIN ? { op: 'join', userId, userName, at } : { op: 'leave', userId, at });
      }
      // A join of 100,000 at once is one event line of a bounded size, not 100,000 ids.
      return { roster, events: [{ eventType: 'rtms.event', data: { eventType, eventName: name, ...boundedIds(userIds) } }] };
    }
    default: {
      const userIds = participants.map((participant) => participant.userId).filter((id) => id !== undefined);
      return {
        roster: [],
        events: [{ eventType: 'rtms.event', data: { eventType, eventName: name, userId: event.userId, ...boundedIds(userIds), timestamp: at } }],
      };
    }
  }
}

/** Carries a decision's roster changes out, in order. */
export function applyRosterChanges(roster: Pick<ParticipantRoster, 'join' | 'leave' | 'setActiveSpeaker'>, changes: readonly RosterChange[]): void {
  for (const change of changes) {
    if (change.op === 'join') roster.join(change.userId, change.userName, change.at);
    else if (change.op === 'leave') roster.leave(change.userId, change.at);
    else roster.setActiveSpeaker(change.userId, change.userName, change.at);
  }
}

/** At most `PARTICIPANT_PAGE` ids in an event; `userCount` says how many there were when cut. */
function boundedIds(userIds: string[]): { userIds: string[]; userCount?: number } {
  return userIds.length <= PARTICIPANT_PAGE ? { userIds } : { userIds: userIds.slice(0, PARTICIPANT_PAGE), userCount: userIds.length };
}
