import type { ChaosKind } from './chaos.ts';
import { malformedMessage, type MalformedVariant, malformedVariantsFor, unknownMessage } from './chaosMessages.ts';
import type { MediaKind } from './connectorShared.ts';
import type { PeerSocket } from './peerSocket.ts';
import { Prng } from './prng.ts';
import { endedError, logChaos, openSockets, postWebhook, socketFor, type StreamCore } from './streamCore.ts';
import type { ChaosChannel } from './streamTypes.ts';
import { lifecycleWebhookBody } from './webhookBodies.ts';
import type { WebhookResponse } from './webhookSender.ts';

/*
 * Explicit chaos injections on one stream (tests call them through SimulatedStream; chaos mode
 * schedules the same ones, streamChaosSchedule.ts). Each is logged, applied or not.
 */

/** SimulatedStream.stall(), whose comment is the contract. */
export function stall(s: StreamCore, ms: number, channel: ChaosChannel = 'signaling'): boolean {
  const socket = chaosSocket(s, channel);
  const applied = socket !== undefined && !socket.isStalled;
  if (applied) socket.stall(s.host.now() + ms);
  logChaos(s, 'stall', applied, `${channel} for ${ms} ms`);
  return applied;
}

/** SimulatedStream.stallReads(), whose comment is the contract. */
export function stallReads(s: StreamCore, ms: number, channel: ChaosChannel = 'signaling'): boolean {
  const socket = chaosSocket(s, channel);
  socket?.stallReads(s.host.now(), ms);
  logChaos(s, 'stall', socket !== undefined, `reads of ${channel} for ${ms} ms`);
  return socket !== undefined;
}

/** SimulatedStream.suppressKeepAlives(), whose comment is the contract. */
export function suppressKeepAlives(s: StreamCore, ms: number, channel?: ChaosChannel): boolean {
  const until = s.host.now() + ms;
  const sockets = channel === undefined ? openSockets(s) : [chaosSocket(s, channel)].filter((socket) => socket !== undefined);
  for (const socket of sockets) socket.suppressKeepAlives(until);
  logChaos(s, 'suppressKeepAlives', sockets.length > 0, `${channel ?? 'all sockets'} for ${ms} ms`);
  return sockets.length > 0;
}

/** SimulatedStream.sendMalformed(), whose comment is the contract. */
export async function sendMalformed(s: StreamCore, kind: MediaKind, variant: MalformedVariant = 'invalidJson', seed?: number): Promise<boolean> {
  const chaosKind: ChaosKind = variant === 'invalidJson' ? 'malformedJson' : variant === 'truncatedJson' ? 'truncatedJson' : 'invalidFields';
  const socket = s.ready ? socketFor(s, kind) : undefined;
  const participant = s.participants[0];
  if (socket === undefined || socket.isStalled || participant === undefined || !malformedVariantsFor(kind).includes(variant)) {
    logChaos(s, chaosKind, false, `${kind} ${variant}: no ready socket or variant not applicable`);
    return false;
  }
  const prng = new Prng(seed ?? s.host.now());
  const text = malformedMessage(variant, { kind, product: s.product, participant, now: s.host.now(), prng });
  logChaos(s, chaosKind, true, `${kind} ${variant}`);
  const written = await socket.sendTextNow(text);
  if (written) s.record.addMalformed(kind);
  return written;
}

/** SimulatedStream.sendUnknown(), whose comment is the contract. */
export async function sendUnknown(s: StreamCore, channel: ChaosChannel = 'signaling', seed?: number): Promise<boolean> {
  const socket = channel === 'signaling' || s.ready ? chaosSocket(s, channel) : undefined;
  if (socket === undefined || socket.isStalled) {
    logChaos(s, 'unknownMessage', false, `${channel}: no ready socket`);
    return false;
  }
  logChaos(s, 'unknownMessage', true, channel);
  const written = await socket.sendTextNow(unknownMessage(new Prng(seed ?? s.host.now()), s.host.now()));
  if (written) s.record.addUnknown(channel);
  return written;
}

