import { CHAOS_KINDS } from 'rtms-simulator';
import type { ChaosSoakReport } from './chaosSoakReport.ts';

export const mib = (bytes: number | undefined): string => (bytes === undefined ? '-' : `${(bytes / 2 ** 20).toFixed(1)} MiB`);

function table(header: readonly string[], rows: ReadonlyArray<readonly string[]>, numericFrom = 1): string {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)));
  const render = (row: readonly string[]): string =>
    row
      .map((cell, column) => (column >= numericFrom ? cell.padStart(widths[column] ?? 0) : cell.padEnd(widths[column] ?? 0)))
      .join('  ')
      .trimEnd();
  return [render(header), render(widths.map((width) => '-'.repeat(width))), ...rows.map(render)].join('\n');
}

/** The report as text tables. */
export function formatChaosSoakReport(report: ChaosSoakReport): string {
  const lines: string[] = [];
  const { config } = report;
  lines.push(
    `chaos soak: ${config.streams} streams x ${(config.durationMs / 60_000).toFixed(1)} min, seed ${config.seed}, ` +
      `${config.chaos.ratePerMinute} injections/stream/min; wall ${report.wallSeconds} s`,
  );
  lines.push(
    `streams: ${Object.entries(report.streamStates)
      .map(([state, count]) => `${count} ${state}`)
      .join(', ')}`,
  );
  lines.push('');
  lines.push(
    table(
      ['chaos injection', 'applied', 'skipped'],
      CHAOS_KINDS.map((kind) => [kind, String(report.chaos.applied[kind] ?? 0), String(report.chaos.skipped[kind] ?? 0)]),
    ),
  );
  lines.push('');
  lines.push(`reconnects: ${report.reconnects.total}`);
  const rejoins = Object.entries(report.reconnects.byRejoin).sort(([a], [b]) => a.localeCompare(b));
  if (rejoins.length > 0)
    lines.push(
      table(
        ['rejoin (scope/trigger)', 'count'],
        rejoins.map(([key, count]) => [key, String(count)]),
      ),
    );
  lines.push('');
  lines.push(
    table(
      ['media', 'received', 'written', 'dropped', 'unaccounted', 'sent valid', 'sent malformed', 'oversized lost', 'sent-received', 'unexplained'],
      Object.entries(report.frames).map(([kind, k]) => [
        kind,
        String(k.received),
        String(k.written),
        Object.entries(k.dropped)
          .map(([reason, count]) => `${reason} ${count}`)
          .join(', ') || '0',
        String(k.unaccounted),
        String(k.sentValid),
        String(k.sentMalformed),
        String(k.oversizedLost),
        String(k.sentMinusReceived),
        String(k.unexplained),
      ]),
    ),
  );
  lines.push(`audio bytes: sent ${report.simulator.audioBytesSent}, written ${report.audioBytesWritten}`);
  const d = report.diskFull;
  if (d.tmpfsBytes === undefined) {
    lines.push('disk full: off (output on the host temp directory)');
  } else {
    lines.push(
      `disk full: ${d.count} window(s), ${d.totalSeconds} s in total` +
        (d.windows.length > 0 ? ` (${d.windows.map((w) => `t=${w.fullAtS} s for ${w.fullSeconds} s`).join(', ')})` : '') +
        `; tmpfs ${mib(d.tmpfsBytes)}, output ${mib(d.outputBytes)} at the end`,
    );
    lines.push(
      `  sink_error drops: ${Object.entries(d.sinkErrorDrops)
        .map(([kind, count]) => `${kind} ${count}`)
        .join(', ')}; ` +
        `${d.streamsThatHitEnospc} stream(s) saw ENOSPC; files failing ${d.fileFailures}, recovered ${d.fileRecoveries}, lost ${d.filesLost} (continued in a new part); ` +
        `${report.filesChecked} files checked`,
    );
  }
  const s = report.simulator;
  lines.push(
    `stand-in: ${s.signalingAccepted} signaling joins (${s.signalingRejectedDuplicate} refused as duplicate), ${s.mediaAccepted} media joins, ` +
      `${s.interruptions} interruptions, ${s.mediaInterruptions} media interruptions, ${s.failovers} failovers, ${s.keepAliveTimeouts} keep-alive timeouts, ` +
      `${s.unknownMessages} unknown-type messages, ${s.picturesSkipped} pictures skipped, ${s.backlogDrops} buffer drops`,
  );
  const rejections = Object.entries(s.handshakeRejections);
  if (rejections.length > 0) lines.push(`handshakes refused: ${rejections.map(([key, count]) => `${key} x${count}`).join(', ')}`);
  lines.push('');
  lines.push(
    `connector RSS every ${report.rss.intervalMs / 1000} s: ${report.rss.samples.map((sample) => `${sample.atS.toFixed(0)}s ${mib(sample.rssBytes)}`).join(' | ')}`,
  );
  lines.push(
    `RSS minute 2 ${mib(report.rss.minute2MeanBytes)}, last minute ${mib(report.rss.lastMinuteMeanBytes)}, change ${
      report.rss.changePercent === undefined ? '-' : `${report.rss.changePercent.toFixed(1)} %`
    }`,
  );
  lines.push(
    `JS heap used / committed / external (all isolates) every ${report.rss.intervalMs / 1000} s: ${report.rss.samples
      .map((sample) => `${sample.atS.toFixed(0)}s ${mib(sample.heapUsedBytes)}/${mib(sample.heapTotalBytes)}/${mib(sample.externalBytes)}`)
      .join(' | ')}`,
  );
  lines.push('');
  const v = report.verdicts;
  lines.push(
    table(
      ['verdict', 'result'],
      [
        ['0 frames unaccounted (received = written + dropped)', v.unaccountedZero],
        ['stand-in sent = connector received (per kind, audio bytes)', v.sentEqualsReceived],
        ['every stream ended', v.streamsEnded],
        ['no duplicate signaling connection', v.noDuplicateSignaling],
        ['audio byte-identical', v.audioIdentical],
        ['RSS flat (last minute within 10 % of minute 2)', v.rssFlat],
        ['every file valid at the end (ffprobe, JSON lines)', v.filesValid],
        ['overall', v.ok ? 'PASS' : 'FAIL'],
      ],
      2,
    ),
  );
  if (report.problems.length > 0) {
    lines.push('');
    lines.push('problems:');
    for (const problem of report.problems.slice(0, 50)) lines.push(`  - ${problem}`);
    if (report.problems.length > 50) lines.push(`  … ${report.problems.length - 50} more in the JSON`);
  }
  if (report.outputDir !== undefined)
    lines.push(
      `output kept in ${report.outputDir}${report.diskFull.tmpfsBytes === undefined ? '' : ' (a tmpfs: umount it when done)'}, connector log ${report.connectorLog}`,
    );
  return lines.join('\n');
}
