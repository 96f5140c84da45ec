import { type ChildProcess, fork } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { children, stopChild, waitForMessage } from './childProcesses.ts';
import { IpcClient, type LoadSimulatorConfig, type LoadSimulatorMessage, type LoadSimulatorRequest, type LoadSimulatorStats } from './perfIpc.ts';

const HERE = dirname(fileURLToPath(import.meta.url));

/** The parent's side of `loadSimulator.ts`: forks it, starts streams, reads its stats, stops it. */
export class LoadSimulatorProcess {
  readonly child: ChildProcess;
  readonly ipc: IpcClient<LoadSimulatorRequest, LoadSimulatorMessage>;

  private constructor(child: ChildProcess) {
    this.child = child;
    this.ipc = new IpcClient(child);
  }

  static async start(config: LoadSimulatorConfig, cpuProfDir?: string): Promise<LoadSimulatorProcess> {
    const child = fork(join(HERE, 'loadSimulator.ts'), [], {
      env: { ...process.env, PERF_SIM_CONFIG: JSON.stringify(config), NODE_OPTIONS: cpuProfDir === undefined ? '' : `--cpu-prof --cpu-prof-dir=${cpuProfDir}` },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    children.add(child);
    await waitForMessage(child, 'listening', 20_000);
    return new LoadSimulatorProcess(child);
  }

  get pid(): number {
    return this.child.pid as number;
  }

  async startStreams(count: number, withVideo: number, spreadMs: number): Promise<{ ready: number; failed: number; errors: readonly string[] }> {
    const reply = await this.ipc.request({ type: 'start', count, withVideo, spreadMs, readyTimeoutMs: 120_000 + spreadMs }, 180_000 + spreadMs);
    if (reply.type !== 'reply' || !reply.ok) throw new Error(`load simulator: ${reply.type === 'reply' && !reply.ok ? reply.error : 'bad reply'}`);
    return { ready: reply.ready ?? 0, failed: reply.failed ?? 0, errors: reply.errors ?? [] };
  }

  async stats(): Promise<LoadSimulatorStats> {
    const reply = await this.ipc.request({ type: 'stats' });
    if (reply.type !== 'reply' || !reply.ok || reply.stats === undefined) throw new Error('load simulator: no stats');
    return reply.stats;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null) await this.ipc.request({ type: 'close' }, 15_000).catch(() => undefined);
    await stopChild(this.child, 15_000);
  }
}
