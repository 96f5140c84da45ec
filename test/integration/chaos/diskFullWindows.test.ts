import { rm, statfs, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DiskFullRunner, mountSoakDisk } from '../../../bench/diskFullWindows.ts';

/**
 * The chaos soak's disk-full window on a real tmpfs: while it lasts a write gets ENOSPC; when
 * it ends (here cut short by stop()) the ballast is gone and writes succeed again.
 */
describe('chaos soak disk-full window', () => {
  it('fills the tmpfs with a ballast file, then frees it, and records the window', async () => {
    const size = 32 * 2 ** 20;
    const disk = await mountSoakDisk(size);
    try {
      await writeFile(join(disk.path, 'before'), Buffer.alloc(2 ** 20, 1));
      const progress: string[] = [];
      const runner = new DiskFullRunner(disk, [{ atMs: 0, lengthMs: 60_000 }], Date.now(), (line) => progress.push(line));
      // Wait for the fault itself: a write that needs a page is refused. Each probe is a new
      // file: rewriting one would reuse the pages its truncation just freed.
      let code: string | undefined;
      let probes = 0;
      const giveUpAt = Date.now() + 20_000;
      while (code === undefined) {
        expect(Date.now(), 'no ENOSPC within 20 s').toBeLessThan(giveUpAt);
        await writeFile(join(disk.path, `probe-${probes++}`), Buffer.alloc(4096, 2)).catch((error: NodeJS.ErrnoException) => {
          code = error.code;
        });
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      expect(code).toBe('ENOSPC');
      for (let probe = 0; probe < probes; probe++) await rm(join(disk.path, `probe-${probe}`), { force: true });
      const windows = await runner.stop();
      expect(windows).toHaveLength(1);
      const [window] = windows;
      // The ballast took what the 1 MiB file left (the probe may have got a few pages first).
      expect(window!.ballastBytes).toBeGreaterThan(size - 2 * 2 ** 20);
      expect(window!.ballastBytes).toBeLessThanOrEqual(size - 2 ** 20);
      expect(progress.join('\n')).toContain('disk full at t=');
      await writeFile(join(disk.path, 'after'), Buffer.alloc(2 ** 20, 3));
      const fs = await statfs(disk.path);
      expect(fs.bavail * fs.bsize).toBeGreaterThan(size - 3 * 2 ** 20);
    } finally {
      await disk.unmount();
    }
  });
});
