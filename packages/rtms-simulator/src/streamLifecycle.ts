import { setTimeout as sleep } from 'node:timers/promises';
import { EventType, RtmsStreamState, StopReason } from './connectorShared.ts';
import { SimulatorError } from './simulatorErrors.ts';
import { dropAllSockets } from './streamConnectionLoss.ts';
import { endedError, openSockets, postWebhook, sendEvent, sendSignaling, sendZccEvent, type StreamCore, transition, ZccEvent } from './streamCore.ts';
import type { StreamEnd, StreamEndCause } from './streamTypes.ts';
import { lifecycleWebhookBody } from './webhookBodies.ts';
import type { WebhookResponse } from './webhookSender.ts';
import { streamStateUpdate, terminationMessages } from './wireMessages.ts';

/*
 * A simulated stream's lifecycle (the state diagram is in streamCore.ts): announcing it by
 * webhook, failing over to a new server, the rejoin deadline, becoming whole (ready) again,
 * and ending it the way Zoom does.
 */

/** SimulatedStream.announce(), whose comment is the contract. */
export async function announce(s: StreamCore, options: { eventTsOffsetMs?: number | undefined } = {}): Promise<WebhookResponse> {
  const body = lifecycleWebhookBody({
    kind: 'rtms_started',
    stream: s.identity,
    eventTs: s.host.now() + (options.eventTsOffsetMs ?? 0),
    serverUrls: s.serverUrls,
    payloadNesting: s.payloadNesting,
  });
  s.startedBody = JSON.stringify(body);
  s.announcements.push({ eventTs: body.event_ts, serverUrls: s.serverUrls });
  s.host.schedule(s.stream);
  return postWebhook(s, s.startedBody);
}

/** SimulatedStream.resendStart(), whose comment is the contract. */
export async function resendStart(s: StreamCore): Promise<WebhookResponse> {
  if (s.startedBody === undefined) throw new SimulatorError('INVALID_OPTION', 'the stream was never announced');
  return postWebhook(s, s.startedBody);
}

/** SimulatedStream.failover(), whose comment is the contract. */
export async function failover(s: StreamCore, options: { webhookDelayMs?: number; eventTsOffsetMs?: number } = {}): Promise<WebhookResponse> {
  if (s.state === 'ended') throw endedError(s);
  s.generation += 1;
  s.connections.failovers += 1;
  s.logger.info({ generation: s.generation }, 'simulated server failover');
  if (s.state === 'connected') {
    dropAllSockets(s);
    transition(s, 'interrupted');
    armDeadline(s, s.host.settings.reconnectGraceMs, StopReason.AWAIT_RECONNECTION_TIMEOUT, 'graceExpired');
  }
  const delayMs = options.webhookDelayMs ?? 0;
  if (delayMs > 0) {
    await sleep(delayMs);
    if (s.end !== undefined) throw endedError(s);
  }
  return announce(s, { eventTsOffsetMs: options.eventTsOffsetMs });
}

/** Arms the rejoin deadline; an earlier running deadline (or the join deadline) is kept. */
export function armDeadline(s: StreamCore, graceMs: number, stopReason: number, cause: StreamEndCause): void {
  if (s.deadline !== undefined && s.deadline.cause !== 'joinTimeout') return;
  const at = s.host.now() + graceMs;
  // Before the first complete join the join deadline stays in charge if it is sooner.
  if (s.deadline !== undefined && s.deadline.at <= at) return;
  s.deadline = { at, stopReason, cause };
}

