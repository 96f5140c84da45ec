import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);

describe('npm run demo', () => {
  it('runs a meeting and a Contact Center call end to end, prints the summary and exits 0', async () => {
    const outputDir = await mkdtemp(join(tmpdir(), 'rtms-demo-'));
    try {
      // Exactly what `npm run demo` runs; a non-zero exit rejects with the output attached.
      const { stdout } = await run(process.execPath, ['demo/demoMain.ts'], {
        env: { PATH: process.env['PATH'] ?? '', OUTPUT_DIR: outputDir },
        timeout: 60_000,
      });
      const rows = stdout.split('\n').filter((line) => /^(meeting|contact_center)\s/.test(line));
      expect(rows).toHaveLength(2);
      for (const row of rows) {
        const [, , state, , audioSeconds, identical, , , , ffprobe] = row.trim().split(/\s{2,}/);
        expect({ state, identical, ffprobe: ffprobe?.startsWith('ok') }).toEqual({ state: 'ended', identical: 'yes', ffprobe: true });
        expect(Number(audioSeconds)).toBeGreaterThanOrEqual(9);
      }
      // The meeting's synced recording: where it is and what ffprobe reads in it.
      expect(stdout).toMatch(
        /^recording: .*recording\.mkv\n {2}ffprobe: audio pcm_s16le 16000 Hz \(\d+ packets\) \+ video h264 \d+x\d+ \(\d+ packets\), \d+\.\d+ s$/m,
      );
      expect(stdout).toContain('demo passed');
    } finally {
      await rm(outputDir, { recursive: true, force: true });
    }
  }, 90_000);
});
