import type { ChaosOptions } from 'rtms-simulator';
import { RESULTS_DIR, writeBenchResult } from '../benchResult.ts';
import type { DiskFullOptions, DiskFullWindow } from '../diskFullWindows.ts';
import type { RssSample, RssVerdict } from '../rssSampler.ts';

/** Accounting of one media kind, summed over streams. */
export interface KindReport {
  /** Connector: frames received (valid + malformed), from each stream.json. */
  readonly received: number;
  readonly written: number;
  readonly dropped: Record<string, number>;
  /** received − written − Σ dropped: must be 0. */
  readonly unaccounted: number;
  /** Stand-in: valid messages written. */
  readonly sentValid: number;
  /** Stand-in: deliberately malformed messages written. */
  readonly sentMalformed: number;
  /** Stand-in: frames over the client's payload limit (the client drops the socket unread). */
  readonly oversizedLost: number;
  /** (sentValid + sentMalformed) − received. */
  readonly sentMinusReceived: number;
  /** The part of `sentMinusReceived` no counted cause explains: must be 0. */
  readonly unexplained: number;
}

export interface StreamReport {
  readonly rtmsStreamId: string;
  /** Connector state at the end. */
  readonly state: string;
  readonly failure: string | null;
  /** How the stand-in ended it. */
  readonly simulatorEnd: string;
  readonly reconnects: number;
  readonly rejoins: Record<string, number>;
  readonly chaosApplied: number;
  readonly signalingAccepted: number;
  readonly signalingRejectedDuplicate: number;
  /** Kinds whose counts disagree (unaccounted or unexplained), with the numbers. */
  readonly problems: string[];
  /** With `verifyAudio`: WAV data equals what was sent, per audio file. */
  readonly audioIdentical: boolean | undefined;
  readonly chaosLog: ReadonlyArray<{ readonly t: number; readonly kind: string; readonly applied: boolean; readonly detail: string }>;
}

export interface ChaosSoakReport {
  readonly benchmark: 'chaos-soak';
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly wallSeconds: number;
  readonly config: {
    readonly streams: number;
    readonly durationMs: number;
    readonly seed: number;
    readonly chaos: ChaosOptions;
    readonly connectorEnv: Readonly<Record<string, string>>;
    readonly simulator: Readonly<Record<string, number>>;
    readonly verifyAudio: boolean;
    readonly diskFull: DiskFullOptions;
  };
  readonly streamStates: Record<string, number>;
  readonly chaos: { readonly applied: Record<string, number>; readonly skipped: Record<string, number> };
  readonly reconnects: { readonly total: number; readonly byRejoin: Record<string, number> };
  readonly simulator: {
    readonly signalingAccepted: number;
    readonly signalingRejectedDuplicate: number;
    readonly mediaAccepted: number;
    readonly interruptions: number;
    readonly mediaInterruptions: number;
    readonly failovers: number;
    readonly keepAliveTimeouts: number;
    readonly handshakeRejections: Record<string, number>;
    readonly webhooks: Record<string, number>;
    readonly unknownMessages: number;
    readonly audioBytesSent: number;
    readonly picturesSkipped: number;
    readonly backlogDrops: number;
  };
  readonly frames: Record<string, KindReport>;
  readonly audioBytesWritten: number;
  readonly diskFull: {
    /** The tmpfs under OUTPUT_DIR; undefined when the windows are off. */
    readonly tmpfsBytes: number | undefined;
    /** Space the output took on it at the end (the size estimate's check). */
    readonly outputBytes: number | undefined;
    readonly count: number;
    readonly totalSeconds: number;
    readonly windows: readonly DiskFullWindow[];
    /** Frames dropped as `sink_error` per media kind (allowed: counted, with a `media.gap`). */
    readonly sinkErrorDrops: Record<string, number>;
    /** Streams whose sink saw ENOSPC (stream.json `sink.error`). */
    readonly streamsThatHitEnospc: number;
    /** `sink.file_failing` / `sink.file_recovered` events: a file's writes failed, and later succeeded again. */
    readonly fileFailures: number;
    readonly fileRecoveries: number;
    /** `sink.file_lost` events (a file that could not be continued; the stream went on in a new part). */
    readonly filesLost: number;
  };
  /** Files checked at the end by ffprobe / JSON parsing. */
  readonly filesChecked: number;
  readonly rss: { readonly intervalMs: number; readonly samples: readonly RssSample[] } & RssVerdict;
  readonly verdicts: {
    readonly unaccountedZero: 'pass' | 'fail';
    readonly sentEqualsReceived: 'pass' | 'fail';
    readonly streamsEnded: 'pass' | 'fail';
    readonly noDuplicateSignaling: 'pass' | 'fail';
    readonly audioIdentical: 'pass' | 'fail' | 'n/a';
    readonly rssFlat: 'pass' | 'fail' | 'n/a';
    readonly filesValid: 'pass' | 'fail';
    readonly ok: boolean;
  };
  /** Every failed check, one line each. */
  readonly problems: string[];
  readonly perStream: readonly StreamReport[];
  /** Where the connector output is, when kept (with disk-full windows: a tmpfs still mounted). */
  readonly outputDir: string | undefined;
  /** The connector's log, when kept. */
  readonly connectorLog: string | undefined;
}

/** Writes the report to bench/results/chaos-soak-<timestamp>.json; returns the path. */
export function writeChaosSoakReport(report: ChaosSoakReport, directory = RESULTS_DIR): Promise<string> {
  return writeBenchResult('chaos-soak', report.startedAt, report, directory);
}
