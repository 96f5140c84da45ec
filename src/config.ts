import { resolve } from 'node:path';
import { detectCapacity, type HostCapacity } from './capacity.ts';
import { ConfigError } from './errors.ts';
import { openFilesLimit } from './openFilesLimit.ts';
import { DEFAULT_ALLOWED_HOSTS, parseAllowedHosts, type HostAllowList } from './rtms/hostAllowList.ts';
import { EnvReader, type Env } from './envReader.ts';
import { MEDIA_KINDS, type MediaKind } from './vocabulary/mediaKind.ts';
import { readObjectStoreConfig, type ObjectStoreConfig } from './objectStore/objectStoreConfig.ts';
import { readRecordingConfig, type RecordingConfig } from './sinks/recording/recordingConfig.ts';

/**
 * The only reader of `process.env`. `loadConfig()` validates every variable once at
 * start-up and reports all problems together, one line each, naming the variable and what
 * it expects. Secret values are never echoed.
 */

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface Credentials {
  /** OAuth client id (Video SDK: SDK key). */
  readonly clientId: string;
  /** OAuth client secret (Video SDK: SDK secret). Never logged. */
  readonly clientSecret: string;
  /** Webhook secret token. Never logged. */
  readonly webhookSecretToken: string;
}

export interface MediaConfig {
  /** Media requested from Zoom. */
  readonly kinds: readonly MediaKind[];
  readonly audio: {
    /** `mixed`: one `audio.wav`; `multi`: `audio-<user_id>.wav` per speaker. */
    readonly mode: 'mixed' | 'multi';
    readonly sampleRateHz: 8000 | 16000 | 32000 | 48000;
    readonly channels: 1 | 2;
    /** Packet interval in ms, a multiple of 20 up to 1000. */
    readonly sendRateMs: number;
    /** `silence`: pad gaps Zoom left (muted, lost) so each WAV keeps the stream's timeline. */
    readonly gapFill: 'none' | 'silence';
  };
  readonly video: { readonly codec: 'h264' | 'jpg'; readonly fps: number; readonly resolution: 'sd' | 'hd' | 'fhd' | 'qhd' };
  readonly deskshare: { readonly codec: 'h264' | 'jpg'; readonly fps: number; readonly resolution: 'sd' | 'hd' | 'fhd' | 'qhd' };
  readonly transcript: { readonly sourceLanguage: number; readonly languageIdentification: boolean };
  /** Ask Zoom to deliver the up-to-60 s of audio buffered before we connected. */
  readonly bufferStartupAudio: boolean;
}

