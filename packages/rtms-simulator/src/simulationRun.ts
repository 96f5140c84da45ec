import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { type Credentials, nameOf, type Product, STATUS_CODE_NAMES, STOP_REASON_NAMES, StopReason } from './connectorShared.ts';
import { type SimulationProgress, progressOf } from './simulationProgress.ts';
import { startSimulator, type SimulatedStream, type Simulator } from './simulator.ts';
import type { Scenario } from './simulatorArgs.ts';
import { SimulatorError } from './simulatorErrors.ts';
import { lifecycleWebhookBody } from './webhookBodies.ts';

/** What `runSimulation` needs; durations in ms. */
export interface SimulationOptions {
  readonly credentials: Credentials;
  readonly webhookUrl: string;
  readonly streams: number;
  readonly product: Product;
  readonly participants: number | undefined;
  readonly durationMs: number;
  readonly scenario: Scenario;
  readonly keepAliveIntervalMs: number | undefined;
  readonly keepAliveWhen?: 'idle' | 'always';
  readonly reconnectGraceMs: number | undefined;
  readonly seed: number | undefined;
  /** Chaos mode (seeded trouble in every stream); undefined or false: off. */
  readonly chaos?: { readonly seed: number | undefined; readonly ratePerMinute: number | undefined } | false;
  /** Zoom's webhook retries, their schedule times this scale; undefined: off. */
  readonly webhookRetryScale?: number | undefined;
  /** Sync marks in every stream, every this many ms of media time (undefined: none). */
  readonly syncMarksEveryMs?: number | undefined;
  readonly host: string;
  readonly port: number;
  /** Serve wss:// (see SimulatorOptions.tls). */
  readonly tls?: boolean | { readonly dir?: string };
  readonly logger: Logger;
  /** Called once the simulator listens (the CLI prints the URL). */
  readonly onListening?: (simulator: Simulator) => void;
  /** Aborts the run: streams are dropped and the simulator closed. */
  readonly signal?: AbortSignal;
  /** Called every `progressIntervalMs` while streams run (the CLI prints a line). */
  readonly onProgress?: (progress: SimulationProgress) => void;
  /** 0 or absent: no progress calls. */
  readonly progressIntervalMs?: number;
}

/** One row of the summary table. */
export interface StreamSummary {
  readonly rtmsStreamId: string;
  readonly product: Product;
  readonly signalingConnections: number;
  readonly mediaConnections: number;
  readonly audioBytes: number;
  readonly videoFrames: number;
  readonly transcriptLines: number;
  readonly chatMessages: number;
  /** e.g. "6 MEETING_ENDED" */
  readonly ended: string;
  /** Handshake refusals, webhook failures… */
  readonly notes: string;
}

export interface SimulationResult {
  readonly streams: readonly StreamSummary[];
  /** forged-webhook: HTTP status the endpoint answered each forged `rtms_started` with. */
  readonly forgedStatuses: readonly number[];
  /** False when the endpoint refused a genuine webhook or accepted a forged one. */
  readonly ok: boolean;
  /** Totals over all streams at the end of the run. */
  readonly totals: SimulationProgress;
}

/** Where in the stream's media time the scenario acts, as a fraction of the duration. */
const ACTION_AT = 0.4;
/** How long a client gets to join before the stream stops with reason 11, ms. */
const JOIN_TIMEOUT_MS = 30_000;
const BAD_SECRET_SUFFIX = '-not-the-secret-the-connector-has';

/**
 * Runs the simulator CLI's work: validates the endpoint, starts the streams, plays the
 * scenario on each, waits for every stream to end and summarises. Throws
 * `SimulatorError('URL_VALIDATION_FAILED')` when the endpoint fails the challenge.
 */
