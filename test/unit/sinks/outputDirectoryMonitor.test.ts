import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/logger.ts';
import type { OutputDirCheck } from '../../../src/sinks/outputDirectoryCheck.ts';
import { OutputDirectoryMonitor } from '../../../src/sinks/outputDirectoryMonitor.ts';
import { ManualClock } from '../../support/clock.ts';

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
    const clock = new ManualClock();
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
    await clock.advance(1000);
    await new Promise((resolve) => setImmediate(resolve));
    expect(calls).toBe(4);
    monitor.stop();
    expect(clock.pending).toBe(0);
    await clock.advance(1000);
    expect(calls).toBe(4);
  });

  it('does not pile checks on a filesystem that hangs', async () => {
    let release: (() => void) | undefined;
    let calls = 0;
    const monitor = new OutputDirectoryMonitor({
      directory: '/data',
      intervalMs: 1000,
      logger: createLogger({ level: 'silent' }),
      clock: new ManualClock(),
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
