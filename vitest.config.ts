import { defineConfig } from 'vitest/config';

// Two projects, one pyramid: `unit` (test/unit: in-process, fake clocks, a private
// redis-server at most) must answer in seconds, so a test that hangs fails at 5 s;
// `integration` (test/integration: real connector processes, worker threads, simulators,
// Prometheus) keeps 30 s, and files that need more say so themselves.
export default defineConfig({
  test: {
    // Integration tests open real sockets, threads and child processes; two cores are shared.
    maxWorkers: 2,
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/unit/**/*.test.ts'], testTimeout: 5_000, hookTimeout: 5_000 } },
      { extends: true, test: { name: 'integration', include: ['test/integration/**/*.test.ts'], testTimeout: 30_000, hookTimeout: 30_000 } },
    ],
  },
});