export async function runSimulation(options: SimulationOptions): Promise<SimulationResult> {
  const credentials =
    options.scenario === 'bad-signature' ? { ...options.credentials, clientSecret: options.credentials.clientSecret + BAD_SECRET_SUFFIX } : options.credentials;
  const simulator = await startSimulator({
    credentials,
    webhookUrl: options.webhookUrl,
    host: options.host,
    port: options.port,
    ...(options.tls === undefined ? {} : { tls: options.tls }),
    keepAliveIntervalMs: options.keepAliveIntervalMs,
    ...(options.keepAliveWhen === undefined ? {} : { keepAliveWhen: options.keepAliveWhen }),
    reconnectGraceMs: options.reconnectGraceMs,
    joinTimeoutMs: JOIN_TIMEOUT_MS,
    seed: options.seed,
    logger: options.logger,
    // Only counters are needed for the summary; do not keep every byte of N streams.
    recordContent: false,
    ...(options.webhookRetryScale === undefined ? {} : { webhookRetries: { timeScale: options.webhookRetryScale } }),
    ...(options.syncMarksEveryMs === undefined ? {} : { syncMarks: { everyMs: options.syncMarksEveryMs } }),
    ...(options.chaos
      ? {
          chaos: {
            ...(options.chaos.seed === undefined ? {} : { seed: options.chaos.seed }),
            ...(options.chaos.ratePerMinute === undefined ? {} : { ratePerMinute: options.chaos.ratePerMinute }),
          },
        }
      : {}),
  });
  const onAbort = (): void => void simulator.close();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  const startedAt = Date.now();
  const running: SimulatedStream[] = [];
  const onProgress = options.onProgress;
  const progressTimer =
    onProgress !== undefined && (options.progressIntervalMs ?? 0) > 0
      ? setInterval(() => onProgress(progressOf(running, Date.now() - startedAt)), options.progressIntervalMs)
      : undefined;
  const totals = (): SimulationProgress => progressOf(running, Date.now() - startedAt);
  try {
    options.onListening?.(simulator);
    await simulator.validateEndpoint();
    if (options.scenario === 'forged-webhook') {
      const forgedStatuses = await sendForged(simulator, options);
      return { streams: [], forgedStatuses, ok: forgedStatuses.every((status) => status >= 400 && status < 500), totals: totals() };
    }
    const outcomes = await Promise.all(
      Array.from({ length: options.streams }, async (_, index) => {
        // Spread the announcements a little, as real meetings do not start in the same ms.
        await sleep(Math.min(index * 5, 2000));
        return runStream(simulator, options, running);
      }),
    );
    return { streams: outcomes.map((outcome) => outcome.summary), forgedStatuses: [], ok: outcomes.every((outcome) => outcome.accepted), totals: totals() };
  } finally {
    clearInterval(progressTimer);
    options.signal?.removeEventListener('abort', onAbort);
    await simulator.close();
  }
}

/** `running` receives the stream once announced, for progress reports. */
async function runStream(simulator: Simulator, options: SimulationOptions, running: SimulatedStream[]): Promise<{ summary: StreamSummary; accepted: boolean }> {
  let stream: SimulatedStream;
  try {
    stream = await simulator.startStream({
      product: options.product,
      participants: options.participants,
      // 'stop' ends by an explicit host stop instead of the meeting ending.
      durationMs: options.scenario === 'stop' ? undefined : options.durationMs,
    });
  } catch (error) {
    const notes = error instanceof SimulatorError ? error.message : String(error);
    return { summary: summarize(undefined, options.product, notes), accepted: false };
  }
  running.push(stream);
  await playScenario(stream, options);
  await stream.whenEnded();
  return { summary: summarize(stream, options.product, ''), accepted: true };
}

async function playScenario(stream: SimulatedStream, options: SimulationOptions): Promise<void> {
  const ended = new AbortController();
  void stream.whenEnded().then(() => ended.abort());
  const wait = (ms: number): Promise<boolean> => sleep(ms, true, { signal: ended.signal }).catch(() => false);

  if (options.scenario === 'bad-signature') {
    // The connector signs with the real secret, the simulator expects another: every
    // handshake is refused with status 3. Once that happened, end like Zoom (reason 18).
    const deadline = Date.now() + JOIN_TIMEOUT_MS;
    while (stream.connections.handshakeRejections.length === 0 && Date.now() < deadline) {
      if (!(await wait(100))) return;
    }
    if (!(await wait(1000))) return;
    await stream.stop(18);
    return;
  }
  try {
    await stream.whenReady();
  } catch {
    return; // Ended before a client joined (join timeout): nothing to play.
  }
  const at = options.scenario === 'stop' ? options.durationMs : Math.round(options.durationMs * ACTION_AT);
  if (options.scenario === 'normal' || !(await wait(at))) return;
  switch (options.scenario) {
    case 'stop':
      await stream.stop(1);
      break;
    case 'interrupt':
      await stream.interrupt();
      break;
    case 'media-drop':
      await stream.dropMedia();
      break;
    case 'duplicate-start':
      await stream.resendStart().catch(() => undefined);
      break;
    case 'failover':
      await stream.failover().catch(() => undefined);
      break;
    case 'forged-webhook':
      break; // runSimulation sends forged webhooks instead of starting streams
  }
}

