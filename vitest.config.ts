import { defineConfig } from 'vitest/config';
import DurationSequencer from './test/support/durationSequencer.ts';

// Two projects, one pyramid: `unit` (test/unit: in-process, fake clocks, a private
// redis-server at most) must answer in seconds, so a test that hangs fails at 5 s;
// `integration` (test/integration and the simulator package's tests of the same kinds: real connector processes, worker threads, simulators,
// Prometheus) keeps 30 s, and files that need more say so themselves. Unit test files keep no
// state between them (each builds its own clocks, registries, servers and temp dirs; fake timers
// and env changes are restored), so their workers are reused across files (`isolate: false`):
// about a third less wall time. A file that needs a fresh module graph belongs in integration.
export default defineConfig({
  test: {
    // Integration tests open real sockets, threads and child processes, and most of their time
    // is waiting on real streams and timers, not CPU: four files at once on two cores took 291 s
    // instead of 474 s with two, with the same results; six failed load-sensitive tests
    // (docs/development.md, Tests).
    maxWorkers: 4,
    // Slowest files first, from test/durations.json, so no long file starts last (fresh clones have no vitest cache).
    sequence: { sequencer: DurationSequencer },
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts', 'packages/*/test/unit/**/*.test.ts'],
          testTimeout: 5_000,
          hookTimeout: 5_000,
          isolate: false,
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts', 'packages/*/test/integration/**/*.test.ts'],
          testTimeout: 30_000,
          hookTimeout: 30_000,
        },
      },
    ],
  },
});
