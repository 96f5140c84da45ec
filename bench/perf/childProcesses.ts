import type { ChildProcess } from 'node:child_process';

/**
 * The benchmark's child processes (connector, baseline client, load simulator): registered
 * when started, stopped with a grace period, and all killed when the benchmark exits, whatever
 * happened.
 */

/** Every child started and not yet reaped; killed on exit, whatever happened. */
export const children = new Set<ChildProcess>();

export function killAll(): void {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}
process.once('exit', killAll);

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

export async function stopChild(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited(child);
  clearTimeout(timer);
  children.delete(child);
}

export function waitForMessage<M extends { type: string }>(child: ChildProcess, type: string, timeoutMs: number): Promise<M> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no '${type}' from child within ${timeoutMs} ms`)), timeoutMs);
    const onMessage = (message: M): void => {
      if (message.type !== type) return;
      clearTimeout(timer);
      child.off('message', onMessage);
      resolve(message);
    };
    child.on('message', onMessage);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`child exited with ${code} before '${type}'`));
    });
  });
}
