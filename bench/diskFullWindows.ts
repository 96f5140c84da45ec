/**
 * The chaos soak's disk-full windows: the connector's OUTPUT_DIR is a small real tmpfs, and at
 * seeded random times the soak fills it with a ballast file for a few seconds, then removes
 * it. Every write the connector makes meanwhile gets a real ENOSPC (docs/reliability.md,
 * "Host faults"). The tmpfs is the one the host-fault tests use (test/support/smallTmpfs.ts).
 */
import { Prng, deriveSeed } from 'rtms-simulator';
import { mountSmallTmpfs, type SmallTmpfs } from '../test/support/smallTmpfs.ts';

export interface DiskFullOptions {
  /** Windows per minute of media time (default 0.5: five in a 10-minute soak); 0 turns them off. */
  readonly perMinute?: number;
  /** Length of a window, seconds, drawn uniformly from this range (default 3 to 8). */
  readonly seconds?: readonly [number, number];
  /** tmpfs size in bytes (default: `estimateOutputBytes` of the run). */
  readonly sizeBytes?: number;
}

/** One planned window: offset from the start of the run and length, ms. */
export interface PlannedWindow {
  readonly atMs: number;
  readonly lengthMs: number;
}

/** One window as it happened. */
export interface DiskFullWindow {
  /** Since the first stream started, seconds: when the ballast had filled the disk. */
  readonly fullAtS: number;
  /** How long the disk stayed full (ballast in place), seconds. */
  readonly fullSeconds: number;
  /** Ballast size: the free space at that moment. */
  readonly ballastBytes: number;
  /** How long writing the ballast took, ms (the disk is full only at its end). */
  readonly fillMs: number;
  readonly fullAt: string;
  readonly freedAt: string;
}

/**
 * Output of the soak's media mix per stream and minute: 16 kHz mono PCM (1.92 MB), the
 * stand-in's 160x90 H.264 video, deskshare pictures, transcripts, chat, events, stream.json.
 * Measured (8 streams x 1 min, seed 1): 2.8 MiB on average, 3.8 MiB for the largest stream.
 */
const OUTPUT_BYTES_PER_STREAM_MINUTE = 4 * 2 ** 20;

/**
 * tmpfs size that holds a whole run's output with room to spare (1.5 x the measured rate plus
 * 64 MiB): only the ballast can fill it. 50 streams x 10 min: 3.0 GiB (tmpfs takes memory
 * only for what is written; the ballast takes the rest for a few seconds).
 */
export function estimateOutputBytes(streams: number, durationMs: number): number {
  return Math.ceil((streams * (durationMs / 60_000) * OUTPUT_BYTES_PER_STREAM_MINUTE * 1.5) / 2 ** 20) * 2 ** 20 + 64 * 2 ** 20;
}

/**
 * Seeded, non-overlapping windows inside [startMs, endMs): `perMinute` x `runMs` of them (at
 * least one), the span cut into equal slots with one window at a uniform place in each, so
 * they are spread over the whole span.
 */
export function planDiskFullWindows(seed: number, startMs: number, endMs: number, options: DiskFullOptions, runMs = endMs - startMs): PlannedWindow[] {
  const perMinute = options.perMinute ?? 0.5;
  const [minSeconds, maxSeconds] = options.seconds ?? [3, 8];
  const span = endMs - startMs;
  if (perMinute <= 0 || span <= 0) return [];
  const count = Math.max(1, Math.round((perMinute * runMs) / 60_000));
  const slot = span / count;
  const prng = new Prng(deriveSeed(seed, 'disk-full'));
  const windows: PlannedWindow[] = [];
  for (let i = 0; i < count; i += 1) {
    const lengthMs = Math.round(prng.range(minSeconds, maxSeconds) * 1000);
    // A slot shorter than its window: the window fills the slot.
    const atMs = startMs + i * slot + prng.next() * Math.max(0, slot - lengthMs);
    windows.push({ atMs: Math.round(atMs), lengthMs: Math.min(lengthMs, Math.round(slot)) });
  }
  return windows;
}

