import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const SCANNED = [
  'src',
  'test',
  'bench',
  'demo',
  'examples',
  'scripts',
  'packages/rtms-simulator/src',
  'packages/rtms-simulator/test',
  'packages/rtms-simulator/scripts',
];
const CODE = /\.(ts|js|sh)$/;
/** `docs/output.md`, `../../docs/metrics.md`, `README.md#anchor`: any Markdown file a comment names. */
const MARKDOWN = /(?:\.\.\/|[\w-]+\/)*[\w.-]+\.md\b/g;

function* codeFiles(directory: string): Generator<string> {
  if (!existsSync(directory)) return;
  for (const entry of readdirSync(directory, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name === 'fixtures') continue;
    const path = join(directory, entry.name);
    if (entry.isDirectory()) yield* codeFiles(path);
    else if (CODE.test(entry.name)) yield path;
  }
}

/** Where a citation can point: beside the file, from the repository root, or from the file's package root. */
function resolves(file: string, cited: string): boolean {
  const packageRoot = relative(ROOT, file).startsWith('packages/') ? join(ROOT, ...relative(ROOT, file).split('/').slice(0, 2)) : ROOT;
  return [join(dirname(file), cited), join(ROOT, cited), join(packageRoot, cited)].some((path) => existsSync(path));
}

describe('documents cited in code', () => {
  it('every Markdown file a source, test, bench or script comment names exists in the repository', () => {
    const missing: string[] = [];
    let citations = 0;
    for (const directory of SCANNED) {
      for (const file of codeFiles(join(ROOT, directory))) {
        for (const cited of readFileSync(file, 'utf8').match(MARKDOWN) ?? []) {
          citations += 1;
          if (!resolves(file, cited)) missing.push(`${relative(ROOT, file)}: ${cited}`);
        }
      }
    }
    expect(citations).toBeGreaterThan(50);
    expect(missing).toEqual([]);
  });
});
