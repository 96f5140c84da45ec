import { describe, expect, it } from 'vitest';
import type { Clock } from '../../../src/clock.ts';
import { createLogger } from '../../../src/logger.ts';
import type { OutputDirCheck } from '../../../src/sinks/outputDirectoryCheck.ts';
import { OutputDirectoryMonitor } from '../../../src/sinks/outputDirectoryMonitor.ts';

/** A clock whose interval runs only when the test says so. */
function manualClock(): Clock & { tick(): void } {
  let callback: (() => void) | undefined;
  return {
    now: () => 0,
    setTimeout: () => ({ unref() {} }) as NodeJS.Timeout,
    clearTimeout: () => undefined,
    setInterval: (fn) => {
      callback = fn;
      return { unref() {} } as NodeJS.Timeout;
    },
    clearInterval: () => {
      callback = undefined;
    },
    tick: () => callback?.(),
  };
}

describe('OutputDirectoryMonitor', () => {
  it('follows each check, logs a change once and stops checking after stop()', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const logger = createLogger({ level: 'info', destination: { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) } });
    const answers: OutputDirCheck[] = [
      { usable: false, problem: 'not_writable', code: 'EROFS' },
      { usable: false, problem: 'not_writable', code: 'EROFS' },
      { usable: true },
    ];
    let calls = 0;
    const clock = manualClock();
    const monitor = new OutputDirectoryMonitor({
      directory: '/data',
      intervalMs: 1000,
      logger,
      clock,
      initial: { usable: true },
      check: async () => answers[calls++] ?? { usable: true },
    });
    monitor.start();
    expect(monitor.usable).toBe(true);
    await monitor.recheck();
    expect(monitor.usable).toBe(false);
    await monitor.recheck();
    await monitor.recheck();
    expect(monitor.usable).toBe(true);
    expect(lines.map((line) => line['msg'])).toEqual([
      'OUTPUT_DIR: expected a directory writable by uid 0, got "/data" (EROFS); not ready',
      'OUTPUT_DIR is usable again; ready',
    ]);
    clock.tick();
    await new Promise((resolve) => setImmediate(resolve));
    expect(calls).toBe(4);
    monitor.stop();
    clock.tick();
    expect(calls).toBe(4);
  });

  it('does not pile checks on a filesystem that hangs', async () => {
    let release: (() => void) | undefined;
    let calls = 0;
    const monitor = new OutputDirectoryMonitor({
      directory: '/data',
      intervalMs: 1000,
      logger: createLogger({ level: 'silent' }),
      clock: manualClock(),
      initial: { usable: true },
      check: () => {
        calls++;
        return new Promise((resolve) => (release = () => resolve({ usable: true })));
      },
    });
    const first = monitor.recheck();
    await monitor.recheck();
    expect(calls).toBe(1);
    release?.();
    await first;
  });
});
