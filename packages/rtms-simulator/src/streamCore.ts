import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { type ChaosDraw, type ChaosKind, type ChaosLogEntry, ChaosPlan } from './chaos.ts';
import { type EntityIdKey, type MediaKind, type Product, StopReason } from './connectorShared.ts';
import { MediaBacklog } from './mediaBacklog.ts';
import type { MediaProducer, ProducerOutlet } from './mediaProducer.ts';
import { createParticipants, type SimParticipant } from './participants.ts';
import type { PeerSocket } from './peerSocket.ts';
import { SentRecord } from './sentRecord.ts';
import type { SimulatedStream } from './simulatedStream.ts';
import { SimulatorError } from './simulatorErrors.ts';
import { mediaOutlet } from './streamMedia.ts';
import { resolveSyncMarks, type SyncMarksOptions } from './syncMarks.ts';
import type { ConnectionStats, SimulatedStreamState, StartStreamOptions, StreamEnd, StreamEndCause, StreamHost } from './streamTypes.ts';
import { entityIdFor, type StreamIdentity } from './webhookBodies.ts';
import type { WebhookResponse } from './webhookSender.ts';
import { eventUpdate, zccEvent } from './wireMessages.ts';

/*
 * Lifecycle of a simulated stream, as Zoom runs it:
 *
 *   announced ──signaling handshake──▶ connected ◀──rejoin (handshake)──┐
 *       │                                 │                              │
 *       │                                 ├─interrupt / keep-alive miss ─▶ interrupted
 *       │                                 │  / client dropped signaling   │  / failover
 *       ▼                                 ▼                              ▼
 *     ended ◀─── stop, close request, join timeout, grace expired ──────┘
 *
 * Media-only loss (dropMedia, media keep-alive miss) keeps the stream `connected` and arms
 * the same grace deadline until the lost media sockets are back.
 */

const TRANSITIONS: Readonly<Record<SimulatedStreamState, readonly SimulatedStreamState[]>> = {
  announced: ['connected', 'ended'],
  connected: ['interrupted', 'ended'],
  interrupted: ['connected', 'ended'],
  ended: [],
};

const DEFAULT_SCOPES: Readonly<Record<Product, readonly MediaKind[]>> = {
  meeting: ['audio', 'video', 'deskshare', 'transcript', 'chat'],
  webinar: ['audio', 'video', 'deskshare', 'transcript', 'chat'],
  session: ['audio', 'video', 'deskshare', 'transcript', 'chat'],
  contact_center: ['audio', 'transcript'],
};

/** ZCC voice events; their numbers overlap the meeting enum. */
export const ZccEvent = { CONSUMER_ANSWERED: 8, CONSUMER_END: 9, USER_ANSWERED: 10, USER_END: 11 } as const;

interface GraceDeadline {
  /** ms epoch */
  readonly at: number;
  readonly stopReason: number;
  readonly cause: StreamEndCause;
}

export interface Deferred<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

export function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

let streamCounter = 0;

/**
 * The state of one simulated stream, shared by the modules that implement its behaviour
 * (streamHandshakes, streamSignaling, streamMedia, streamConnectionLoss, streamLifecycle,
 * streamChaos, streamChaosSchedule). Not exported from the package: SimulatedStream is the API.
 */
export class StreamCore {
  readonly product: Product;
  readonly rtmsStreamId: string;
  readonly entityId: string;
  /** The key the webhooks use for the entity id. */
  readonly entityIdKey: EntityIdKey;
  /** Video SDK custom session id (sessions only, but always set). */
  readonly sessionKey: string;
  /** Media the app may receive. */
  readonly scopes: readonly MediaKind[];
  readonly participants: readonly SimParticipant[];
  readonly connections: ConnectionStats = {
    signalingAccepted: 0,
    signalingRejectedDuplicate: 0,
    mediaAccepted: 0,
    handshakeRejections: [],
    keepAliveMisses: 0,
    keepAlivesSent: {},
    keepAliveTimeouts: [],
    readyAcks: 0,
    interruptions: 0,
    mediaInterruptions: 0,
    failovers: 0,
    oldServerAttempts: 0,
    unknownMessages: 0,
  };
  /** Every webhook sent for this stream with its outcome, in order. */
  readonly webhooks: Array<{
    readonly event: string;
    readonly status: number | undefined;
    readonly error: string | undefined;
    readonly at: number;
    /** Zoom's redelivery number (`webhookRetries`); absent on the first delivery. */
    readonly retry?: number;
  }> = [];

