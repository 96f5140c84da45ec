import { describe, expect, it } from 'vitest';
import type { ClaimOutcome, HeldLease } from '../../../src/cluster/streamLeases.ts';
import { StreamClaims } from '../../../src/cluster/streamClaims.ts';
import { createLogger } from '../../../src/logger.ts';
import type { StreamStart } from '../../../src/rtms/products.ts';
import type { Supervisor } from '../../../src/supervisor/supervisor.ts';

const START = {
  product: 'meeting',
  rtmsStreamId: 's',
  eventTs: 1,
  entityIdKey: 'meeting_uuid',
  entityId: 'm',
  serverUrls: 'wss://x',
  signalingUrl: 'wss://x',
} as unknown as StreamStart;

function claimed(record: Record<string, string> = {}): ClaimOutcome {
  return { status: 'claimed', lease: { rtmsStreamId: 's', token: 1 } as unknown as HeldLease, record, excluded: [], orphanedMs: 5 } as unknown as ClaimOutcome;
}

function rig(options: { local?: boolean; free?: number; announce?: unknown; claim?: ClaimOutcome; refusal?: string } = {}) {
  const log: string[] = [];
  let reserved = 0;
  const supervisor = {
    has: () => options.local === true,
    failover: () => log.push('failover'),
    startStream: (payload: StreamStart, extra: { resume?: { reason: string } }) => (
      log.push(`start ${payload.rtmsStreamId} ${extra.resume?.reason ?? 'new'}`),
      options.refusal
    ),
  } as unknown as Supervisor;
  const claims = new StreamClaims({
    replicaId: 'self',
    maxStreams: 1,
    supervisor: () => supervisor,
    leases: {
      valid: () => true,
      holds: () => false,
      claim: async () => options.claim ?? ({ status: 'held', owner: 'peer' } as never),
      forget: () => undefined,
      release: async () => void log.push('released'),
    } as never,
    registry: {
      announce: async () => {
        if (options.announce === 'down') throw new Error('down');
        return (options.announce ?? { status: 'announced', claim: claimed() }) as never;
      },
      finish: async () => void log.push('finished'),
    } as never,
    held: { startedWhileSuspended: () => false, pend: () => log.push('pend'), announced: () => log.push('announced'), isSuspended: () => false },
    orphans: { claimed: () => log.push('orphan claimed') },
    free: () => options.free ?? 1,
    reserve: () => ((reserved += 1), () => void (reserved -= 1)),
    send: async (to, body, hops) => void log.push(`send ${to} ${body.type} ${hops}`),
    hintAdopt: async (id) => void log.push(`hint ${id}`),
    acquired: (id, reason) => log.push(`acquired ${id} ${reason}`),
    abandoned: (id) => log.push(`abandoned ${id}`),
    logger: createLogger({ level: 'silent' }),
    warn: () => undefined,
  });
  return { claims, log, reserved: () => reserved };
}

describe('StreamClaims', () => {
  it('a new stream with room here: announced, claimed and started', async () => {
    const r = rig();
    await r.claims.started(START, 0);
    expect(r.log).toEqual(['announced', 'start s new', 'acquired s admitted']);
    expect(r.reserved()).toBe(0);
  });

  it('a stream that runs here: a failover', async () => {
    const r = rig({ local: true });
    await r.claims.started(START, 0);
    expect(r.log[0]).toBe('failover');
  });

  it('owned by a peer: forwarded; no room anywhere known: a peer is hinted', async () => {
    const owned = rig({ announce: { status: 'announced', claim: { status: 'held', owner: 'peer' } } });
    await owned.claims.started(START, 0);
    expect(owned.log).toEqual(['announced', 'send peer started 1']);
    const full = rig({ free: 0, announce: { status: 'announced', claim: undefined } });
    await full.claims.started(START, 0);
    expect(full.log).toEqual(['announced', 'hint s']);
  });

  it('Redis unreachable: the stream is held for the next scan', async () => {
    const r = rig({ announce: 'down' });
    await r.claims.started(START, 0);
    expect(r.log).toEqual(['pend']);
    expect(r.reserved()).toBe(0);
  });

  it('an orphan taken over resumes as a hand-off when its owner handed it off; stopped meanwhile, it is finished', async () => {
    const r = rig({ claim: claimed({ start: JSON.stringify(START), released: 'handoff', stats: 'x' }) });
    await r.claims.takeOver('s', 'takeover');
    expect(r.log.slice(0, 1)).toEqual(['orphan claimed']);
    expect(r.log.at(-1)).toBe('acquired s handoff');
    const stopped = rig({ claim: claimed({ start: JSON.stringify(START), stopReason: '6' }) });
    await stopped.claims.takeOver('s', 'takeover');
    expect(stopped.log).toEqual(['orphan claimed', 'finished', 'abandoned s']);
  });

  it('a claimed stream the supervisor refuses is released for another replica', async () => {
    const r = rig({ refusal: 'max_streams' });
    await r.claims.started(START, 0);
    expect(r.log).toEqual(['announced', 'start s new', 'released']);
  });
});
