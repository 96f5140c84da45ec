import { Gauge, type Registry } from 'prom-client';
import type { HostCapacity } from './capacity.ts';

/**
 * What the process may use (`rtms_capacity_*`, the basis of the MAX_STREAMS and
 * WORKER_THREADS defaults) and whether OUTPUT_DIR takes files (`rtms_output_dir_usable`),
 * registered on `ConnectorMetrics.registry`.
 */
export function registerOperatorMetrics(registry: Registry, options: { capacity: HostCapacity; outputDirUsable: () => boolean }): void {
  const registers = [registry];
  const { capacity } = options;
  new Gauge({
    name: 'rtms_capacity_cpus',
    help: 'CPUs this process may use: the cgroup CPU quota (source="cgroup") or the host cores (source="host").',
    labelNames: ['source'] as const,
    registers,
  }).set({ source: capacity.cpuSource }, capacity.cpus);
  new Gauge({
    name: 'rtms_capacity_memory_bytes',
    help: 'Memory this process may use: the cgroup memory limit (source="cgroup") or the host memory (source="host").',
    labelNames: ['source'] as const,
    registers,
  }).set({ source: capacity.memorySource }, capacity.memoryBytes);
  new Gauge({
    name: 'rtms_output_dir_usable',
    help: 'Whether OUTPUT_DIR took a probe file at the latest check (1) or not (0; /readyz answers 503).',
    registers,
    collect() {
      this.set(options.outputDirUsable() ? 1 : 0);
    },
  });
}
