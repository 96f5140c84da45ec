import { describe, expect, it } from 'vitest';
import { formatChaosSoakReport } from '../../../bench/chaos/formatChaosSoakReport.ts';
import { runChaosSoak } from '../../../bench/chaos/runChaosSoak.ts';

/**
 * The chaos soak of bench/chaos/runChaosSoak.ts, short: 12 streams for 30 s against the real
 * connector process, with a fixed seed, and injections twice as dense as the benchmark's (16 per stream
 * and minute: about 100 in all). Same code, same checks as `npm run bench -- chaos` (50 streams
 * x 10 minutes), minus the RSS verdict, which needs at least 3 minutes. Output is on a tmpfs
 * the soak mounts (root) and fills once for a few seconds (a disk-full window).
 */
describe('chaos soak, short', () => {
  it('12 streams x 30 s under seeded chaos: every frame accounted, sent = received, audio identical, every stream ended', { timeout: 240_000 }, async () => {
    const report = await runChaosSoak({
      streams: 12,
      durationMs: 30_000,
      seed: 20_261_122,
      ratePerMinute: 16,
      verifyAudio: true,
      startSpreadMs: 3000,
    });
    const summary = formatChaosSoakReport(report);
    console.log(summary);
    // The table is the first thing to read when this fails.
    expect(report.problems, summary).toEqual([]);
    expect(report.verdicts, summary).toMatchObject({
      unaccountedZero: 'pass',
      sentEqualsReceived: 'pass',
      streamsEnded: 'pass',
      noDuplicateSignaling: 'pass',
      audioIdentical: 'pass',
      filesValid: 'pass',
      ok: true,
    });
    expect(report.streamStates).toEqual({ ended: 12 });
    for (const kind of Object.values(report.frames)) {
      expect(kind.unaccounted).toBe(0);
      expect(kind.unexplained).toBe(0);
    }
    // Chaos did happen, of many kinds, and the connector had to work for it.
    const appliedKinds = Object.entries(report.chaos.applied)
      .filter(([, count]) => count > 0)
      .map(([kind]) => kind);
    expect(appliedKinds.length, summary).toBeGreaterThanOrEqual(8);
    expect(report.reconnects.total, summary).toBeGreaterThan(0);
    // The disk did get full, and the connector's writes did fail on it.
    expect(report.diskFull.count, summary).toBe(1);
    expect(report.diskFull.streamsThatHitEnospc, summary).toBeGreaterThan(0);
    expect(report.diskFull.fileFailures, summary).toBeGreaterThan(0);
    expect(
      Object.values(report.frames).reduce((sum, kind) => sum + (kind.dropped['malformed'] ?? 0), 0),
      summary,
    ).toBeGreaterThan(0);
  });
});
