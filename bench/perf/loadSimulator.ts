/**
 * The Zoom stand-in in load mode, in its own process (forked by `loadSimulatorProcess.ts` with an IPC
 * channel): K streams of 20 ms (or whatever the client asks for) L16 16 kHz mono audio
 * paced in real time plus transcripts, and H.264 video at 25 fps on the first `withVideo`
 * streams of a `start` request. Nothing is recorded (`recordContent: false`); the counters
 * stay exact. Built on the simulator's public API only (`startSimulator`, `startStream`).
 *
 * Configuration: `PERF_SIM_CONFIG` (JSON, see `LoadSimulatorConfig`). Requests and replies:
 * `perfIpc.ts`. The process exits when its parent goes away.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { type SimulatedStream, startSimulator } from 'rtms-simulator';
import type { LoadSimulatorConfig, LoadSimulatorMessage, LoadSimulatorRequest, LoadSimulatorStats } from './perfIpc.ts';

const config = JSON.parse(process.env['PERF_SIM_CONFIG'] ?? '{}') as LoadSimulatorConfig;
const send = (message: LoadSimulatorMessage): void => {
  process.send?.(message);
};

const simulator = await startSimulator({
  credentials: config.credentials,
  webhookUrl: config.webhookUrl,
  seed: config.seed,
  recordContent: false,
  // A loaded machine may take a while to join a thousand streams; never end one for that.
  joinTimeoutMs: 0,
  handshakeTimeoutMs: 60_000,
  webhookTimeoutMs: 30_000,
  ...(config.keepAliveIntervalMs === undefined ? {} : { keepAliveIntervalMs: config.keepAliveIntervalMs }),
  ...(config.tickMs === undefined ? {} : { tickMs: config.tickMs }),
});
const streams: SimulatedStream[] = [];
const videoStreams: SimulatedStream[] = [];
// 720p-sized video: keep a padding request pending on every video stream, so each frame goes
// out at `videoFrameBytes` (the fixture's 160x90 access units plus trailing zeros).
const padTimer =
  config.videoFrameBytes === undefined
    ? undefined
    : setInterval(() => {
        for (const stream of videoStreams) if (stream.state === 'connected') stream.sendOversized('video', config.videoFrameBytes);
      }, 10);
const loopDelay = monitorEventLoopDelay({ resolution: 10 });
loopDelay.enable();

async function startStreams(request: Extract<LoadSimulatorRequest, { type: 'start' }>): Promise<{ ready: number; failed: number; errors: string[] }> {
  const errors: string[] = [];
  const delay = request.count > 1 ? request.spreadMs / (request.count - 1) : 0;
  const started = Date.now();
  const results = await Promise.all(
    Array.from({ length: request.count }, async (_, index) => {
      await sleep(Math.round(index * delay));
      try {
        const stream = await simulator.startStream({
          product: 'meeting',
          participants: 3,
          scopes: index < request.withVideo ? ['audio', 'video', 'transcript'] : ['audio', 'transcript'],
        });
        streams.push(stream);
        if (index < request.withVideo) videoStreams.push(stream);
        const remaining = request.readyTimeoutMs - (Date.now() - started);
        await Promise.race([
          stream.whenReady(),
          sleep(Math.max(0, remaining)).then(() => {
            throw new Error('not ready in time');
          }),
        ]);
        return true;
      } catch (error) {
        if (errors.length < 10) errors.push(error instanceof Error ? error.message : String(error));
        return false;
      }
    }),
  );
  const ready = results.filter(Boolean).length;
  return { ready, failed: request.count - ready, errors };
}

function stats(): LoadSimulatorStats {
  const sent = { audio: 0, video: 0, transcript: 0, chat: 0, deskshare: 0 };
  const dropped = { audioPackets: 0, transcripts: 0, chats: 0, videoFrames: 0 };
  const backlog = { audio: 0, transcript: 0 };
  let ready = 0;
  let ended = 0;
  let keepAliveMisses = 0;
  let handshakeRejections = simulator.rejections.length;
  for (const stream of streams) {
    sent.audio += stream.sent.audioPackets();
    sent.video += stream.sent.videoFrameCount();
    sent.transcript += stream.sent.transcriptCount();
    sent.chat += stream.sent.chatCount();
    sent.deskshare += stream.sent.deskshareFrameCount();
    const drops = stream.dropped;
    dropped.audioPackets += drops.audioPackets;
    dropped.transcripts += drops.transcripts;
    dropped.chats += drops.chats;
    dropped.videoFrames += drops.videoFrames;
    backlog.audio += stream.backlogSize('audio');
    backlog.transcript += stream.backlogSize('transcript');
    if (stream.readyCount >= 1) ready += 1;
    if (stream.state === 'ended') ended += 1;
    keepAliveMisses += stream.connections.keepAliveMisses;
    handshakeRejections += stream.connections.handshakeRejections.length;
  }
  const eventLoopP99Seconds = loopDelay.percentile(99) / 1e9;
  loopDelay.reset();
  return {
    at: Date.now(),
    streamsStarted: streams.length,
    streamsReady: ready,
    streamsEnded: ended,
    sent,
    dropped,
    backlog,
    keepAliveMisses,
    eventLoopP99Seconds,
    handshakeRejections,
  };
}

let closing = false;
async function shutdown(code: number): Promise<void> {
  if (closing) return;
  closing = true;
  if (padTimer !== undefined) clearInterval(padTimer);
  const timer = setTimeout(() => process.exit(code), 10_000);
  timer.unref();
  await simulator.close().catch(() => undefined);
  process.exit(code);
}

process.on('message', (request: LoadSimulatorRequest) => {
  void (async () => {
    try {
      switch (request.type) {
        case 'start': {
          const result = await startStreams(request);
          send({ type: 'reply', id: request.id, ok: true, ...result });
          break;
        }
        case 'stats':
          send({ type: 'reply', id: request.id, ok: true, stats: stats() });
          break;
        case 'close':
          send({ type: 'reply', id: request.id, ok: true });
          await shutdown(0);
          break;
      }
    } catch (error) {
      send({ type: 'reply', id: request.id, ok: false, error: error instanceof Error ? error.message : String(error) });
    }
  })();
});
// Never outlive the benchmark.
process.on('disconnect', () => void shutdown(0));
process.on('SIGTERM', () => void shutdown(0));
process.on('SIGINT', () => void shutdown(0));

send({ type: 'listening', port: simulator.port, signalingUrl: simulator.signalingUrl });