export function checkWhole(s: StreamCore): void {
  const whole = s.state === 'connected' && s.ready && s.media.size > 0 && s.lostKinds.size === 0;
  if (!whole) {
    s.whole = false;
    return;
  }
  if (s.whole) return;
  s.whole = true;
  s.deadline = undefined;
  s.readyCount += 1;
  s.logger.info({ readyCount: s.readyCount }, 'stream ready');
  const now = s.host.now();
  // Active: at the first complete join, and again once a lost connection is back (Zoom's
  // samples handle ACTIVE; README: Fidelity and evidence).
  sendSignaling(s, streamStateUpdate(RtmsStreamState.ACTIVE, StopReason.UNDEFINED, now));
  s.chaosPlan?.start(now);
  const late = s.lateInterrupted;
  if (late !== undefined && late.postAt === undefined && s.readyCount > late.afterReady) late.postAt = now + late.delayMs;
  for (let i = s.readyWaiters.length - 1; i >= 0; i -= 1) {
    const waiter = s.readyWaiters[i];
    if (waiter !== undefined && waiter.count <= s.readyCount) {
      s.readyWaiters.splice(i, 1);
      waiter.deferred.resolve();
    }
  }
}

export async function finish(
  s: StreamCore,
  options: { stopReason: number; cause: StreamEndCause; notifyClient: boolean; webhook: boolean; graceful: boolean },
): Promise<StreamEnd> {
  if (s.state === 'ended') return s.ended.promise;
  const now = s.host.now();
  const end: StreamEnd = { stopReason: options.stopReason, cause: options.cause, at: now };
  s.end = end;
  s.deadline = undefined;
  s.host.unschedule(s.stream);
  try {
    // Whatever a chaos stall held back goes out before the goodbye.
    for (const socket of openSockets(s)) socket.resume(now, s.host.settings.keepAliveIntervalMs);
    s.lateInterrupted = undefined;
    if (options.notifyClient && s.signaling?.isOpen === true) sayGoodbye(s, options.stopReason, now);
    transition(s, 'ended');
    const sockets = [...s.media, ...s.closing];
    if (s.signaling !== undefined) sockets.push(s.signaling);
    const closed = sockets.map((socket) => {
      if (options.graceful) return socket.close(1000, 'stream ended');
      socket.terminate();
      return socket.whenClosed();
    });
    s.media.clear();
    s.signaling = undefined;
    s.ready = false;
    for (const waiter of s.readyWaiters.splice(0)) {
      waiter.deferred.promise.catch(() => {});
      waiter.deferred.reject(endedError(s));
    }
    s.logger.info({ cause: options.cause, stopReason: options.stopReason }, 'stream ended');
    const webhook = options.webhook
      ? postWebhook(
          s,
          JSON.stringify(
            lifecycleWebhookBody({
              kind: 'rtms_stopped',
              stream: s.identity,
              eventTs: now,
              stopReason: options.stopReason,
              payloadNesting: s.payloadNesting,
            }),
          ),
        )
      : Promise.resolve();
    await Promise.allSettled([...closed, webhook]);
  } catch (error) {
    s.logger.error({ err: error }, 'error while ending the stream');
  } finally {
    s.backlog.clear();
    s.ended.resolve(end);
  }
  return end;
}

/** Final signaling messages: participants leave (meeting ended), then stream and session states. */
export function sayGoodbye(s: StreamCore, stopReason: number, now: number): void {
  if (stopReason === StopReason.MEETING_ENDED) {
    if (s.product === 'contact_center') {
      const [agent, customer] = s.participants;
      if (customer !== undefined && s.subscribed.has(ZccEvent.CONSUMER_END)) sendZccEvent(s, ZccEvent.CONSUMER_END, customer, now);
      if (agent !== undefined && s.subscribed.has(ZccEvent.USER_END)) sendZccEvent(s, ZccEvent.USER_END, agent, now);
    } else if (s.subscribed.has(EventType.PARTICIPANT_LEAVE)) {
      sendEvent(s, { event_type: EventType.PARTICIPANT_LEAVE, timestamp: now, participants: s.participants.map((p) => ({ user_id: p.userId })) });
    }
  }
  for (const message of terminationMessages(s.rtmsSessionId, stopReason, now)) sendSignaling(s, message);
}
