import { describe, expect, it } from 'vitest';
import { EventType, MessageType, RtmsStreamState, StopReason } from '../../../../src/rtms/codes.ts';
import { PARTICIPANT_PAGE } from '../../../../src/worker/participantRoster.ts';
import { decodeRtmsMessage } from '../../../../src/rtms/decodeRtmsMessage.ts';
import type { RtmsMessage } from '../../../../src/rtms/rtmsSocket.ts';
import { interpretSignaling, type SignalingContext } from '../../../../src/worker/session/signalingEvents.ts';

/** As the session does it: decoded, then interpreted. */
function interpret(message: RtmsMessage, context: SignalingContext): ReturnType<typeof interpretSignaling> {
  const decoded = decodeRtmsMessage(message, context.now);
  return interpretSignaling(decoded.ok ? decoded.message : decoded.failure, context);
}

const MEETING = { product: 'meeting', now: 5000 } as const;

describe('interpretSignaling', () => {
  it('EVENT_UPDATE 7 (media connection interrupted): an event, and a media-only rejoin', () => {
    const decision = interpret({ msg_type: MessageType.EVENT_UPDATE, event: { event_type: EventType.MEDIA_CONNECTION_INTERRUPTED } }, MEETING);
    expect(decision).toEqual({
      roster: [],
      events: [{ eventType: 'rtms.event', data: { eventType: 7, eventName: 'MEDIA_CONNECTION_INTERRUPTED' } }],
      rejoin: { scope: 'media', trigger: 'media_connection_interrupted' },
    });
  });

  it('STREAM_STATE TERMINATED ends the stream with its stop reason', () => {
    const decision = interpret({ msg_type: MessageType.STREAM_STATE_UPDATE, state: RtmsStreamState.TERMINATED, reason: StopReason.MEETING_ENDED }, MEETING);
    expect(decision.terminate).toEqual({ reason: 'terminated: MEETING_ENDED', stopReason: StopReason.MEETING_ENDED });
    expect(decision.events).toEqual([{ eventType: 'rtms.stream_state', data: { state: 4, stateName: 'TERMINATED', reason: 6, reasonName: 'MEETING_ENDED' } }]);
    expect(decision.rejoin).toBeUndefined();
  });

  it('STREAM_STATE ACTIVE (joined, or a lost connection back) is recorded and logged, and changes nothing else', () => {
    const decision = interpret({ msg_type: MessageType.STREAM_STATE_UPDATE, state: RtmsStreamState.ACTIVE, reason: 0, timestamp: 7 }, MEETING);
    const data = { state: 1, stateName: 'ACTIVE', reason: 0, reasonName: 'UNDEFINED' };
    expect(decision).toEqual({ roster: [], events: [{ eventType: 'rtms.stream_state', data }], log: { msg: 'rtms stream state', fields: data } });
  });

  it('STREAM_STATE INTERRUPTED asks for a media rejoin only when the data connection was interrupted', () => {
    const data = interpret(
      { msg_type: MessageType.STREAM_STATE_UPDATE, state: RtmsStreamState.INTERRUPTED, stop_reason: StopReason.DATA_CONNECTION_INTERRUPTED },
      MEETING,
    );
    expect(data.rejoin).toEqual({ scope: 'media', trigger: 'stream_state_interrupted' });
    const other = interpret({ msg_type: MessageType.STREAM_STATE_UPDATE, state: RtmsStreamState.INTERRUPTED, reason: StopReason.MEETING_ENDED }, MEETING);
    expect(other.rejoin).toBeUndefined();
    expect(other.terminate).toBeUndefined();
  });

  it('participants joining: one roster change each, one bounded event line for them all', () => {
    const participants = Array.from({ length: PARTICIPANT_PAGE + 5 }, (_, i) => ({ user_id: 1000 + i, user_name: `p${i}` }));
    const decision = interpret(
      {
        msg_type: MessageType.EVENT_UPDATE,
        event: { event_type: EventType.PARTICIPANT_JOIN, timestamp: 42, participants: [...participants, { user_name: 'no id' }, 'junk'] },
      },
      MEETING,
    );
    expect(decision.roster).toHaveLength(PARTICIPANT_PAGE + 5);
    expect(decision.roster[0]).toEqual({ op: 'join', userId: '1000', userName: 'p0', at: 42 });
    const data = decision.events[0]?.data;
    expect(data?.['userIds']).toHaveLength(PARTICIPANT_PAGE);
    expect(data?.['userCount']).toBe(PARTICIPANT_PAGE + 5);
  });

  it('a participant leaving, and the active speaker (string ids accepted); no timestamp means local time', () => {
    const leave = interpret(
      { msg_type: MessageType.EVENT_UPDATE, event: { event_type: EventType.PARTICIPANT_LEAVE, event_ts: 77, participants: [{ user_id: '9' }] } },
      MEETING,
    );
    expect(leave.roster).toEqual([{ op: 'leave', userId: '9', at: 77 }]);
    expect(leave.events[0]?.data).toEqual({ eventType: 4, eventName: 'PARTICIPANT_LEAVE', userIds: ['9'] });
    const speaker = interpret(
      { msg_type: MessageType.EVENT_UPDATE, event: { event_type: EventType.ACTIVE_SPEAKER_CHANGE, user_id: 12, user_name: 'Ann' } },
      MEETING,
    );
    expect(speaker.roster).toEqual([{ op: 'speaker', userId: '12', userName: 'Ann', at: 5000 }]);
  });

  it('Contact Center events from 8 on carry a channel, named from their own table', () => {
    const decision = interpret(
      {
        msg_type: MessageType.EVENT_UPDATE,
        event: { event_type: 8, timestamp: 10, participant_info: { channel_id: 'ch-1', display_name: 'Agent', participant_mode: 2 } },
      },
      { product: 'contact_center', now: 0 },
    );
    expect(decision.roster).toEqual([{ op: 'join', userId: 'ch-1', userName: 'Agent', at: 10 }]);
    expect(decision.events[0]?.data).toMatchObject({ eventType: 8, channelId: 'ch-1', participantMode: 2 });
  });

  it('an unknown message type is ignored (counted), a keep-alive is nothing, a response is recorded', () => {
    expect(interpret({ msg_type: 999 }, MEETING)).toEqual({ roster: [], events: [], ignored: { reason: 'unknown_msg_type', msgType: 999 } });
    expect(interpret({ msg_type: MessageType.KEEP_ALIVE_REQ, timestamp: 1 }, MEETING)).toEqual({ roster: [], events: [] });
    expect(interpret({ msg_type: MessageType.STREAM_CLOSE_RESP, status_code: 0 }, MEETING).events).toEqual([
      { eventType: 'rtms.response', data: { msgType: 22, statusCode: 0 } },
    ]);
  });

  it('a malformed EVENT_UPDATE (no event object) is an event of type 0, not a crash', () => {
    const decision = interpret({ msg_type: MessageType.EVENT_UPDATE, event: 'nonsense' }, MEETING);
    expect(decision.roster).toEqual([]);
    expect(decision.events[0]?.data).toMatchObject({ eventType: 0, userIds: [], timestamp: 5000 });
  });
});
