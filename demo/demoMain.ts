import '../src/nodeVersionCheck.ts';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { startSimulator, type SimulatedStream } from 'rtms-simulator';
import { fileSafeId } from '../src/sinks/fileSafeId.ts';
import { streamDirectory } from '../src/sinks/streamDirectory.ts';
import { ConnectorProcess, connectorEnv, randomCredentials } from '../test/support/connectorProcess.ts';
import { ffprobeAvailable } from '../test/support/ffprobe.ts';
import { inspectStreamOutput } from '../test/support/streamOutputReport.ts';
import { readWavData } from '../test/support/wavReader.ts';
import { DemoDirectoryNotOwnedError, prepareDemoOutputDirectory } from './demoOutputDirectory.ts';

/**
 * `npm run demo`: the real connector process and the built-in Zoom stand-in on 127.0.0.1.
 * Runs a meeting with three speakers and a Contact Center voice call for about ten seconds,
 * then checks the output the way a user would (ffprobe, byte-for-byte audio) and prints a
 * summary. Exit code 0 only when every stream ended with valid, complete files.
 */

const STREAM_SECONDS = 10;

async function main(): Promise<number> {
  const outputDir = await prepareDemoOutputDirectory();
  const credentials = randomCredentials('demo');
  const probe = await ffprobeAvailable();

  console.log(`rtms-connector demo: output in ${outputDir}`);
  const connector = await ConnectorProcess.start({
    env: connectorEnv({
      credentials,
      outputDir,
      adminToken: randomBytes(16).toString('hex'),
      extra: { RTMS_MEDIA: 'audio,video,transcript,chat', LOG_LEVEL: 'info' },
    }),
    logFile: join(outputDir, 'connector.log'),
  });
  stopOnSignal(connector);
  const simulator = await startSimulator({ credentials, webhookUrl: connector.webhookUrl, seed: 2026 });
  try {
    console.log(`connector listening on ${connector.baseUrl}; Zoom stand-in on ${simulator.signalingUrl}`);
    await simulator.validateEndpoint();
    console.log('webhook endpoint validated (endpoint.url_validation)');

    const streams = await Promise.all([
      simulator.startStream({ product: 'meeting', participants: 3, durationMs: STREAM_SECONDS * 1000 }),
      simulator.startStream({ product: 'contact_center', durationMs: STREAM_SECONDS * 1000 }),
    ]);
    console.log(`streaming ${streams.length} streams for ${STREAM_SECONDS} s ...`);
    await Promise.all(streams.map((stream) => stream.whenEnded()));

    const rows: string[][] = [];
    const recordings: string[] = [];
    let healthy = true;
    for (const stream of streams) {
      const snapshot = await connector.waitForStream(stream.rtmsStreamId, (s) => s['active'] === false);
      const report = await inspectStreamOutput(streamDirectory(outputDir, stream.rtmsStreamId), { probe });
      const audioMatches = await audioMatchesSent(outputDir, stream);
      const ok = snapshot['state'] === 'ended' && report.state === 'ended' && report.problems.length === 0 && audioMatches;
      healthy &&= ok;
      for (const problem of report.problems) console.error(`  ${stream.rtmsStreamId}: ${problem}`);
      for (const recording of report.recordings) recordings.push(`recording: ${join(report.directory, recording.file)}\n  ffprobe: ${recording.summary}`);
      rows.push([
        stream.product,
        stream.rtmsStreamId.slice(0, 12),
        String(snapshot['state']),
        String(report.files.filter((file) => !file.includes('/')).length),
        report.audioSeconds.toFixed(1),
        audioMatches ? 'yes' : 'NO',
        probe || !report.files.includes('video.h264') ? String(report.videoFrames) : 'n/a',
        String(report.transcriptLines),
        String(report.chatLines),
        probe ? (report.problems.length === 0 ? `ok (${report.probedFiles.length})` : 'FAILED') : 'skipped',
      ]);
    }
    printTable(['product', 'stream', 'state', 'files', 'audio s', 'audio = sent', 'video frames', 'transcript', 'chat', 'ffprobe'], rows);
    for (const line of recordings) console.log(line);
    if (!probe) console.log('ffprobe is not installed: decoder checks skipped (apt-get install ffmpeg)');
    console.log(healthy ? 'demo passed: every stream ended with complete, valid files' : 'demo FAILED: see above');
    return healthy ? 0 : 1;
  } finally {
    await simulator.close();
    const code = await connector.stop('SIGTERM');
    if (code !== 0) console.error(`connector exited with code ${code}; see connector.log`);
  }
}

/** Ctrl-C, `timeout` or `kill`: stop the connector (it finalizes its files), then exit 128+n. */
function stopOnSignal(connector: ConnectorProcess): void {
  const onSignal = (signal: NodeJS.Signals, number: number): void => {
    console.error(`demo: ${signal}; stopping the connector`);
    void connector.stop('SIGTERM').finally(() => process.exit(128 + number));
  };
  process.once('SIGINT', () => onSignal('SIGINT', 2));
  process.once('SIGTERM', () => onSignal('SIGTERM', 15));
}

/** Every speaker's WAV holds exactly the PCM the stand-in sent for that speaker. */
async function audioMatchesSent(outputDir: string, stream: SimulatedStream): Promise<boolean> {
  const directory = streamDirectory(outputDir, stream.rtmsStreamId);
  for (const userId of stream.sent.audioUserIds()) {
    const file = userId === '0' ? 'audio.wav' : `audio-${fileSafeId(userId)}.wav`;
    try {
      const wav = await readWavData(join(directory, file));
      if (!wav.data.equals(stream.sent.audio(userId))) return false;
    } catch {
      return false;
    }
  }
  return stream.sent.audioUserIds().length > 0;
}

function printTable(header: readonly string[], rows: readonly string[][]): void {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (cells: readonly string[]): string => cells.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  ');
  console.log(line(header));
  console.log(widths.map((width) => '-'.repeat(width)).join('  '));
  for (const row of rows) console.log(line(row));
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof DemoDirectoryNotOwnedError) {
      console.error(`demo: ${error.message}`);
      process.exit(1);
    }
    console.error(`demo failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exit(1);
  },
);
