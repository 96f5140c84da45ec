import { parentPort, workerData } from 'node:worker_threads';
import { ConnectorError, describeError } from '../errors.ts';
import type { SupervisorToWorker, WorkerData, WorkerToSupervisor } from '../ipc/messages.ts';
import { createLogger } from '../logger.ts';
import type { StreamStart } from '../rtms/products.ts';
import { FileSink } from '../sinks/fileSink.ts';
import { measureMediaOnDisk, type MediaBytesOnDisk } from '../sinks/outputOnDisk.ts';
import { RedisStreamSink } from '../sinks/redisStreamSink.ts';
import { recordingWanted } from '../sinks/recording/recordingPolicy.ts';
import { RecordingSink } from '../sinks/recording/recordingSink.ts';
import { StallingSink } from '../sinks/stallingSink.ts';
import { planStreamOutput } from '../sinks/streamContinuation.ts';
import { streamDirectory } from '../sinks/streamDirectory.ts';
import { statsFromDisk } from './resumeFromDisk.ts';
import { StreamSession } from './streamSession.ts';
import { TERMINAL_STATES } from '../vocabulary/streamState.ts';
import { LiveTap } from './liveTap.ts';
import { WorkerMetrics } from './workerMetrics.ts';

/**
 * Worker thread entry: hosts many stream sessions. Frames stay in this thread; only control
 * messages and one batched stats message per interval go to the supervisor.
 */

if (parentPort === null) throw new Error('workerMain must run in a worker thread');
const port = parentPort;
const { workerId, config } = workerData as WorkerData;
const logger = createLogger({ level: config.logLevel }).child({ worker: workerId });
const sessions = new Map<string, StreamSession>();
const taps = new Map<string, LiveTap>();
const metrics = new WorkerMetrics({ workerId });
// Loaded only when configured: the Redis client is most of what a worker would otherwise load.
const redisPublisher =
  config.redisUrl !== undefined && config.redisStream.kinds.length > 0
    ? new (await import('../sinks/redisStreamPublisher.ts')).RedisStreamPublisher({
        url: config.redisUrl,
        maxLen: config.redisStream.maxLen,
        logger,
        onOutcome: (output, dropReason) => metrics.redisOutcome(output, dropReason),
      })
    : undefined;
const redisSinks = new Map<string, RedisStreamSink>();
/**
 * Resumed streams whose directory is being measured (their session does not exist yet): the
 * messages that arrive for them meanwhile wait here, in order, and are handled right after.
 */
const resuming = new Map<string, SupervisorToWorker[]>();
let shuttingDown = false;

type ResumeFrom = NonNullable<Extract<SupervisorToWorker, { type: 'startStream' }>['resume']>;

/**
 * A resume first measures what the lost incarnation left on disk, before this session's sink
 * writes a byte, so the carried `bytesWritten` is what the files hold.
 */
function resumeStream(start: StreamStart, resume: ResumeFrom): void {
  const id = start.rtmsStreamId;
  if (sessions.has(id) || resuming.has(id)) {
    startStream(start, resume);
    return;
  }
  resuming.set(id, []);
  // void: nothing here is expected to reject (the measurement's failure is caught); a throw
  // from startStream or handle is a defect and ends the worker like an uncaught exception in
  // the message handler would, which the supervisor's crash recovery handles.
  void measureMediaOnDisk(streamDirectory(config.outputDir, id))
    .catch((error: unknown) => {
      logger.warn({ rtmsStreamId: id, err: describeError(error) }, 'could not measure the stream directory; carrying the reported byte counts');
      return undefined;
    })
    .then((onDisk) => {
      const queued = resuming.get(id) ?? [];
      resuming.delete(id);
      // Shutting down: the stream is left to Zoom's rejoin window, as at any other exit.
      if (shuttingDown) return;
      startStream(start, { ...resume, onDisk });
      for (const message of queued) handle(message);
    });
}

/** The stream a message is about, for the ones addressed to a stream. */
function streamOf(message: SupervisorToWorker): string | undefined {
  if (message.type === 'startStream' || message.type === 'failoverStream') return message.start.rtmsStreamId;
  return 'rtmsStreamId' in message ? message.rtmsStreamId : undefined;
}

function post(message: WorkerToSupervisor): void {
  port.postMessage(message);
}

