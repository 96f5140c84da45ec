import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { Credentials } from '../../src/config.ts';
import { ConnectorProcess, connectorEnv } from '../support/connectorProcess.ts';
import { countVideoFrames, ffprobe, probeAudio } from '../support/ffprobe.ts';
import { probeRecording } from '../support/recordingProbe.ts';
import { readWavData } from '../support/wavReader.ts';
import { streamDirectory } from '../../src/sinks/streamDirectory.ts';
import type { SimulatedStream } from 'rtms-simulator';
import type { MediaCounters } from '../../src/vocabulary/streamStats.ts';

/** A connector on a given OUTPUT_DIR (a small tmpfs, a directory another connector used before). */
export function startConnectorOn(
  outputDir: string,
  credentials: Credentials,
  env: Record<string, string> = {},
  user?: { uid: number; gid: number },
): Promise<ConnectorProcess> {
  return ConnectorProcess.start({
    ...user,
    env: connectorEnv({
      credentials,
      outputDir,
      adminToken: 'admin-token-for-tests-0123456789abcdef',
      extra: {
        WORKER_THREADS: '2',
        RTMS_MEDIA: 'audio,video,transcript,chat',
        RTMS_RECONNECT_BASE_MS: '100',
        RTMS_RECONNECT_MAX_MS: '1000',
        OUTPUT_FLUSH_INTERVAL_MS: '200',
        OUTPUT_STREAM_JSON_INTERVAL_MS: '1000',
        STATS_INTERVAL_MS: '100',
        LOG_LEVEL: 'info',
        ...env,
      },
    }),
  });
}

/**
 * Every file of a stream directory is valid as its format demands: each WAV has a header
 * describing exactly its data (and ffprobe reads it), each H.264 file decodes without a
 * complaint, each JSON lines file parses line by line with no torn last line, and
 * `stream.json` parses; at the end (`final`, the default) no temp file is left. Mid-fault
 * (`final: false`) the connector may be writing while a file is read (data lands a moment
 * before the WAV header follows it): a file counts as valid if one of three readings is.
 * Returns the names checked.
 */
