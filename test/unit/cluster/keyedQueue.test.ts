import { describe, expect, it } from 'vitest';
import { KeyedQueue } from '../../../src/cluster/keyedQueue.ts';

/** A task the test finishes by hand, recording when it started. */
function gate(log: string[], name: string): { task: () => Promise<string>; finish: () => void; fail: (error: Error) => void } {
  let finish = (): void => undefined;
  let fail = (_error: Error): void => undefined;
  const task = (): Promise<string> => {
    log.push(`start ${name}`);
    return new Promise<string>((resolve, reject) => {
      finish = () => resolve(name);
      fail = reject;
    });
  };
  return { task, finish: () => finish(), fail: (error) => fail(error) };
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('KeyedQueue', () => {
  it('runs one task at a time per key in submission order; other keys do not wait', async () => {
    const queue = new KeyedQueue();
    const log: string[] = [];
    const a1 = gate(log, 'a1');
    const a2 = gate(log, 'a2');
    const b1 = gate(log, 'b1');
    const first = queue.run('a', a1.task);
    const second = queue.run('a', a2.task);
    const other = queue.run('b', b1.task);
    await turn();
    expect(log).toEqual(['start a1', 'start b1']);
    expect(queue.size).toBe(2);
    a1.finish();
    expect(await first).toBe('a1');
    await turn();
    expect(log).toEqual(['start a1', 'start b1', 'start a2']);
    a2.finish();
    b1.finish();
    expect(await Promise.all([second, other])).toEqual(['a2', 'b1']);
    await queue.idle();
    expect(queue.size).toBe(0);
  });

  it('a failed task rejects its caller only; the next task of the key still runs', async () => {
    const queue = new KeyedQueue();
    const log: string[] = [];
    const broken = gate(log, 'broken');
    const next = gate(log, 'next');
    const failed = queue.run('a', broken.task);
    const after = queue.run('a', next.task);
    await turn();
    broken.fail(new Error('redis down'));
    await expect(failed).rejects.toThrow('redis down');
    await turn();
    expect(log).toEqual(['start broken', 'start next']);
    next.finish();
    expect(await after).toBe('next');
  });

  it('idle() waits for tasks submitted while it waits', async () => {
    const queue = new KeyedQueue();
    const log: string[] = [];
    const first = gate(log, 'first');
    const later = gate(log, 'later');
    void queue.run('a', first.task);
    let idle = false;
    const waiting = queue.idle().then(() => (idle = true));
    await turn();
    void queue.run('b', later.task);
    first.finish();
    await turn();
    expect(idle).toBe(false);
    later.finish();
    await waiting;
    expect(queue.size).toBe(0);
  });
});
