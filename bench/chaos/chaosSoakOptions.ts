import type { ChaosKind } from 'rtms-simulator';
import type { DiskFullOptions } from '../diskFullWindows.ts';

/** What `runChaosSoak` runs: every field has the default the benchmark uses. */
export interface ChaosSoakOptions {
  /** Concurrent streams (default 50). */
  readonly streams?: number;
  /** Media time per stream, ms (default 10 minutes). */
  readonly durationMs?: number;
  /** Seeds media and the chaos schedule (default 1). */
  readonly seed?: number;
  /** Chaos injections per stream per minute (default 6). */
  readonly ratePerMinute?: number;
  /** Chaos kind weights (defaults: `DEFAULT_CHAOS_WEIGHTS`). */
  readonly weights?: Partial<Record<ChaosKind, number>>;
  /** RSS sampling period, ms (default 10 000). */
  readonly rssIntervalMs?: number;
  /**
   * Keep every byte the stand-in sends and compare each stream's WAV with it at the end
   * (default false: the counters are exact either way; content costs ~2 MB per stream-minute).
   */
  readonly verifyAudio?: boolean;
  /** Keep the output directory (default: removed when every verdict passes, kept otherwise). */
  readonly keepOutput?: boolean;
  /** Spread stream starts over this long, ms (default min(5000, duration / 10)). */
  readonly startSpreadMs?: number;
  /** Extra connector environment (overrides the soak's defaults). */
  readonly connectorEnv?: Readonly<Record<string, string>>;
  /** Disk-full windows (default: 0.5 a minute, 3 to 8 s, on a tmpfs sized for the run); `perMinute: 0` runs on the host's temp directory. */
  readonly diskFull?: DiskFullOptions;
  /** Progress lines (default: none). */
  readonly progress?: (line: string) => void;
}
