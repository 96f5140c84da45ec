/**
 * What one file call of the file sink costs in CPU (the whole process: the calling thread and
 * libuv's pool), made in place or through the thread pool, one call at a time:
 *
 *   node bench/perf/fsCallCost.ts [--calls 20000]     (or `npm run bench -- fscost`)
 *
 * The calls are the ones the file sink makes for each stream: the WAV header rewrite (44 bytes
 * at offset 0) and one flush of 16 kHz mono audio (32,000 bytes appended) every second, and
 * the atomic replacement of `stream.json` (temp file + rename) every five. The audio and
 * `stream.json` calls run a tenth as many times as `--calls`. Prints a table and writes JSON
 * to bench/results/fscost-<timestamp>.json. Nothing here passes or fails.
 */
import { writeSync } from 'node:fs';
import { mkdtemp, open, rename, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { writeBenchResult } from '../benchResult.ts';

const WARM_UP_CALLS = 500;

interface CallCost {
  readonly call: string;
  readonly cpuMicrosPerCall: number;
  readonly wallMicrosPerCall: number;
}

async function measure(call: string, calls: number, once: (index: number) => unknown): Promise<CallCost> {
  for (let i = 0; i < WARM_UP_CALLS; i++) await once(i);
  const cpuBefore = process.cpuUsage();
  const wallBefore = performance.now();
  for (let i = 0; i < calls; i++) await once(i);
  const cpu = process.cpuUsage(cpuBefore);
  const wallMs = performance.now() - wallBefore;
  return { call, cpuMicrosPerCall: (cpu.user + cpu.system) / calls, wallMicrosPerCall: (wallMs * 1000) / calls };
}

export async function fsCallCostMain(argv: readonly string[]): Promise<number> {
  const { values } = parseArgs({ args: [...argv], options: { calls: { type: 'string', default: '20000' }, help: { type: 'boolean', default: false } } });
  if (values.help) {
    process.stdout.write('Usage: node bench/perf/fsCallCost.ts [--calls N]   (or: npm run bench -- fscost [--calls N]; default 20000 calls of each kind)\n');
    return 0;
  }
  const calls = Number(values.calls);
  if (!Number.isInteger(calls) || calls < 1) {
    process.stderr.write(`--calls: expected a positive integer, got ${JSON.stringify(values.calls)}\n`);
    return 2;
  }
  const directory = await mkdtemp(join(tmpdir(), 'rtms-fscost-'));
  const results: CallCost[] = [];
  try {
    const handle = await open(join(directory, 'audio.wav'), 'w');
    const header = Buffer.alloc(44, 1);
    const audio = Buffer.alloc(32_000, 3);
    let end = 0;
    results.push(await measure('WAV header rewrite, thread pool', calls, () => handle.write(header, 0, header.length, 0)));
    results.push(await measure('WAV header rewrite, in place', calls, () => writeSync(handle.fd, header, 0, header.length, 0)));
    // Fewer of the larger calls: 2,000 seconds of audio is 64 MB of disk.
    const fewer = Math.ceil(calls / 10);
    results.push(await measure('1 s of audio appended, thread pool', fewer, () => handle.writev([audio], (end += audio.length))));
    results.push(await measure('1 s of audio appended, in place', fewer, () => writeSync(handle.fd, audio, 0, audio.length, (end += audio.length))));
    await handle.close();
    const document = `${JSON.stringify({ counters: Array.from({ length: 40 }, (_, i) => ({ i, written: i * 1000 })) }, null, 2)}\n`;
    const temp = join(directory, '.stream.json.tmp');
    results.push(
      await measure('stream.json replaced (temp + rename), thread pool', fewer, async () => {
        await writeFile(temp, document);
        await rename(temp, join(directory, 'stream.json'));
      }),
    );
  } finally {
    await rm(directory, { recursive: true, force: true });
  }

  const width = Math.max(...results.map((result) => result.call.length));
  process.stdout.write(`fs call cost: ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}, ${calls} calls each\n\n`);
  process.stdout.write(`${'call'.padEnd(width)}  CPU µs/call  wall µs/call\n`);
  for (const result of results) {
    process.stdout.write(
      `${result.call.padEnd(width)}  ${result.cpuMicrosPerCall.toFixed(1).padStart(11)}  ${result.wallMicrosPerCall.toFixed(1).padStart(12)}\n`,
    );
  }
  const file = await writeBenchResult('fscost', new Date(), {
    machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version },
    calls,
    results,
  });
  process.stdout.write(`\nJSON: ${file}\n`);
  return 0;
}

if (import.meta.main) {
  process.exitCode = await fsCallCostMain(process.argv.slice(2));
}