async function sendForged(simulator: Simulator, options: SimulationOptions): Promise<number[]> {
  const statuses: number[] = [];
  for (let i = 0; i < options.streams; i += 1) {
    const body = lifecycleWebhookBody({
      kind: 'rtms_started',
      stream: {
        product: options.product,
        rtmsStreamId: randomBytes(16).toString('hex'),
        entityId: randomBytes(16).toString('base64'),
        sessionKey: 'forged',
        operatorId: 'forged',
        accountId: 'forged',
        meetingNumber: 81_234_567_890,
        webinarIdKey: 'webinar_uuid',
      },
      eventTs: Date.now(),
      serverUrls: simulator.signalingUrl,
      payloadNesting: 'flat',
    });
    const response = await simulator.sendWebhook(body, { secretToken: randomBytes(16).toString('hex') });
    statuses.push(response.status);
  }
  return statuses;
}

function summarize(stream: SimulatedStream | undefined, product: Product, notes: string): StreamSummary {
  if (stream === undefined) {
    return {
      rtmsStreamId: '-',
      product,
      signalingConnections: 0,
      mediaConnections: 0,
      audioBytes: 0,
      videoFrames: 0,
      transcriptLines: 0,
      chatMessages: 0,
      ended: '-',
      notes,
    };
  }
  const rejections = new Map<number, number>();
  for (const rejection of stream.connections.handshakeRejections) {
    rejections.set(rejection.statusCode, (rejections.get(rejection.statusCode) ?? 0) + 1);
  }
  const allNotes = [
    notes,
    ...[...rejections].map(([code, count]) => `refused ${code} ${nameOf(STATUS_CODE_NAMES, code)} x${count}`),
    stream.connections.keepAliveTimeouts.length > 0 ? `keep-alive timeouts x${stream.connections.keepAliveTimeouts.length}` : '',
    stream.chaos.enabled ? `chaos x${stream.chaos.applied()}` : '',
    stream.sent.malformedCount() > 0 ? `malformed sent x${stream.sent.malformedCount()}` : '',
  ].filter((note) => note !== '');
  const end = stream.end;
  return {
    rtmsStreamId: stream.rtmsStreamId,
    product: stream.product,
    signalingConnections: stream.connections.signalingAccepted,
    mediaConnections: stream.connections.mediaAccepted,
    audioBytes: stream.sent.audioBytes(),
    videoFrames: stream.sent.videoFrameCount(),
    transcriptLines: stream.sent.transcriptCount(),
    chatMessages: stream.sent.chatCount(),
    ended:
      end === undefined ? 'running' : end.stopReason === StopReason.UNDEFINED ? end.cause : `${end.stopReason} ${nameOf(STOP_REASON_NAMES, end.stopReason)}`,
    notes: allNotes.join('; '),
  };
}

/** Renders summaries as an aligned text table. */
export function formatSummaryTable(rows: readonly StreamSummary[]): string {
  const header = ['stream', 'product', 'signaling', 'media', 'audio bytes', 'video frames', 'transcripts', 'chat', 'ended', 'notes'];
  const cells = rows.map((row) => [
    row.rtmsStreamId,
    row.product,
    String(row.signalingConnections),
    String(row.mediaConnections),
    String(row.audioBytes),
    String(row.videoFrames),
    String(row.transcriptLines),
    String(row.chatMessages),
    row.ended,
    row.notes,
  ]);
  const widths = header.map((title, column) => Math.max(title.length, ...cells.map((line) => (line[column] ?? '').length)));
  const numeric = new Set([2, 3, 4, 5, 6, 7]);
  const render = (line: readonly string[]): string =>
    line
      .map((cell, column) => (numeric.has(column) ? cell.padStart(widths[column] ?? 0) : cell.padEnd(widths[column] ?? 0)))
      .join('  ')
      .trimEnd();
  return [render(header), render(widths.map((width) => '-'.repeat(width))), ...cells.map(render)].join('\n');
}
