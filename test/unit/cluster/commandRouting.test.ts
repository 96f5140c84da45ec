import { describe, expect, it } from 'vitest';
import type { ClusterCommandBody } from '../../../src/cluster/clusterCommand.ts';
import { CommandRouter, MAX_HOPS } from '../../../src/cluster/commandRouting.ts';
import { createLogger } from '../../../src/logger.ts';
import type { Supervisor } from '../../../src/supervisor/supervisor.ts';

type Note = { status: 'owned'; owner: string } | { status: 'unknown' } | { status: 'orphan' };

function rig(options: { local?: boolean; note?: Note | 'redis_down'; held?: boolean; confirm?: boolean } = {}) {
  const calls: string[] = [];
  const sent: Array<{ to: string; type: string; hops: number }> = [];
  const notes: string[] = [];
  const supervisor = {
    has: () => options.local === true,
    interrupt: (id: string, eventTs: number) => calls.push(`interrupt ${id} ${eventTs}`),
    stop: (id: string, reason: number) => calls.push(`stop ${id} ${reason}`),
    closeStream: (id: string) => calls.push(`close ${id}`),
    excludeParticipant: (id: string, userId: string) => calls.push(`exclude ${id} ${userId}`),
  } as unknown as Supervisor;
  const router = new CommandRouter({
    replicaId: 'self',
    supervisor: () => supervisor,
    registry: {
      note: async (id, kind, argument) => {
        if (options.note === 'redis_down') throw new Error('down');
        notes.push(`${kind} ${id} ${argument}`);
        return (options.note ?? { status: 'unknown' }) as never;
      },
    },
    leases: { confirm: async () => options.confirm ?? true },
    held: { command: (body: ClusterCommandBody) => (calls.push(`held ${body.type}`), options.held === true) },
    send: async (to, body, hops) => void sent.push({ to, type: body.type, hops }),
    logger: createLogger({ level: 'silent' }),
    warn: () => undefined,
  });
  return { router, calls, sent, notes };
}

describe('CommandRouter', () => {
  it('a stream that runs here: noted in its record, then executed here', async () => {
    const r = rig({ local: true });
    expect(await r.router.route({ type: 'stop', rtmsStreamId: 's', stopReason: 6 }, 0)).toBe(true);
    expect(r.notes).toEqual(['stop s 6']);
    expect(r.calls).toEqual(['stop s 6']);
    expect(await r.router.route({ type: 'exclude', rtmsStreamId: 's', userId: 'u' }, 0)).toBe(true);
    expect(r.calls.at(-1)).toBe('exclude s u');
  });

  it('an interruption is acted on only while the lease is confirmed', async () => {
    const r = rig({ local: true, confirm: false });
    await r.router.route({ type: 'interrupt', rtmsStreamId: 's', eventTs: 9 }, 0);
    expect(r.calls).toEqual([]);
  });

  it('a stream owned elsewhere: forwarded to its owner, one hop more, until MAX_HOPS', async () => {
    const r = rig({ note: { status: 'owned', owner: 'peer' } });
    expect(await r.router.route({ type: 'close', rtmsStreamId: 's' }, 0)).toBe(true);
    expect(r.sent).toEqual([{ to: 'peer', type: 'close', hops: 1 }]);
    await r.router.route({ type: 'close', rtmsStreamId: 's' }, MAX_HOPS);
    expect(r.sent).toHaveLength(1);
  });

  it('no replica knows the stream: false, unless it is held here', async () => {
    expect(await rig().router.route({ type: 'close', rtmsStreamId: 's' }, 0)).toBe(false);
    expect(await rig({ held: true }).router.route({ type: 'close', rtmsStreamId: 's' }, 0)).toBe(true);
  });

  it('Redis unreachable: a stream running here is still served; otherwise only what is held here', async () => {
    const local = rig({ local: true, note: 'redis_down' });
    expect(await local.router.route({ type: 'close', rtmsStreamId: 's' }, 0)).toBe(true);
    expect(local.calls).toEqual(['close s']);
    const remote = rig({ note: 'redis_down' });
    expect(await remote.router.route({ type: 'close', rtmsStreamId: 's' }, 0)).toBe(false);
    expect(remote.calls).toEqual(['held close']);
  });
});