export interface Config {
  readonly credentials: Credentials;
  readonly http: {
    readonly host: string;
    readonly port: number;
    readonly webhookPath: string;
    /** Largest accepted webhook body in bytes; larger gets 413. */
    readonly webhookMaxBodyBytes: number;
    /** Accepted skew of `x-zm-request-timestamp`, seconds. */
    readonly webhookToleranceSeconds: number;
    /**
     * Open HTTP connections at most (`HTTP_MAX_CONNECTIONS`); past it the longest-idle one is
     * closed. Keeps at least half the open-files limit for sinks and RTMS sockets.
     */
    readonly maxConnections: number;
    /** Memory bound of the in-memory webhook dedup store, bytes (`WEBHOOK_DEDUP_MAX_BYTES`). */
    readonly webhookDedupMaxBytes: number;
  };
  /**
   * `INTERNAL_PORT`/`INTERNAL_HOST`: a second listener for `/metrics`, the admin API and live
   * feeds, which then leave the public one (webhook and probes only). Undefined: one listener.
   */
  readonly internalHttp: { readonly host: string; readonly port: number } | undefined;
  readonly outputDir: string;
  /** How often `OUTPUT_DIR` is re-checked (created, writable) for `/readyz`, ms. */
  readonly outputDirCheckIntervalMs: number;
  readonly maxStreams: number;
  readonly workerThreads: number;
  /** CPUs and memory (cgroup limits or the host's) behind the `maxStreams`/`workerThreads` defaults. */
  readonly capacity: HostCapacity;
  readonly media: MediaConfig;
  readonly adminToken: string | undefined;
  /** Read-only bearer token for consumers: list and snapshot streams, live feeds. */
  readonly consumerToken: string | undefined;
  readonly redisUrl: string | undefined;
  /** Redis stream output (with `REDIS_URL`): which media go to `rtms:<id>:<media>`, and the cap. */
  readonly redisStream: {
    readonly kinds: readonly MediaKind[];
    readonly maxLen: number;
    /** `rtms:<id>:*` expire this long after the stream ends, seconds; 0 = never (consumers delete them). */
    readonly retentionSeconds: number;
  };
  /** Multi-replica mode (used only when `redisUrl` is set). */
  readonly cluster: ClusterConfig;
  readonly logLevel: LogLevel;
  readonly rtms: {
    /** Deadline for each handshake answer, ms. */
    readonly handshakeTimeoutMs: number;
    /** Silence (no keep-alive, no data) after which a socket counts as lost, ms. */
    readonly keepAliveTimeoutMs: number;
    /** First reconnect delay, ms; doubles per attempt. */
    readonly reconnectBaseMs: number;
    /** Reconnect delay cap, ms. */
    readonly reconnectMaxMs: number;
    /** How long to keep trying before the stream is `failed`, ms (Zoom's grace is 60 s). */
    readonly reconnectWindowMs: number;
    /** Hosts signaling and media URLs may name (`RTMS_ALLOWED_HOSTS`); see src/rtms/hostAllowList.ts. */
    readonly allowedHosts: HostAllowList;
    /** Largest RTMS message accepted, bytes; a bigger one closes its socket (1009), which is rejoined. */
    readonly maxMessageBytes: number;
    /** Rejoins (full or media) a stream may start within `rejoinBudgetWindowMs`; one more fails it. */
    readonly rejoinBudget: number;
    readonly rejoinBudgetWindowMs: number;
    /** Participants a stream's roster keeps; newcomers past it are counted, not kept. */
    readonly maxParticipants: number;
  };
  readonly buffer: {
    /** Per stream and media kind: pause the socket above this many buffered bytes. */
    readonly highWaterBytes: number;
    /** Resume the socket below this many buffered bytes. */
    readonly lowWaterBytes: number;
    /**
     * How long sockets may stay paused on a full buffer, ms. After it, they are resumed (a
     * paused socket answers no keep-alives, and Zoom drops a client after three misses) and
     * buffered video is evicted, oldest first; audio and text only past twice the high mark.
     */
    readonly stallDeadlineMs: number;
  };
  readonly output: {
    /** How often WAV headers and `stream.json` are refreshed, ms. */
    readonly flushIntervalMs: number;
    /** How often `stream.json` is rewritten when only its counters changed. */
    readonly streamJsonIntervalMs: number;
    /** Per-speaker WAVs a stream keeps open; the one written longest ago closes (speaker continues in a new part). */
    readonly maxOpenSpeakerFiles: number;
  } & RecordingConfig;
  readonly live: {
    /** Unsent bytes a live consumer may hold before its frames are skipped. */
    readonly subscriberBufferBytes: number;
    /** How long a live consumer may keep skipping before it is disconnected (4008), ms. */
    readonly slowTimeoutMs: number;
  };
  /** How often workers send statistics to the supervisor, ms. */
  readonly statsIntervalMs: number;
  /** How long SIGTERM waits for streams to close before exiting, ms. */
  readonly shutdownGraceMs: number;
  /** Heap limit of each worker thread (`resourceLimits.maxOldGenerationSizeMb`), MB. */
  readonly workerMaxHeapMb: number;
  /**
   * V8 old-generation growing factor as a percentage above 1 (V8's `--heap-growing-percent`);
   * 0 keeps V8's own heuristic.
   */
  readonly heapGrowingPercent: number;
  /**
   * Semi-space size of each worker's young generation, MB, fixed (V8's `--min-semi-space-size`
   * and `--max-semi-space-size` alike); 0 lets V8 grow it with the survival rate.
   */
  readonly workerSemiSpaceMb: number;
  /** Testing only: each listed worker throws an uncaught error `afterMs` after it starts (empty: none). */
  readonly debugWorkerCrash: readonly { readonly workerId: number; readonly afterMs: number }[];
  /** Testing only: every stream's sink stalls `forMs`, `afterMs` after the stream starts. */
  readonly debugSinkStall: { readonly afterMs: number; readonly forMs: number } | undefined;
  readonly objectStore: ObjectStoreConfig | undefined; // docs/object-storage.md; undefined without OBJECT_STORE_URL
}

