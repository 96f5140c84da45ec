import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { ConfigError } from '../../src/errors.ts';

const required = { ZM_RTMS_CLIENT: 'client-id', ZM_RTMS_SECRET: 'very-secret-value', ZM_WEBHOOK_SECRET_TOKEN: 'token-value' };

function problemsOf(env: Record<string, string>): readonly string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('loadConfig', () => {
  it('applies the documented defaults', () => {
    const config = loadConfig(required);
    expect(config.http).toMatchObject({ host: '0.0.0.0', port: 8080, webhookPath: '/webhook', webhookToleranceSeconds: 300 });
    expect(config.media.kinds).toEqual(['audio', 'video', 'transcript']);
    expect(config.media.audio).toEqual({ mode: 'mixed', sampleRateHz: 16000, channels: 1, sendRateMs: 20, gapFill: 'none' });
    expect(config.media.video.codec).toBe('h264');
    expect(config.rtms).toMatchObject({ reconnectBaseMs: 3000, reconnectMaxMs: 30000, keepAliveTimeoutMs: 65000 });
    expect(config.workerThreads).toBeGreaterThan(0);
    expect(config.maxStreams).toBeGreaterThan(0);
    expect(Object.isFrozen(config.media.audio)).toBe(true);
    expect(config.output).toEqual({
      flushIntervalMs: 1000,
      streamJsonIntervalMs: 5000,
      maxOpenSpeakerFiles: 64,
      recording: 'auto',
      recordingCaptionDelayMs: 10_000,
    });
    // Bounds on what a bad RTMS server can make a stream hold (docs/security.md#bad-rtms-server).
    expect(config.rtms).toMatchObject({ maxMessageBytes: 32 * 1024 * 1024, rejoinBudget: 20, rejoinBudgetWindowMs: 600_000, maxParticipants: 10_000 });
    expect(config.heapGrowingPercent).toBe(100);
    expect(config.workerSemiSpaceMb).toBe(16);
  });

  it('bounds the output cadence and the V8 heap growing factor', () => {
    expect(problemsOf({ ...required, OUTPUT_STREAM_JSON_INTERVAL_MS: '500', V8_HEAP_GROWING_PERCENT: '-5' })).toEqual([
      'OUTPUT_STREAM_JSON_INTERVAL_MS: expected an integer from 1000 to 60000, got "500"',
      'V8_HEAP_GROWING_PERCENT: expected an integer from 0 to 1000, got "-5"',
    ]);
    expect(loadConfig({ ...required, V8_HEAP_GROWING_PERCENT: '0' }).heapGrowingPercent).toBe(0);
    expect(loadConfig({ ...required, WORKER_SEMI_SPACE_MB: '0' }).workerSemiSpaceMb).toBe(0);
  });

  it('reads RECORDING as auto, on or off, naming the choices otherwise', () => {
    expect(loadConfig({ ...required, RECORDING: 'off' }).output.recording).toBe('off');
    expect(problemsOf({ ...required, RECORDING: 'yes' })).toEqual([expect.stringMatching(/^RECORDING: expected one of auto, on, off/)]);
  });

  it('reads RECORDING_CAPTION_DELAY_MS from 0 (no subtitle track) to 60 s, 10 s by default', () => {
    expect(loadConfig(required).output.recordingCaptionDelayMs).toBe(10_000);
    expect(loadConfig({ ...required, RECORDING_CAPTION_DELAY_MS: '0' }).output.recordingCaptionDelayMs).toBe(0);
    expect(problemsOf({ ...required, RECORDING_CAPTION_DELAY_MS: '60001' })).toEqual([
      'RECORDING_CAPTION_DELAY_MS: expected an integer from 0 to 60000, got "60001"',
    ]);
  });

  it('reads DEBUG_WORKER_CRASH as a list of <workerId>:<afterMs>', () => {
    expect(loadConfig(required).debugWorkerCrash).toEqual([]);
    expect(loadConfig({ ...required, DEBUG_WORKER_CRASH: '1:3000' }).debugWorkerCrash).toEqual([{ workerId: 1, afterMs: 3000 }]);
    expect(loadConfig({ ...required, DEBUG_WORKER_CRASH: '1:3000, 3:2500' }).debugWorkerCrash).toEqual([
      { workerId: 1, afterMs: 3000 },
      { workerId: 3, afterMs: 2500 },
    ]);
    expect(problemsOf({ ...required, DEBUG_WORKER_CRASH: '1:3000,x' })).toEqual([
      'DEBUG_WORKER_CRASH: expected <workerId>:<afterMs>[,…], e.g. 1:3000 or 1:3000,3:2000, got "1:3000,x"',
    ]);
  });

  it('reports every problem at once, one line per variable, naming what it expects', () => {
    const problems = problemsOf({
      PORT: 'eighty',
      RTMS_MEDIA: 'audio,smell',
      RTMS_AUDIO_SEND_RATE_MS: '30',
      RTMS_VIDEO_CODEC: 'jpg',
      RTMS_VIDEO_FPS: '25',
      LOG_LEVEL: 'loud',
      REDIS_URL: 'http://user:pw@host',
    });
    expect(problems).toEqual([
      'ZM_RTMS_CLIENT: required, the client id of your Zoom app (Video SDK: SDK key)',
      'ZM_RTMS_SECRET: required, the client secret of your Zoom app (Video SDK: SDK secret)',
      "ZM_WEBHOOK_SECRET_TOKEN: required, the webhook secret token from your Zoom app's Feature page",
      'RTMS_VIDEO_FPS: expected at most 5 with RTMS_VIDEO_CODEC=jpg, got 25',
      'RTMS_AUDIO_SEND_RATE_MS: expected a multiple of 20 from 20 to 1000, got 30',
      'PORT: expected an integer from 0 to 65535, got "eighty"',
      'RTMS_MEDIA: expected a comma-separated list of audio, video, deskshare, transcript, chat, got "audio,smell"',
      'REDIS_URL: expected a URL starting with redis:// or rediss://',
      'LOG_LEVEL: expected one of fatal, error, warn, info, debug, trace, silent, got "loud"',
    ]);
  });

  it('never echoes secret values', () => {
    const problems = problemsOf({ ...required, ADMIN_TOKEN: 'admin-secret', REDIS_URL: 'redis//:hunter2@x', PORT: '-1' });
    const text = problems.join('\n');
    expect(problems.length).toBeGreaterThan(0);
    for (const secret of ['very-secret-value', 'token-value', 'admin-secret', 'hunter2']) expect(text).not.toContain(secret);
  });

  it('checks cross-variable constraints', () => {
    expect(problemsOf({ ...required, BUFFER_HIGH_WATER_BYTES: '100000', BUFFER_LOW_WATER_BYTES: '200000' })).toEqual([
      'BUFFER_LOW_WATER_BYTES: expected less than BUFFER_HIGH_WATER_BYTES (100000), got 200000',
    ]);
    expect(loadConfig({ ...required, RTMS_MEDIA: ' Audio , chat,audio ' }).media.kinds).toEqual(['audio', 'chat']);
  });

  it('refuses an ADMIN_TOKEN shorter than 32 characters without echoing it; unset stays allowed', () => {
    expect(problemsOf({ ...required, ADMIN_TOKEN: 'a'.repeat(31) })).toEqual([
      'ADMIN_TOKEN: expected at least 32 characters (e.g. openssl rand -hex 16), or unset to disable the admin API',
    ]);
    expect(loadConfig({ ...required, ADMIN_TOKEN: 'a'.repeat(32) }).adminToken).toBe('a'.repeat(32));
    expect(loadConfig({ ...required }).adminToken).toBeUndefined();
  });

  it('caps HTTP connections at a quarter of the open-files limit by default, and at most half of it', () => {
    expect(loadConfig(required, { openFiles: 600 }).http.maxConnections).toBe(150);
    expect(loadConfig(required, { openFiles: 1_048_576 }).http.maxConnections).toBe(1024);
    expect(loadConfig(required, { openFiles: undefined }).http.maxConnections).toBe(1024);
    expect(loadConfig({ ...required, HTTP_MAX_CONNECTIONS: '300' }, { openFiles: 600 }).http.maxConnections).toBe(300);
    let problem: readonly string[] = [];
    try {
      loadConfig({ ...required, HTTP_MAX_CONNECTIONS: '301' }, { openFiles: 600 });
    } catch (error) {
      problem = (error as ConfigError).problems;
    }
    expect(problem).toEqual([
      'HTTP_MAX_CONNECTIONS: expected at most half the open-files limit (600 / 2), so sinks and RTMS sockets keep descriptors; got 301',
    ]);
  });

  it('bounds the webhook dedup store in bytes', () => {
    expect(loadConfig(required).http.webhookDedupMaxBytes).toBe(8 * 1024 * 1024);
    expect(loadConfig({ ...required, WEBHOOK_DEDUP_MAX_BYTES: '1048576' }).http.webhookDedupMaxBytes).toBe(1_048_576);
  });
});