/** SimulatedStream.sendRaw(), whose comment is the contract. */
export async function sendRaw(s: StreamCore, channel: ChaosChannel, text: string): Promise<boolean> {
  const socket = chaosSocket(s, channel);
  if (socket === undefined || socket.isStalled) return false;
  const written = await socket.sendTextNow(text);
  if (written) s.record.addRaw(channel);
  return written;
}

/** SimulatedStream.sendOversized(), whose comment is the contract. */
export function sendOversized(s: StreamCore, kind: 'video' | 'deskshare', bytes?: number): boolean {
  const size = bytes ?? s.host.chaos?.oversizedBytes ?? 1.5 * 1024 * 1024;
  const applied = socketFor(s, kind) !== undefined && s.scopes.includes(kind);
  if (applied) s.oversizedPending.set(kind, size);
  logChaos(s, 'oversizedFrame', applied, `next ${kind} frame padded to ${size} bytes`);
  return applied;
}

/** SimulatedStream.resendLastWebhook(), whose comment is the contract. */
export async function resendLastWebhook(s: StreamCore): Promise<WebhookResponse | undefined> {
  const body = s.lastLifecycleBody;
  const event = body === undefined ? 'none' : String((JSON.parse(body) as { event?: unknown }).event);
  logChaos(s, 'duplicateWebhook', body !== undefined && s.state !== 'ended', event);
  if (body === undefined || s.state === 'ended') return undefined;
  return postWebhook(s, body).catch(() => undefined);
}

/** SimulatedStream.sendStaleStart(), whose comment is the contract. */
export async function sendStaleStart(s: StreamCore): Promise<WebhookResponse | undefined> {
  const latest = s.announcements.at(-1);
  const previous = s.announcements.at(-2) ?? latest;
  if (latest === undefined || previous === undefined || s.state === 'ended') {
    logChaos(s, 'staleStarted', false, 'never announced or ended');
    return undefined;
  }
  const seen = new Set(s.announcements.map((announcement) => announcement.eventTs));
  let eventTs = Math.min(previous.eventTs, latest.eventTs - 1) - 1;
  while (seen.has(eventTs)) eventTs -= 1;
  const body = lifecycleWebhookBody({ kind: 'rtms_started', stream: s.identity, eventTs, serverUrls: previous.serverUrls, payloadNesting: s.payloadNesting });
  logChaos(s, 'staleStarted', true, `event_ts ${latest.eventTs - eventTs} ms older, ${previous === latest ? 'current' : 'previous'} server_urls`);
  return postWebhook(s, JSON.stringify(body)).catch(() => undefined);
}

/** SimulatedStream.reportInterruption(), whose comment is the contract. */
export async function reportInterruption(s: StreamCore, options: { eventTsOffsetMs?: number } = {}): Promise<WebhookResponse> {
  if (s.state === 'ended') throw endedError(s);
  const eventTs = s.host.now() + (options.eventTsOffsetMs ?? 0);
  const body = lifecycleWebhookBody({ kind: 'rtms_interrupted', stream: s.identity, eventTs, payloadNesting: s.payloadNesting });
  return postWebhook(s, JSON.stringify(body));
}

/** SimulatedStream.jumpTimestamps(), whose comment is the contract. */
export function jumpTimestamps(s: StreamCore, deltaMs: number, options: { once?: boolean } = {}): boolean {
  const producer = s.producer;
  producer?.stepClock(deltaMs, options);
  logChaos(s, 'timestampJump', producer !== undefined, `${deltaMs > 0 ? '+' : ''}${deltaMs} ms${options.once ? ', one audio packet' : ''}`);
  return producer !== undefined;
}

export function chaosSocket(s: StreamCore, channel: ChaosChannel): PeerSocket | undefined {
  if (channel === 'signaling') return s.signaling?.isOpen === true ? s.signaling : undefined;
  return socketFor(s, channel);
}