  readonly host: StreamHost;
  readonly logger: Logger;
  readonly identity: StreamIdentity;
  readonly record: SentRecord;
  readonly backlog: MediaBacklog;
  readonly seed: number;
  readonly durationMs: number | undefined;
  readonly syncMarks: SyncMarksOptions | undefined;
  readonly offerSplitMediaUrls: boolean;
  readonly payloadNesting: 'flat' | 'object';
  readonly shareUrlKey: 'sharescreen' | 'deskshare';
  readonly rtmsSessionId = randomBytes(16).toString('hex');
  readonly ended = deferred<StreamEnd>();
  readonly readyWaiters: Array<{ readonly count: number; readonly deferred: Deferred<void> }> = [];
  readonly media = new Set<PeerSocket>();
  /** Sockets the simulator terminated whose undelivered media has not been handed back yet. */
  readonly closing = new Set<PeerSocket>();
  /** Media kinds whose sockets were lost and have not reconnected. */
  readonly lostKinds = new Set<MediaKind>();
  state: SimulatedStreamState = 'announced';
  generation = 1;
  startedBody: string | undefined;
  signaling: PeerSocket | undefined;
  /** CLIENT_READY_ACK received on the current signaling connection. */
  ready = false;
  whole = false;
  readyCount = 0;
  firstReadyAt: number | undefined;
  bufferStartupAudio = true;
  subscribed = new Set<number>();
  producer: MediaProducer | undefined;
  deadline: GraceDeadline | undefined;
  end: StreamEnd | undefined;
  droppedPictures = { videoFrames: 0, deskshareFrames: 0 };
  /** Chaos: the scheduled plan (chaos mode only), the log, and effects in progress. */
  readonly chaosPlan: ChaosPlan | undefined;
  readonly chaosLog: ChaosLogEntry[] = [];
  /** The scheduled injection being applied (its entries in the log carry its sequence number). */
  currentDraw: ChaosDraw | undefined;
  /** The latest lifecycle webhook body POSTed (started or interrupted), for exact retries. */
  lastLifecycleBody: string | undefined;
  /** Every `rtms_started` announced: when, and with which `server_urls`. */
  readonly announcements: Array<{ readonly eventTs: number; readonly serverUrls: string }> = [];
  /** An `rtms_interrupted` held back until the client has rejoined (out-of-order delivery). */
  lateInterrupted: { readonly body: string; readonly delayMs: number; readonly afterReady: number; postAt: number | undefined } | undefined;
  /** Padded size of the next picture of a kind (oversized-frame injection). */
  readonly oversizedPending = new Map<'video' | 'deskshare', number>();
  /** The next media handshake is answered this much later, after `onArrival` ran (holdNextMediaHandshake). */
  mediaHandshakeHold: { readonly delayMs: number; readonly onArrival: () => void } | undefined;
  readonly outlet: ProducerOutlet;
  /** The handle the simulator schedules and hands out. */
  readonly stream: SimulatedStream;

  constructor(options: StartStreamOptions & { host: StreamHost; seed: number; chaosSeed?: number }, stream: SimulatedStream) {
    this.stream = stream;
    streamCounter += 1;
    this.host = options.host;
    this.product = options.product ?? 'meeting';
    this.rtmsStreamId = options.rtmsStreamId ?? randomBytes(16).toString('hex');
    this.entityId = options.entityId ?? entityIdFor(this.product, randomBytes(16));
    const webinarIdKey = options.webinarIdKey ?? 'webinar_uuid';
    this.entityIdKey = ({ meeting: 'meeting_uuid', webinar: webinarIdKey, session: 'session_id', contact_center: 'engagement_id' } as const)[this.product];
    this.sessionKey = options.sessionKey ?? `sim-session-${streamCounter}`;
    this.scopes = [...new Set(options.scopes ?? DEFAULT_SCOPES[this.product])];
    if (this.scopes.length === 0) throw new SimulatorError('INVALID_OPTION', 'scopes must name at least one media kind');
    if (options.durationMs !== undefined && !(options.durationMs > 0)) {
      throw new SimulatorError('INVALID_OPTION', `durationMs must be positive, got ${options.durationMs}`);
    }
    this.seed = options.seed;
    this.participants = createParticipants({ product: this.product, count: options.participants ?? 3, seed: options.seed });
    this.durationMs = options.durationMs;
    this.syncMarks = options.syncMarks === undefined ? options.host.settings.syncMarks : resolveSyncMarks(options.syncMarks);
    this.offerSplitMediaUrls = options.offerSplitMediaUrls ?? true;
    this.payloadNesting = options.payloadNesting ?? 'flat';
    this.shareUrlKey = options.shareUrlKey ?? 'sharescreen';
    this.identity = {
      product: this.product,
      rtmsStreamId: this.rtmsStreamId,
      entityId: this.entityId,
      sessionKey: this.sessionKey,
      operatorId: randomBytes(16).toString('base64url').slice(0, 22),
      accountId: randomBytes(16).toString('base64url').slice(0, 22),
      meetingNumber: 80_000_000_000 + (randomBytes(4).readUInt32BE(0) % 9_000_000_000),
      webinarIdKey,
    };
    const settings = this.host.settings;
    this.record = new SentRecord({ recordContent: settings.recordContent, maxContentBytes: settings.recordMaxBytes });
    this.backlog = new MediaBacklog(settings.backlog, (kind) => this.state === 'connected' && socketFor(this, kind) !== undefined);
    this.logger = this.host.logger.child({ rtmsStreamId: this.rtmsStreamId, product: this.product });
    if (settings.joinTimeoutMs > 0) {
      this.deadline = { at: this.host.now() + settings.joinTimeoutMs, stopReason: StopReason.CONNECTION_TIMEOUT, cause: 'joinTimeout' };
    }
    const chaos = this.host.chaos;
    this.chaosPlan = chaos !== undefined && options.chaos !== false ? new ChaosPlan(chaos, options.chaosSeed ?? options.seed) : undefined;
    this.outlet = mediaOutlet(this);
    // Nobody may be awaiting these yet; keep rejections from surfacing as unhandled.
    this.ended.promise.catch(() => {});
  }