function startStream(start: StreamStart, resume: (ResumeFrom & { readonly onDisk?: MediaBytesOnDisk | undefined }) | undefined): void {
  const existing = sessions.get(start.rtmsStreamId);
  if (existing !== undefined) {
    logger.warn({ rtmsStreamId: start.rtmsStreamId }, 'stream already hosted here; treating start as failover');
    existing.failover(start);
    return;
  }
  const streamLogger = logger.child({ rtmsStreamId: start.rtmsStreamId, product: start.product });
  // What the directory already holds decides: continue an unfinished run, or write a late
  // attempt beside a finished one (README "Reliability").
  const plan = planStreamOutput(streamDirectory(config.outputDir, start.rtmsStreamId), { rtmsStreamId: start.rtmsStreamId, at: Date.now() });
  if (plan.lateAttempt !== undefined)
    streamLogger.warn({ attempt: plan.lateAttempt }, 'rtms_started for a stream that already ended; recording this attempt beside it');
  const continued = plan.continues;
  if (continued !== undefined)
    streamLogger.info({ previousState: continued.state, files: continued.files.length }, 'continuing the stream directory an earlier run left');
  // A resume the supervisor knows of (worker crash, takeover) carries its own counters; a
  // restarted connector finds them on disk.
  const resumeFrom = resume ?? (continued === undefined ? undefined : { previous: statsFromDisk(continued, start), reason: 'restart' });
  const fileSink = new FileSink({
    directory: plan.directory,
    previousFiles: continued?.files,
    finalWriteTimeoutMs: config.shutdownGraceMs,
    flushIntervalMs: config.output.flushIntervalMs,
    streamJsonIntervalMs: config.output.streamJsonIntervalMs,
    highWaterBytes: config.buffer.highWaterBytes,
    lowWaterBytes: config.buffer.lowWaterBytes,
    fillAudioGaps: config.media.audio.gapFill === 'silence',
    frameIndex: true,
    captions: true,
    maxOpenSpeakerFiles: config.output.maxOpenSpeakerFiles,
    onSpeakerFileClosedEarly: () => metrics.limitHit('open_files'),
    logger: streamLogger,
  });
  const tap = new LiveTap({
    rtmsStreamId: start.rtmsStreamId,
    send: (batch) => port.postMessage({ type: 'liveBatch', ...batch } satisfies WorkerToSupervisor, [batch.payload]),
  });
  taps.set(start.rtmsStreamId, tap);
  const redisSink =
    redisPublisher &&
    new RedisStreamSink({
      publisher: redisPublisher,
      rtmsStreamId: start.rtmsStreamId,
      kinds: config.redisStream.kinds,
      retentionSeconds: config.redisStream.retentionSeconds,
      resumed: resume !== undefined,
    });
  if (redisSink !== undefined) redisSinks.set(start.rtmsStreamId, redisSink);
  const stall = config.debugSinkStall;
  const recorded = recordingWanted(config.output.recording, config.media)
    ? new RecordingSink({
        inner: fileSink,
        directory: plan.directory,
        previousFiles: continued?.files ?? [],
        fillAudioGaps: config.media.audio.gapFill === 'silence',
        captionDelayMs: config.media.kinds.includes('transcript') ? config.output.recordingCaptionDelayMs : 0,
        flushIntervalMs: config.output.flushIntervalMs,
        logger: streamLogger,
      })
    : fileSink;
  const sink = stall === undefined ? recorded : new StallingSink({ inner: recorded, ...stall });
  const session = new StreamSession({
    start,
    config,
    sink,
    metrics,
    taps: redisSink === undefined ? [tap] : [tap, redisSink],
    logger: streamLogger,
    ...(resumeFrom === undefined ? {} : { resumeFrom }),
    // Terminal states travel in streamFinished, after the files are final, so an operator
    // never sees `ended` for a stream whose output is still being written.
    onStateChange: (change) => {
      if (!TERMINAL_STATES.has(change.to)) post({ type: 'streamState', rtmsStreamId: start.rtmsStreamId, ...change });
    },
    onFinished: (stats) => {
      sessions.delete(start.rtmsStreamId);
      taps.delete(start.rtmsStreamId);
      redisSinks.delete(start.rtmsStreamId);
      post({ type: 'streamFinished', rtmsStreamId: start.rtmsStreamId, stats });
    },
  });
  sessions.set(start.rtmsStreamId, session);
  session.begin();
}

