import type { SimulatedStream, SimulatedStreamState } from './simulatedStream.ts';

/** Where a simulator run stands: streams by state and what they delivered so far. */
export interface SimulationProgress {
  readonly elapsedMs: number;
  readonly streams: Readonly<Record<SimulatedStreamState, number>>;
  readonly audioBytes: number;
  readonly videoFrames: number;
  readonly transcriptLines: number;
  readonly chatMessages: number;
  /** Handshakes the simulator refused (a client with the wrong credentials shows here). */
  readonly refusedHandshakes: number;
}

/** Sums the streams' counters; `elapsedMs` since the run started. */
export function progressOf(streams: readonly SimulatedStream[], elapsedMs: number): SimulationProgress {
  const byState: Record<SimulatedStreamState, number> = { announced: 0, connected: 0, interrupted: 0, ended: 0 };
  let audioBytes = 0;
  let videoFrames = 0;
  let transcriptLines = 0;
  let chatMessages = 0;
  let refusedHandshakes = 0;
  for (const stream of streams) {
    byState[stream.state] += 1;
    audioBytes += stream.sent.audioBytes();
    videoFrames += stream.sent.videoFrameCount();
    transcriptLines += stream.sent.transcriptCount();
    chatMessages += stream.sent.chatCount();
    refusedHandshakes += stream.connections.handshakeRejections.length;
  }
  return { elapsedMs, streams: byState, audioBytes, videoFrames, transcriptLines, chatMessages, refusedHandshakes };
}

function kilobytes(bytes: number): string {
  return `${Math.round(bytes / 1000)} kB`;
}

/** One progress line, e.g. `12 s: 3 streams (3 connected) · sent audio 1152 kB, …`. */
export function formatProgress(progress: SimulationProgress): string {
  const total = Object.values(progress.streams).reduce((sum, count) => sum + count, 0);
  const states = (Object.entries(progress.streams) as Array<[SimulatedStreamState, number]>)
    .filter(([, count]) => count > 0)
    .map(([state, count]) => `${count} ${state}`);
  const refused = progress.refusedHandshakes > 0 ? ` · ${progress.refusedHandshakes} handshakes refused (check the client's credentials)` : '';
  return (
    `${Math.round(progress.elapsedMs / 1000)} s: ${total} stream${total === 1 ? '' : 's'}${states.length > 0 ? ` (${states.join(', ')})` : ''}` +
    ` · sent audio ${kilobytes(progress.audioBytes)}, video ${progress.videoFrames} frames, transcripts ${progress.transcriptLines}, chat ${progress.chatMessages}` +
    refused
  );
}
