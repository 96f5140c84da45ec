/**
 * `npm run test:durations`: runs the whole suite once with vitest's JSON reporter and writes
 * each test file's duration, in seconds, to test/durations.json, which the suite's sequencer
 * uses to start the slowest files first (test/support/durationSequencer.ts). Record again after
 * adding a long test file or making one much shorter; a file missing from the record runs first.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DURATIONS_FILE } from '../test/support/durationSequencer.ts';

interface JsonReport {
  readonly success: boolean;
  readonly testResults: readonly { readonly name: string; readonly startTime: number; readonly endTime: number }[];
}

const root = fileURLToPath(new URL('..', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'rtms-durations-'));
try {
  const reportFile = join(work, 'report.json');
  const run = spawnSync('npx', ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${reportFile}`], { cwd: root, stdio: 'inherit' });
  const report = JSON.parse(readFileSync(reportFile, 'utf8')) as JsonReport;
  if (run.status !== 0 || !report.success) {
    process.stderr.write('test:durations: the suite failed; test/durations.json is left as it was\n');
    process.exitCode = 1;
  } else {
    const durations = Object.fromEntries(
      report.testResults
        .map((file) => [relative(root, file.name), Math.round((file.endTime - file.startTime) / 100) / 10] as const)
        .sort(([a], [b]) => a.localeCompare(b)),
    );
    writeFileSync(DURATIONS_FILE, `${JSON.stringify(durations, null, 2)}\n`);
    process.stdout.write(`test:durations: ${Object.keys(durations).length} files written to test/durations.json\n`);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