function withSession(rtmsStreamId: string, action: (session: StreamSession) => unknown): void {
  const session = sessions.get(rtmsStreamId);
  if (session === undefined) {
    logger.warn({ rtmsStreamId }, 'command for a stream this worker does not host');
    return;
  }
  action(session);
}

async function shutdown(): Promise<void> {
  shuttingDown = true;
  clearInterval(statsTimer);
  const results = await Promise.allSettled([...sessions.values()].map((session) => session.close()));
  for (const result of results) {
    if (result.status === 'rejected') logger.error({ err: describeError(result.reason) }, 'stream did not close cleanly');
  }
  clearInterval(lagTimer);
  await redisPublisher?.close();
  post({ type: 'shutdownComplete' });
  port.close();
}

function handle(message: SupervisorToWorker): void {
  const waiting = resuming.get(streamOf(message) ?? '');
  if (waiting !== undefined) {
    waiting.push(message);
    return;
  }
  switch (message.type) {
    case 'startStream':
      if (message.resume === undefined) startStream(message.start, undefined);
      else resumeStream(message.start, message.resume);
      return;
    case 'failoverStream':
      withSession(message.start.rtmsStreamId, (session) => session.failover(message.start));
      return;
    case 'interruptStream':
      withSession(message.rtmsStreamId, (session) => session.interrupt(message.eventTs));
      return;
    case 'stopStream':
      withSession(message.rtmsStreamId, (session) => session.stop(message.stopReason));
      return;
    case 'closeStream':
      withSession(message.rtmsStreamId, (session) => session.close());
      return;
    case 'excludeParticipant':
      withSession(message.rtmsStreamId, (session) => session.excludeParticipant(message.userId));
      return;
    case 'releaseStream':
      // Another replica rejoins it: close the sockets and finalize, but leave the stream to Zoom.
      withSession(message.rtmsStreamId, (session) => session.destroy(message.reason));
      return;
    case 'liveSubscribe':
      taps.get(message.rtmsStreamId)?.subscribe(message.subscriptionId, message.kinds);
      return;
    case 'liveUnsubscribe':
      taps.get(message.rtmsStreamId)?.unsubscribe(message.subscriptionId);
      return;
    case 'metricsRequest':
      void metrics.snapshot().then((snapshot) => post({ type: 'metricsResponse', requestId: message.requestId, metrics: snapshot }));
      return;
    case 'ping':
      post({ type: 'pong', sequence: message.sequence });
      return;
    case 'shutdown':
      void shutdown();
      return;
    default: {
      // An unknown message is a protocol bug: tear the worker down so the supervisor replaces it.
      const unknown: never = message;
      throw new ConnectorError('IPC_UNKNOWN_MESSAGE', `unknown supervisor message ${JSON.stringify(unknown)}`);
    }
  }
}

const statsTimer = setInterval(() => {
  // A finishing stream reports its terminal state only in streamFinished, once its files are final.
  const live = [...sessions.values()].filter((session) => !TERMINAL_STATES.has(session.state));
  if (live.length > 0) post({ type: 'stats', streams: live.map((session) => session.snapshot()) });
}, config.statsIntervalMs);

// Consumer lag of the Redis output streams: the slowest consumer group this worker feeds.
const lagTimer = setInterval(() => {
  if (redisPublisher === undefined || redisSinks.size === 0) return;
  const keys = [...redisSinks.values()].flatMap((sink) => sink.keys());
  void Promise.all(keys.map((key) => redisPublisher.consumerLag(key))).then((lags) => {
    metrics.redisConsumerLag(Math.max(0, ...lags.filter((lag) => lag !== undefined)));
  });
}, 10_000);
lagTimer.unref();

port.on('message', handle);
post({ type: 'ready', workerId });

for (const crash of config.debugWorkerCrash) {
  if (crash.workerId !== workerId) continue;
  // DEBUG_WORKER_CRASH: a real uncaught exception, to test crash recovery end to end.
  setTimeout(() => {
    throw new Error(`DEBUG_WORKER_CRASH: worker ${workerId} crashing on purpose`);
  }, crash.afterMs);
}