/** The soak cannot have its tmpfs (not root, no tmpfs, bad size): it stops, saying why. */
export class SoakDiskUnavailable extends Error {
  readonly code = 'SOAK_DISK_UNAVAILABLE';

  constructor(message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'SoakDiskUnavailable';
  }
}

/** Mounts the soak's tmpfs; a soak that cannot mount stops with the reason (no fallback). */
export async function mountSoakDisk(sizeBytes: number): Promise<SmallTmpfs> {
  // size=0 would be a tmpfs without a limit: a disk that never gets full.
  if (!(sizeBytes >= 2 ** 20)) throw new SoakDiskUnavailable(`chaos soak: the tmpfs needs at least 1 MiB, got ${sizeBytes} bytes`);
  try {
    return await mountSmallTmpfs(sizeBytes);
  } catch (error) {
    throw new SoakDiskUnavailable(
      `chaos soak: the disk-full windows need OUTPUT_DIR on a tmpfs the soak mounts, which needs root ` +
        `(or run without them: --disk-full-per-minute 0): ${error instanceof Error ? error.message : String(error)}`,
      error,
    );
  }
}

/** Runs the planned windows against `disk`, relative to `runStartedAt` (Date.now() ms). */
export class DiskFullRunner {
  readonly windows: DiskFullWindow[] = [];
  readonly #disk: SmallTmpfs;
  #stopped = false;
  #wake: (() => void) | undefined;
  /** Set when the schedule failed (boxed: whatever was thrown, even undefined, counts). */
  #failure: { readonly error: unknown } | undefined;
  readonly #done: Promise<void>;

  constructor(disk: SmallTmpfs, plan: readonly PlannedWindow[], runStartedAt: number, progress: (line: string) => void) {
    this.#disk = disk;
    // A failure (the ballast could not be written or removed) is the soak's, reported by stop().
    this.#done = this.#run(plan, runStartedAt, progress).catch((error: unknown) => {
      this.#failure = { error };
    });
  }

  async #run(plan: readonly PlannedWindow[], runStartedAt: number, progress: (line: string) => void): Promise<void> {
    for (const window of plan) {
      await this.#sleepUntil(runStartedAt + window.atMs);
      if (this.#stopped) return;
      const fillStarted = Date.now();
      let ballastBytes: number;
      try {
        ballastBytes = await this.#disk.fill();
      } catch (error) {
        await this.#disk.free();
        throw error;
      }
      const fullAt = Date.now();
      // Full for the planned length (the stop of the soak cuts it short, never leaves it full).
      await this.#sleepUntil(fullAt + window.lengthMs);
      await this.#disk.free();
      const freedAt = Date.now();
      const entry: DiskFullWindow = {
        fullAtS: Math.round((fullAt - runStartedAt) / 100) / 10,
        fullSeconds: Math.round((freedAt - fullAt) / 100) / 10,
        ballastBytes,
        fillMs: fullAt - fillStarted,
        fullAt: new Date(fullAt).toISOString(),
        freedAt: new Date(freedAt).toISOString(),
      };
      this.windows.push(entry);
      progress(
        `  disk full at t=${entry.fullAtS} s for ${entry.fullSeconds} s (ballast ${(ballastBytes / 2 ** 20).toFixed(0)} MiB, written in ${entry.fillMs} ms)`,
      );
    }
  }

  async #sleepUntil(at: number): Promise<void> {
    const ms = at - Date.now();
    if (ms <= 0 || this.#stopped) return;
    let timer: NodeJS.Timeout | undefined;
    await new Promise<void>((resolve) => {
      this.#wake = resolve;
      timer = setTimeout(resolve, ms);
    });
    clearTimeout(timer);
  }

  /** Ends the schedule (a window under way ends now, the disk is freed); rejects if a window failed. */
  async stop(): Promise<readonly DiskFullWindow[]> {
    this.#stopped = true;
    this.#wake?.();
    await this.#done;
    if (this.#failure !== undefined) throw this.#failure.error;
    return this.windows;
  }
}