  /** Current signaling URL (changes on failover). */
  get signalingUrl(): string {
    return this.host.signalingUrl(this.generation);
  }

  /** `server_urls` of the latest `rtms_started`. */
  get serverUrls(): string {
    return this.signalingUrl;
  }
}

export function transition(s: StreamCore, to: SimulatedStreamState): void {
  if (s.state === to) return;
  if (!TRANSITIONS[s.state].includes(to)) throw new Error(`simulated stream: illegal transition ${s.state} -> ${to}`);
  s.logger.debug({ from: s.state, to }, 'stream state');
  s.state = to;
}

export function endedError(s: StreamCore): SimulatorError {
  return new SimulatorError('STREAM_ENDED', `stream ${s.rtmsStreamId} ended (${s.end?.cause ?? 'ended'})`);
}

/** The socket carrying a kind, if one is open. */
export function socketFor(s: StreamCore, kind: MediaKind): PeerSocket | undefined {
  for (const socket of s.media) if (socket.kinds.includes(kind) && socket.isOpen) return socket;
  return undefined;
}

/** A socket of this kind is still being torn down: sending now could overtake its undelivered media. */
export function closingFor(s: StreamCore, kind: MediaKind): boolean {
  for (const socket of s.closing) if (socket.kinds.includes(kind)) return true;
  return false;
}

/** Every open socket of the stream, signaling first. */
export function openSockets(s: StreamCore): PeerSocket[] {
  const sockets = [...s.media].filter((socket) => socket.isOpen);
  if (s.signaling?.isOpen === true) sockets.unshift(s.signaling);
  return sockets;
}

export function sendSignaling(s: StreamCore, message: object): void {
  const signaling = s.signaling;
  if (signaling?.isOpen === true) signaling.send(message);
}

export function sendEvent(s: StreamCore, event: Record<string, unknown>): void {
  sendSignaling(s, eventUpdate(event));
}

export function sendZccEvent(s: StreamCore, type: number, party: SimParticipant, now: number): void {
  sendSignaling(s, zccEvent(type, party, s.identity.accountId, now));
}

export async function postWebhook(s: StreamCore, rawBody: string): Promise<WebhookResponse> {
  const event = (JSON.parse(rawBody) as { event?: unknown }).event;
  const name = typeof event === 'string' ? event : 'unknown';
  if (name.endsWith('.rtms_started') || name.endsWith('.rtms_interrupted')) s.lastLifecycleBody = rawBody;
  try {
    const response = await s.host.postWebhook(rawBody, ({ retry, status, error }) => s.webhooks.push({ event: name, status, error, at: s.host.now(), retry }));
    s.webhooks.push({ event: name, status: response.status, error: undefined, at: s.host.now() });
    return response;
  } catch (error) {
    s.webhooks.push({ event: name, status: undefined, error: error instanceof Error ? error.message : String(error), at: s.host.now() });
    s.logger.warn({ event: name, err: error }, 'webhook not delivered');
    throw error;
  }
}

export function logChaos(s: StreamCore, kind: ChaosKind, applied: boolean, detail: string): void {
  const at = s.host.now();
  s.chaosLog.push({
    scheduled: s.currentDraw?.index,
    kind,
    at,
    sinceFirstReadyMs: s.firstReadyAt === undefined ? 0 : at - s.firstReadyAt,
    applied,
    detail,
  });
}