export async function expectValidFiles(directory: string, options: { final?: boolean } = { final: true }): Promise<string[]> {
  const final = options.final !== false;
  const names = (await readdir(directory, { recursive: true })).map(String).sort();
  const checked: string[] = [];
  for (const name of names) {
    const path = join(directory, name);
    if (!(await stat(path).catch(() => undefined))?.isFile()) continue;
    if (name.startsWith('.') || name.includes('/.')) {
      // Mid-fault a stream.json refresh may be under way (its temp file exists for a moment).
      expect(final, `stray temp file ${name}`).toBe(false);
      continue;
    }
    for (let attempt = 1; ; attempt++) {
      try {
        await expectValidFile(path, name);
        break;
      } catch (error) {
        if (final || attempt === 3) throw error;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
    checked.push(name);
  }
  return checked;
}

async function expectValidFile(path: string, name: string): Promise<void> {
  if (name.endsWith('.wav')) {
    const wav = await readWavData(path);
    const size = (await stat(path)).size;
    // 44-byte header + data (+ the RIFF pad byte after odd data); never a header claiming more.
    expect({ name, size }).toEqual({ name, size: 44 + wav.data.length + (wav.data.length % 2) });
    expect((await probeAudio(path)).codec).toBe('pcm_s16le');
  } else if (name.endsWith('.h264')) {
    if ((await stat(path)).size > 0) expect((await countVideoFrames(path)).codec).toBe('h264');
  } else if (name.endsWith('.mkv')) {
    // The synced recording: ffprobe reads every track without a complaint.
    expect((await probeRecording(path)).tracks.length, `${name} has no track`).toBeGreaterThan(0);
  } else if (name.endsWith('.jsonl')) {
    // An index is read after its WAV's header: the header is written after the index.
    const claimed = name.endsWith('.wav.index.jsonl') ? 44 + (await readWavData(path.slice(0, -'.index.jsonl'.length))).data.length : 0;
    const text = await readFile(path, 'utf8');
    expect(text === '' || text.endsWith('\n'), `${name} ends in a torn line`).toBe(true);
    const lines = text
      .split('\n')
      .filter((l) => l !== '')
      .map((line) => JSON.parse(line) as unknown);
    if (name.endsWith('.index.jsonl')) await expectIndexWithinData(path.slice(0, -'.index.jsonl'.length), name, lines as IndexRecord[], claimed);
  } else if (name.endsWith('.vtt') || name.endsWith('.srt')) {
    // ffprobe reads every cue without a complaint (it rejects on any stderr).
    await ffprobe(path, ['-show_packets']);
  } else if (name.endsWith('stream.json')) {
    JSON.parse(await readFile(path, 'utf8'));
  }
}

export async function readStreamJson(outputDir: string, stream: SimulatedStream): Promise<Record<string, unknown>> {
  return JSON.parse(await readFile(join(streamDirectory(outputDir, stream.rtmsStreamId), 'stream.json'), 'utf8')) as Record<string, unknown>;
}

/** Per kind, received = written + Σ dropped in the final `stream.json`; returns its media counters. */
export function expectAccounted(streamJson: Record<string, unknown>): Record<string, MediaCounters> {
  const media = (streamJson['media'] ?? {}) as Record<string, MediaCounters>;
  expect(Object.keys(media).length).toBeGreaterThan(0);
  for (const [kind, counters] of Object.entries(media)) {
    const dropped = Object.values(counters.framesDropped).reduce((sum, count) => sum + count, 0);
    expect({ kind, received: counters.framesReceived }).toEqual({ kind, received: counters.framesWritten + dropped });
  }
  return media;
}

/** The PCM of every `audio*.wav` part of the mixed stream, in part order. */
export async function mixedAudio(directory: string): Promise<Buffer> {
  const parts = (await readdir(directory)).filter((name) => /^audio(\.part\d+)?\.wav$/.test(name));
  parts.sort((a, b) => partNumber(a) - partNumber(b));
  return Buffer.concat(await Promise.all(parts.map(async (name) => (await readWavData(join(directory, name))).data)));
}

function partNumber(name: string): number {
  const match = /\.part(\d+)\.wav$/.exec(name);
  return match === null ? 1 : Number(match[1]);
}

/** Resolves once the stand-in has sent at least `bytes` of audio for the stream. */
export async function untilAudioBytes(stream: SimulatedStream, bytes: number, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (stream.sent.audioBytes() < bytes) {
    if (Date.now() > deadline) throw new Error(`only ${stream.sent.audioBytes()} of ${bytes} audio bytes sent within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * A stable webhook URL in front of connectors that come and go (a restart gets a new port):
 * forwards each POST, headers and body unchanged, to `target`.
 */
export async function startWebhookForwarder(): Promise<{ url: string; target: string | undefined; close(): Promise<void> }> {
  const state: { target: string | undefined } = { target: undefined };
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const headers: Record<string, string> = {};
      for (const [key, value] of Object.entries(request.headers))
        if (typeof value === 'string' && key !== 'host' && key !== 'content-length') headers[key] = value;
      if (state.target === undefined) {
        response.writeHead(503).end();
        return;
      }
      fetch(state.target, { method: request.method ?? 'POST', headers, body: Buffer.concat(chunks) })
        .then(async (answer) =>
          response.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json' }).end(await answer.text()),
        )
        .catch(() => response.writeHead(502).end());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/webhook`,
    get target() {
      return state.target;
    },
    set target(value: string | undefined) {
      state.target = value;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

interface IndexRecord {
  readonly offset: number;
  readonly bytes: number;
}

/**
 * docs/reliability.md "Time index": records in order, none reaching past the bytes on disk,
 * and every data byte a WAV header claims described by one.
 */
async function expectIndexWithinData(mediaPath: string, name: string, records: readonly IndexRecord[], claimed: number): Promise<void> {
  const size = (await stat(mediaPath)).size;
  let end = mediaPath.endsWith('.wav') ? 44 : 0;
  for (const record of records) {
    expect(record.offset, `${name}: records in order`).toBeGreaterThanOrEqual(end);
    end = record.offset + record.bytes;
  }
  expect(end, `${name} points past its file`).toBeLessThanOrEqual(size);
  expect(end, `${name} leaves data the header claims undescribed`).toBeGreaterThanOrEqual(claimed);
}