/** Multi-replica settings (`CLUSTER_…`); they take effect only with `REDIS_URL`. */
export interface ClusterConfig {
  /**
   * Stream lease lifetime, ms (`CLUSTER_LEASE_TTL_MS`, default 10 000). A dead replica's
   * streams are taken over between 2/3 of it and all of it (plus a scan) after its death; a
   * replica that cannot reach Redis for this long stops its streams.
   */
  readonly leaseTtlMs: number;
  /** Lease renewal and replica heartbeat period, ms (`CLUSTER_LEASE_RENEW_MS`, default TTL/3). */
  readonly leaseRenewMs: number;
  /** How often each replica looks for streams without a lease to take over, ms (`CLUSTER_SCAN_INTERVAL_MS`, default 1000). */
  readonly scanIntervalMs: number;
  /** A stream nobody could take over for this long is given up, ms (`CLUSTER_ORPHAN_MAX_AGE_MS`, default 120 000). */
  readonly orphanMaxAgeMs: number;
  /** Prefix of every key this connector writes (`CLUSTER_KEY_PREFIX`, default `rtms:cluster:`). */
  readonly keyPrefix: string;
  /** This replica's name in Redis and logs (`CLUSTER_REPLICA_ID`); default `<hostname>-<random>` per process. */
  readonly replicaId: string | undefined;
  /** How long webhook dedup keys live, ms (`CLUSTER_DEDUP_TTL_MS`, default and minimum 90 min: Zoom's last retry comes at +85 min). */
  readonly dedupTtlMs: number;
}

export const MIN_ADMIN_TOKEN_LENGTH = 32;

/** Default `HTTP_MAX_CONNECTIONS`: a quarter of the open-files limit, at most 1,024 (a
 * connector needs a handful: Zoom's webhooks, a scraper, a few admin and live clients). */
export function defaultMaxConnections(openFiles: number | undefined): number {
  return openFiles === undefined ? 1024 : Math.max(1, Math.min(1024, Math.floor(openFiles / 4)));
}

/** Client id, client secret and webhook secret token; shared with the simulator CLI. */
export function readCredentials(env: Env = process.env): Credentials {
  const reader = new EnvReader(env);
  const credentials = credentialsFrom(reader);
  if (reader.problems.length > 0) throw new ConfigError(reader.problems);
  return credentials;
}

function credentialsFrom(reader: EnvReader): Credentials {
  return {
    clientId: reader.secret('ZM_RTMS_CLIENT', 'the client id of your Zoom app (Video SDK: SDK key)'),
    clientSecret: reader.secret('ZM_RTMS_SECRET', 'the client secret of your Zoom app (Video SDK: SDK secret)'),
    webhookSecretToken: reader.secret('ZM_WEBHOOK_SECRET_TOKEN', "the webhook secret token from your Zoom app's Feature page"),
  };
}

const RESOLUTIONS = ['sd', 'hd', 'fhd', 'qhd'] as const;

/** A bearer token: unset, or at least `MIN_ADMIN_TOKEN_LENGTH` characters (its value is never echoed). */
function bearerToken(read: EnvReader, name: 'ADMIN_TOKEN' | 'CONSUMER_TOKEN', unset: string): string | undefined {
  const token = read.optionalSecret(name);
  read.check(
    token === undefined || token.length >= MIN_ADMIN_TOKEN_LENGTH,
    `${name}: expected at least ${MIN_ADMIN_TOKEN_LENGTH} characters (e.g. openssl rand -hex 16), or unset${unset}`,
  );
  return token;
}

function internalHttp(read: EnvReader): Config['internalHttp'] {
  if (read.string('INTERNAL_PORT', '') === '') return undefined;
  return { host: read.string('INTERNAL_HOST', read.string('HOST', '0.0.0.0')), port: read.int('INTERNAL_PORT', 0, 0, 65535) };
}

/** The host's limits that defaults derive from; read from the system unless given (tests). */
export interface HostLimits {
  /** cgroup or host CPU and memory: `MAX_STREAMS` and `WORKER_THREADS` defaults. */
  readonly capacity?: HostCapacity;
  /** The open-files limit (undefined: unknown): the `HTTP_MAX_CONNECTIONS` default. */
  readonly openFiles?: number | undefined;
}

