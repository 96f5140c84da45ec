import { type ChaosDraw, choose } from './chaos.ts';
import { type MalformedVariant, malformedVariantsFor } from './chaosMessages.ts';
import type { MediaKind } from './connectorShared.ts';
import { jumpTimestamps, resendLastWebhook, sendMalformed, sendOversized, sendStaleStart, sendUnknown, stall, suppressKeepAlives } from './streamChaos.ts';
import { dropMedia, interrupt } from './streamConnectionLoss.ts';
import { logChaos, openSockets, postWebhook, socketFor, type StreamCore } from './streamCore.ts';
import { failover } from './streamLifecycle.ts';
import { flush } from './streamMedia.ts';
import type { ChaosChannel, StreamChaos } from './streamTypes.ts';

/*
 * Chaos mode: on each tick, ends stalls, posts a held-back webhook, and applies the next
 * injection the seeded plan draws once the stream is whole and the previous one is over.
 */

/** Chaos log and counters of this stream. */
export function chaosSummary(s: StreamCore): StreamChaos {
  const log = s.chaosLog;
  return {
    enabled: s.chaosPlan !== undefined,
    log,
    applied: (kind) => log.filter((entry) => entry.applied && (kind === undefined || entry.kind === kind)).length,
  };
}

/** Stall ends, the late webhook, and the next scheduled injection. */
export function chaosTick(s: StreamCore, now: number): void {
  for (const socket of openSockets(s)) {
    const until = socket.stalledUntil;
    if (until !== undefined && now >= until) {
      socket.resume(now, s.host.settings.keepAliveIntervalMs);
      flush(s);
    }
  }
  const late = s.lateInterrupted;
  if (late?.postAt !== undefined && now >= late.postAt) {
    s.lateInterrupted = undefined;
    void postWebhook(s, late.body).catch(() => undefined);
  }
  const plan = s.chaosPlan;
  if (plan === undefined || !chaosIdle(s)) return;
  const draw = plan.due(now);
  if (draw === undefined) return;
  plan.done(now);
  applyChaos(s, draw);
}

/** Whole, and no earlier injection still in effect. */
export function chaosIdle(s: StreamCore): boolean {
  if (s.state !== 'connected' || !s.whole || s.lateInterrupted !== undefined || s.oversizedPending.size > 0) return false;
  return openSockets(s).every((socket) => !socket.isStalled && socket.keepAlivesSuppressedUntil === undefined);
}

export function applyChaos(s: StreamCore, draw: ChaosDraw): void {
  const mediaKinds = s.scopes.filter((kind) => socketFor(s, kind) !== undefined);
  s.currentDraw = draw;
  try {
    injectDraw(s, draw, mediaKinds);
  } finally {
    s.currentDraw = undefined;
  }
  s.logger.info({ chaos: draw.kind, index: draw.index }, 'chaos injected');
}

export function injectDraw(s: StreamCore, draw: ChaosDraw, mediaKinds: readonly MediaKind[]): void {
  switch (draw.kind) {
    case 'killSignaling':
      logChaos(s, 'killSignaling', true, 'signaling and media sockets terminated, rtms_interrupted now');
      void interrupt(s);
      break;
    case 'killMedia': {
      const kind = choose(mediaKinds, draw.pick);
      logChaos(s, 'killMedia', kind !== undefined, `socket carrying ${kind ?? 'nothing'}`);
      if (kind !== undefined) void dropMedia(s, kind);
      break;
    }
    case 'stall':
      stall(s, draw.durationMs, choose<ChaosChannel>(['signaling', ...mediaKinds], draw.pick) ?? 'signaling');
      break;
    case 'suppressKeepAlives':
      suppressKeepAlives(s, draw.durationMs);
      break;
    case 'malformedJson':
    case 'truncatedJson':
    case 'invalidFields': {
      const kind = choose(mediaKinds, draw.pick);
      if (kind === undefined) {
        logChaos(s, draw.kind, false, 'no media socket');
        break;
      }
      const fieldVariants = malformedVariantsFor(kind).filter((variant) => variant !== 'invalidJson' && variant !== 'truncatedJson');
      const variant: MalformedVariant =
        draw.kind === 'malformedJson' ? 'invalidJson' : draw.kind === 'truncatedJson' ? 'truncatedJson' : (choose(fieldVariants, draw.pick2) ?? 'noContent');
      void sendMalformed(s, kind, variant, draw.contentSeed);
      break;
    }
    case 'unknownMessage':
      void sendUnknown(s, choose<ChaosChannel>(['signaling', ...mediaKinds], draw.pick) ?? 'signaling', draw.contentSeed);
      break;
    case 'oversizedFrame': {
      const pictureKinds = mediaKinds.filter((kind): kind is 'video' | 'deskshare' => kind === 'video' || kind === 'deskshare');
      const kind = choose(pictureKinds, draw.pick);
      if (kind === undefined) logChaos(s, 'oversizedFrame', false, 'no video or deskshare socket');
      else sendOversized(s, kind);
      break;
    }
    case 'duplicateWebhook':
      void resendLastWebhook(s);
      break;
    case 'lateInterrupted':
      logChaos(s, 'lateInterrupted', true, `signaling and media sockets terminated, rtms_interrupted ${draw.durationMs} ms after the rejoin`);
      void interrupt(s, { webhook: 'afterRejoin', delayMs: draw.durationMs });
      break;
    case 'staleStarted':
      void sendStaleStart(s);
      break;
    case 'failover':
      logChaos(s, 'failover', true, `moved to generation ${s.generation + 1}`);
      void failover(s).catch(() => undefined);
      break;
    case 'timestampJump': {
      const [deltaMs, once] = choose<[number, boolean]>(
        [
          [-3000, false],
          [-30_000, false],
          [30_000, false],
          [10 * 3600_000, true],
        ],
        draw.pick,
      ) ?? [-3000, false];
      jumpTimestamps(s, deltaMs, { once });
      break;
    }
  }
}
