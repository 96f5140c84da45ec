import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SIMULATOR_ERROR_CODES } from '../../packages/rtms-simulator/src/simulatorErrors.ts';
import { ERROR_CODES } from '../../src/errors.ts';
import { HTTP_ANSWER_CODES } from '../../src/http/jsonResponse.ts';

const ROOT = join(import.meta.dirname, '../..');

function sources(dir: string): Map<string, string> {
  const files = new Map<string, string>();
  for (const entry of readdirSync(join(ROOT, dir), { recursive: true, encoding: 'utf8' })) {
    if (entry.endsWith('.ts')) files.set(join(dir, entry), readFileSync(join(ROOT, dir, entry), 'utf8'));
  }
  return files;
}

/** The source with the lists of codes themselves cut out, so that a code counts only where it is raised. */
function withoutLists(files: Map<string, string>): string[] {
  return [...files.entries()].filter(([path]) => !path.endsWith('metricLabels.ts')).map(([, text]) => text.replace(/_CODES = \[[^\]]*\]/g, ''));
}

const documented = [...readFileSync(join(ROOT, 'docs/errors.md'), 'utf8').matchAll(/^\| `([A-Z_]+)` \|/gm)].map((match) => match[1]);

describe('error codes', () => {
  it('docs/errors.md lists exactly the codes of the source, each once', () => {
    const inSource = [...ERROR_CODES, ...HTTP_ANSWER_CODES, ...SIMULATOR_ERROR_CODES];
    expect(new Set(documented)).toEqual(new Set(inSource));
    expect(documented).toHaveLength(new Set(documented).size);
    expect(inSource).toHaveLength(new Set(inSource).size);
  });

  it('every code is raised somewhere', () => {
    const connector = withoutLists(sources('src'));
    const simulator = withoutLists(sources('packages/rtms-simulator/src'));
    for (const code of [...ERROR_CODES, ...HTTP_ANSWER_CODES])
      expect(
        connector.some((text) => text.includes(`'${code}'`)),
        code,
      ).toBe(true);
    for (const code of SIMULATOR_ERROR_CODES)
      expect(
        simulator.some((text) => text.includes(`'${code}'`)),
        code,
      ).toBe(true);
  });

  it('the connector has one error base: nothing but ConnectorError extends Error directly', () => {
    const direct = [...sources('src').entries()].filter(([, text]) => /extends Error\b/.test(text)).map(([path]) => path);
    expect(direct).toEqual([join('src', 'errors.ts')]);
  });
});
