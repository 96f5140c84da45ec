import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * The package's shape: it reaches into the connector through connectorShared.ts only (so the
 * shared wire vocabulary is one list), and each file stays one section of the stand-in.
 */

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));
const files = readdirSync(SRC).filter((name) => name.endsWith('.ts'));
const source = (name: string): string => readFileSync(`${SRC}${name}`, 'utf8');
const specifiers = (text: string): string[] => [...text.matchAll(/^(?:import|export)[^;]*?from '([^']+)';/gms)].map((match) => match[1]!);

describe('rtms-simulator package', () => {
  it('imports the connector only in connectorShared.ts', () => {
    const outside = files.flatMap((name) =>
      specifiers(source(name))
        .filter((specifier) => specifier.startsWith('../'))
        .map((specifier) => `${name}: ${specifier}`),
    );
    expect(outside.length).toBeGreaterThan(0);
    expect(outside.filter((entry) => !entry.startsWith('connectorShared.ts: '))).toEqual([]);
    // …and there only the protocol-level modules, never the connector's runtime.
    for (const entry of outside)
      expect(entry).toMatch(/: \.\.\/\.\.\/\.\.\/src\/(rtms\/(codes|products|signature)|media\/h264|vocabulary\/mediaKind|clock|config|errors)\.ts$/);
  });

  it('keeps every source file under 400 lines', () => {
    const long = files.map((name) => ({ name, lines: source(name).split('\n').length })).filter((file) => file.lines > 400);
    expect(files.length).toBeGreaterThan(20);
    expect(long).toEqual([]);
  });
});