/** Reads and validates the whole configuration; throws `ConfigError` listing every problem. */
export function loadConfig(env: Env = process.env, limits: HostLimits = {}): Config {
  const capacity = limits.capacity ?? detectCapacity();
  const openFiles = 'openFiles' in limits ? limits.openFiles : openFilesLimit();
  const read = new EnvReader(env);
  const credentials = credentialsFrom(read);

  const adminToken = bearerToken(read, 'ADMIN_TOKEN', ' to disable the admin API');
  const consumerToken = bearerToken(read, 'CONSUMER_TOKEN', '');
  read.check(consumerToken === undefined || consumerToken !== adminToken, 'CONSUMER_TOKEN: expected a token different from ADMIN_TOKEN');
  const maxConnections = read.int('HTTP_MAX_CONNECTIONS', defaultMaxConnections(openFiles), 1, 1_000_000);
  read.check(
    openFiles === undefined || maxConnections <= openFiles / 2,
    `HTTP_MAX_CONNECTIONS: expected at most half the open-files limit (${openFiles ?? 0} / 2), so sinks and RTMS sockets keep descriptors; got ${maxConnections}`,
  );

  const webhookPath = read.string('WEBHOOK_PATH', '/webhook');
  read.check(webhookPath.startsWith('/'), `WEBHOOK_PATH: expected a path starting with /, got ${JSON.stringify(webhookPath)}`);

  const videoCodec = read.oneOf('RTMS_VIDEO_CODEC', ['h264', 'jpg'] as const, 'h264');
  const videoFps = read.int('RTMS_VIDEO_FPS', videoCodec === 'h264' ? 25 : 5, 1, 30);
  read.check(videoCodec === 'h264' || videoFps <= 5, `RTMS_VIDEO_FPS: expected at most 5 with RTMS_VIDEO_CODEC=jpg, got ${videoFps}`);
  const deskshareCodec = read.oneOf('RTMS_DESKSHARE_CODEC', ['h264', 'jpg'] as const, 'jpg');
  const deskshareFps = read.int('RTMS_DESKSHARE_FPS', deskshareCodec === 'h264' ? 15 : 1, 1, 30);
  read.check(deskshareCodec === 'h264' || deskshareFps <= 1, `RTMS_DESKSHARE_FPS: expected 1 with RTMS_DESKSHARE_CODEC=jpg, got ${deskshareFps}`);
  const sendRateMs = read.int('RTMS_AUDIO_SEND_RATE_MS', 20, 20, 1000);
  read.check(sendRateMs % 20 === 0, `RTMS_AUDIO_SEND_RATE_MS: expected a multiple of 20 from 20 to 1000, got ${sendRateMs}`);

  const highWaterBytes = read.int('BUFFER_HIGH_WATER_BYTES', 4 * 1024 * 1024, 64 * 1024, 1024 * 1024 * 1024);
  const lowWaterBytes = read.int('BUFFER_LOW_WATER_BYTES', 1024 * 1024, 0, 1024 * 1024 * 1024);
  read.check(lowWaterBytes < highWaterBytes, `BUFFER_LOW_WATER_BYTES: expected less than BUFFER_HIGH_WATER_BYTES (${highWaterBytes}), got ${lowWaterBytes}`);
  const reconnectBaseMs = read.int('RTMS_RECONNECT_BASE_MS', 3000, 10, 60_000);
  const reconnectMaxMs = read.int('RTMS_RECONNECT_MAX_MS', 30_000, 10, 600_000);
  read.check(reconnectBaseMs <= reconnectMaxMs, `RTMS_RECONNECT_MAX_MS: expected at least RTMS_RECONNECT_BASE_MS (${reconnectBaseMs}), got ${reconnectMaxMs}`);

  const allowedHosts = parseAllowedHosts(read.string('RTMS_ALLOWED_HOSTS', DEFAULT_ALLOWED_HOSTS));
  if (allowedHosts.problem !== undefined) read.check(false, `RTMS_ALLOWED_HOSTS: ${allowedHosts.problem}`);

  const leaseTtlMs = read.int('CLUSTER_LEASE_TTL_MS', 10_000, 1000, 300_000);
  const leaseRenewMs = read.int('CLUSTER_LEASE_RENEW_MS', Math.floor(leaseTtlMs / 3), 100, 100_000);
  read.check(leaseRenewMs * 2 <= leaseTtlMs, `CLUSTER_LEASE_RENEW_MS: expected at most half of CLUSTER_LEASE_TTL_MS (${leaseTtlMs}), got ${leaseRenewMs}`);
  const clusterKeyPrefix = read.string('CLUSTER_KEY_PREFIX', 'rtms:cluster:');
  read.check(!/\s/.test(clusterKeyPrefix), `CLUSTER_KEY_PREFIX: expected no whitespace, got ${JSON.stringify(clusterKeyPrefix)}`);
  const replicaId = read.string('CLUSTER_REPLICA_ID', '');
  read.check(
    replicaId === '' || /^[A-Za-z0-9._:-]{1,100}$/.test(replicaId),
    `CLUSTER_REPLICA_ID: expected 1 to 100 letters, digits or . _ : -, got ${JSON.stringify(replicaId)}`,
  );

  const debugWorkerCrash = read.pairs('DEBUG_WORKER_CRASH', '<workerId>:<afterMs>[,…], e.g. 1:3000 or 1:3000,3:2000');
  const debugSinkStall = read.pair('DEBUG_SINK_STALL', '<afterMs>:<forMs>, e.g. 2000:8000');

  const config: Config = {
    credentials,
    http: {
      host: read.string('HOST', '0.0.0.0'),
      port: read.int('PORT', 8080, 0, 65535),
      webhookPath,
      webhookMaxBodyBytes: read.int('WEBHOOK_MAX_BODY_BYTES', 64 * 1024, 1024, 16 * 1024 * 1024),
      webhookToleranceSeconds: read.int('WEBHOOK_TOLERANCE_SECONDS', 300, 1, 3600),
      maxConnections,
      webhookDedupMaxBytes: read.int('WEBHOOK_DEDUP_MAX_BYTES', 8 * 1024 * 1024, 64 * 1024, 1024 * 1024 * 1024),
    },
    internalHttp: internalHttp(read),
    outputDir: resolve(read.string('OUTPUT_DIR', './data')),
    outputDirCheckIntervalMs: read.int('OUTPUT_DIR_CHECK_INTERVAL_MS', 5000, 100, 600_000),
    maxStreams: read.int('MAX_STREAMS', capacity.defaultMaxStreams, 1, 100_000),
    workerThreads: read.int('WORKER_THREADS', capacity.defaultWorkerThreads, 1, 256),
    capacity,
    media: {
      kinds: read.list('RTMS_MEDIA', MEDIA_KINDS, ['audio', 'video', 'transcript']),
      audio: {
        mode: read.oneOf('RTMS_AUDIO_MODE', ['mixed', 'multi'] as const, 'mixed'),
        sampleRateHz: Number(read.oneOf('RTMS_AUDIO_SAMPLE_RATE', ['8000', '16000', '32000', '48000'] as const, '16000')) as 8000 | 16000 | 32000 | 48000,
        channels: Number(read.oneOf('RTMS_AUDIO_CHANNELS', ['1', '2'] as const, '1')) as 1 | 2,
        sendRateMs,
        gapFill: read.oneOf('RTMS_AUDIO_GAP_FILL', ['none', 'silence'] as const, 'none'),
      },
      video: { codec: videoCodec, fps: videoFps, resolution: read.oneOf('RTMS_VIDEO_RESOLUTION', RESOLUTIONS, 'hd') },
      deskshare: { codec: deskshareCodec, fps: deskshareFps, resolution: read.oneOf('RTMS_DESKSHARE_RESOLUTION', RESOLUTIONS, 'fhd') },
      transcript: {
        sourceLanguage: read.int('RTMS_TRANSCRIPT_LANGUAGE', 9, -1, 36),
        languageIdentification: read.bool('RTMS_TRANSCRIPT_LID', true),
      },
      bufferStartupAudio: read.bool('RTMS_BUFFER_STARTUP_AUDIO', true),
    },
    adminToken,
    consumerToken,
    redisUrl: read.url('REDIS_URL', ['redis:', 'rediss:']),
    redisStream: {
      kinds:
        read.string('REDIS_STREAM_MEDIA', '').toLowerCase() === 'none' ? [] : read.list('REDIS_STREAM_MEDIA', MEDIA_KINDS, ['audio', 'transcript', 'chat']),
      maxLen: read.int('REDIS_STREAM_MAXLEN', 10_000, 100, 100_000_000),
      retentionSeconds: read.int('REDIS_OUTPUT_RETENTION_SECONDS', 86_400, 0, 365 * 86_400),
    },
    cluster: {
      leaseTtlMs,
      leaseRenewMs,
      scanIntervalMs: read.int('CLUSTER_SCAN_INTERVAL_MS', 1000, 50, 60_000),
      orphanMaxAgeMs: read.int('CLUSTER_ORPHAN_MAX_AGE_MS', 120_000, 10_000, 3_600_000),
      keyPrefix: clusterKeyPrefix,
      replicaId: replicaId === '' ? undefined : replicaId,
      dedupTtlMs: read.int('CLUSTER_DEDUP_TTL_MS', 90 * 60 * 1000, 90 * 60 * 1000, 7 * 24 * 3600 * 1000),
    },
    logLevel: read.oneOf('LOG_LEVEL', LOG_LEVELS, 'info'),
    rtms: {
      handshakeTimeoutMs: read.int('RTMS_HANDSHAKE_TIMEOUT_MS', 10_000, 100, 120_000),
      keepAliveTimeoutMs: read.int('RTMS_KEEPALIVE_TIMEOUT_MS', 65_000, 100, 600_000),
      reconnectBaseMs,
      reconnectMaxMs,
      reconnectWindowMs: read.int('RTMS_RECONNECT_WINDOW_MS', 60_000, 100, 3_600_000),
      allowedHosts: allowedHosts.list ?? { any: false, exact: [], suffixes: [] },
      // A qhd (2560x1440) deskshare PNG of noise, base64 in its JSON message, is about 20 MB.
      maxMessageBytes: read.int('RTMS_MAX_MESSAGE_BYTES', 32 * 1024 * 1024, 64 * 1024, 256 * 1024 * 1024),
      rejoinBudget: read.int('RTMS_REJOIN_BUDGET', 20, 1, 100_000),
      rejoinBudgetWindowMs: read.int('RTMS_REJOIN_BUDGET_WINDOW_MS', 600_000, 1000, 86_400_000),
      maxParticipants: read.int('RTMS_MAX_PARTICIPANTS', 10_000, 10, 10_000_000),
    },
    buffer: { highWaterBytes, lowWaterBytes, stallDeadlineMs: read.int('BUFFER_STALL_DEADLINE_MS', 5000, 100, 25_000) },
    output: {
      flushIntervalMs: read.int('OUTPUT_FLUSH_INTERVAL_MS', 1000, 50, 2000),
      streamJsonIntervalMs: read.int('OUTPUT_STREAM_JSON_INTERVAL_MS', 5000, 1000, 60_000),
      maxOpenSpeakerFiles: read.int('OUTPUT_MAX_OPEN_SPEAKER_FILES', 64, 1, 100_000),
      ...readRecordingConfig(read),
    },
    live: {
      subscriberBufferBytes: read.int('LIVE_SUBSCRIBER_BUFFER_BYTES', 1024 * 1024, 1024, 256 * 1024 * 1024),
      slowTimeoutMs: read.int('LIVE_SLOW_TIMEOUT_MS', 10_000, 100, 600_000),
    },
    statsIntervalMs: read.int('STATS_INTERVAL_MS', 1000, 50, 60_000),
    shutdownGraceMs: read.int('SHUTDOWN_GRACE_MS', 25_000, 0, 600_000),
    workerMaxHeapMb: read.int('WORKER_MAX_HEAP_MB', 2048, 64, 65_536),
    heapGrowingPercent: read.int('V8_HEAP_GROWING_PERCENT', 100, 0, 1000),
    workerSemiSpaceMb: read.int('WORKER_SEMI_SPACE_MB', 16, 0, 256),
    debugWorkerCrash: debugWorkerCrash.map(([workerId, afterMs]) => ({ workerId, afterMs })),
    debugSinkStall: debugSinkStall && { afterMs: debugSinkStall[0], forMs: debugSinkStall[1] },
    objectStore: readObjectStoreConfig(read, env),
  };
  if (read.problems.length > 0) throw new ConfigError(read.problems);
  return deepFreeze(config);
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
