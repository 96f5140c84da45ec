import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { JsonLinesWriter } from '../../../src/media/jsonLinesWriter.ts';
import { tempDir } from './mediaTools.ts';

let dir: Awaited<ReturnType<typeof tempDir>>;
beforeEach(async () => {
  dir = await tempDir();
});
afterEach(async () => {
  await dir.remove();
});

describe('JsonLinesWriter', () => {
  it('writes one JSON object per line, serialized at append time', async () => {
    const path = join(dir.path, 'transcript.jsonl');
    const writer = new JsonLinesWriter({ path });
    const mutable = { text: 'first\nline with a newline', n: 1 };
    writer.append(mutable);
    mutable.n = 2; // later mutation must not leak into the queued line
    writer.append({ text: 'ünïcødé ✓', n: 3 });
    await writer.flush();
    writer.append({ text: '', n: 4 });
    await writer.close();
    const lines = (await readFile(path, 'utf8')).split('\n');
    expect(lines.at(-1)).toBe('');
    expect(lines.slice(0, -1).map((line) => JSON.parse(line) as unknown)).toEqual([
      { text: 'first\nline with a newline', n: 1 },
      { text: 'ünïcødé ✓', n: 3 },
      { text: '', n: 4 },
    ]);
    expect(writer.stats().recordsWritten).toBe(3);
    expect(writer.stats().bytesWritten).toBe(Buffer.byteLength(lines.join('\n')));
  });

  it('appends to an existing file across writers', async () => {
    const path = join(dir.path, 'events.jsonl');
    const first = new JsonLinesWriter({ path });
    first.append({ a: 1 });
    await first.close();
    const second = new JsonLinesWriter({ path });
    second.append({ a: 2 });
    second.append(undefined);
    await second.close();
    expect(await readFile(path, 'utf8')).toBe('{"a":1}\n{"a":2}\nnull\n');
  });
});
