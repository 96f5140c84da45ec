import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/** Seconds each test file took in a recorded full run (`npm run test:durations`), by path from the repository root. */
export const DURATIONS_FILE = new URL('../durations.json', import.meta.url);

export function readRecordedDurations(): Readonly<Record<string, number>> {
  try {
    return JSON.parse(readFileSync(DURATIONS_FILE, 'utf8')) as Record<string, number>;
  } catch {
    return {};
  }
}

/**
 * Starts the slowest test files first. Vitest's own order falls back to file size when it has
 * no results from an earlier run (a fresh clone, CI), which started a short file that runs a
 * 40 s stream last, alone, with three of four slots idle. Here each file's weight is its
 * recorded duration (test/durations.json); a file not recorded yet goes first, since it may be
 * long. Projects keep vitest's order.
 */
export default class DurationSequencer extends BaseSequencer {
  override sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const recorded = readRecordedDurations();
    const root = this.ctx.config.root;
    const weight = (spec: TestSpecification): number => recorded[relative(root, spec.moduleId)] ?? Number.MAX_VALUE;
    const project = (a: TestSpecification, b: TestSpecification): number =>
      a.project.config.sequence.groupOrder - b.project.config.sequence.groupOrder || a.project.name.localeCompare(b.project.name);
    return Promise.resolve([...files].sort((a, b) => project(a, b) || weight(b) - weight(a) || a.moduleId.localeCompare(b.moduleId)));
  }
}
