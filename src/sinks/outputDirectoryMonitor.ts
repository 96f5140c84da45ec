import { systemClock, type Clock } from '../clock.ts';
import type { Logger } from '../logger.ts';
import { checkOutputDirectory, describeOutputDirProblem, type OutputDirCheck } from './outputDirectoryCheck.ts';

/**
 * Re-checks `OUTPUT_DIR` every `intervalMs` (a volume can turn read-only, be unmounted or
 * have its permissions changed under a running process). `/readyz` reads `usable`, so an
 * orchestrator routes new meetings elsewhere; each change is logged once.
 */
export class OutputDirectoryMonitor {
  readonly #directory: string;
  readonly #intervalMs: number;
  readonly #logger: Logger;
  readonly #clock: Clock;
  readonly #check: (directory: string) => Promise<OutputDirCheck>;
  #last: OutputDirCheck;
  #timer: NodeJS.Timeout | undefined;
  #running = false;

  constructor(options: {
    directory: string;
    intervalMs: number;
    logger: Logger;
    /** The start-up check's answer; the monitor begins from it. */
    initial: OutputDirCheck;
    clock?: Clock;
    check?: (directory: string) => Promise<OutputDirCheck>;
  }) {
    this.#directory = options.directory;
    this.#intervalMs = options.intervalMs;
    this.#logger = options.logger.child({ component: 'output-dir' });
    this.#clock = options.clock ?? systemClock;
    this.#check = options.check ?? checkOutputDirectory;
    this.#last = options.initial;
  }

  get usable(): boolean {
    return this.#last.usable;
  }

  get lastCheck(): OutputDirCheck {
    return this.#last;
  }

  start(): void {
    if (this.#timer !== undefined) return;
    this.#timer = this.#clock.setInterval(() => void this.recheck(), this.#intervalMs);
    this.#timer.unref?.();
  }

  stop(): void {
    if (this.#timer !== undefined) this.#clock.clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** One check now (skipped while one is still running: a hung filesystem is not piled on). */
  async recheck(): Promise<OutputDirCheck> {
    if (this.#running) return this.#last;
    this.#running = true;
    try {
      const next = await this.#check(this.#directory);
      const before = this.#last;
      this.#last = next;
      if (!next.usable && (before.usable || before.problem !== next.problem || before.code !== next.code)) {
        this.#logger.error({ problem: next.problem, code: next.code }, `${describeOutputDirProblem(this.#directory, next)}; not ready`);
      } else if (next.usable && !before.usable) {
        this.#logger.info('OUTPUT_DIR is usable again; ready');
      }
      return next;
    } finally {
      this.#running = false;
    }
  }
}
