/**
 * Self time per function from V8 `.cpuprofile` files (`node --cpu-prof`; every worker thread
 * writes its own file), optionally restricted to a window of the monotonic clock (the one
 * `process.hrtime` and V8's profile timestamps share on Linux), so the summary covers the
 * measured steady state and not start-up or shutdown.
 *
 *   node bench/perf/cpuProfileSummary.ts DIR [--top 20]
 */
import { readFile, readdir } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number; readonly columnNumber: number };
  readonly children?: readonly number[];
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly startTime: number;
  readonly endTime: number;
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

export interface FunctionSelfTime {
  /** `name (file:line)`, paths shortened to the repository or `node:` module. */
  readonly fn: string;
  readonly selfMs: number;
  /** Share of the profile's sampled time in the window, percent. */
  readonly percent: number;
}

export interface ProfileSummary {
  readonly file: string;
  /** Sampled time in the window, ms (idle included). */
  readonly sampledMs: number;
  /** Sampled time that was not `(idle)`, `(program)` or `(garbage collector)`, ms. */
  readonly busyMs: number;
  readonly gcMs: number;
  readonly top: readonly FunctionSelfTime[];
}

function shortUrl(url: string): string {
  if (url === '') return '';
  const src = url.indexOf('/src/');
  if (src >= 0) return url.slice(src + 1);
  const bench = url.indexOf('/bench/');
  if (bench >= 0) return url.slice(bench + 1);
  const modules = url.lastIndexOf('/node_modules/');
  if (modules >= 0) return url.slice(modules + '/node_modules/'.length);
  return url.replace(/^file:\/\//, '');
}

function label(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  const name = functionName === '' ? '(anonymous)' : functionName;
  const where = shortUrl(url);
  return where === '' ? name : `${name} (${where}:${lineNumber + 1})`;
}

/**
 * Summarises one profile. `windowUs`: [from, to] in the profile's clock (µs of
 * CLOCK_MONOTONIC); samples outside are ignored.
 */
export function summarizeProfile(file: string, profile: CpuProfile, top: number, windowUs?: readonly [number, number]): ProfileSummary {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map<string, number>();
  let sampled = 0;
  let idle = 0;
  let gc = 0;
  let at = profile.startTime;
  for (let i = 0; i < profile.samples.length; i += 1) {
    const delta = profile.timeDeltas[i] ?? 0;
    at += delta;
    if (windowUs !== undefined && (at < windowUs[0] || at > windowUs[1])) continue;
    // A sample's time is the gap to the next sample (the interval it represents).
    const next = profile.timeDeltas[i + 1] ?? delta;
    const node = byId.get(profile.samples[i] as number);
    if (node === undefined) continue;
    sampled += next;
    const name = node.callFrame.functionName;
    if (name === '(idle)' || name === '(program)') idle += next;
    if (name === '(garbage collector)') gc += next;
    const key = label(node);
    self.set(key, (self.get(key) ?? 0) + next);
  }
  const busy = sampled - idle;
  const ranked = [...self.entries()]
    .filter(([fn]) => !fn.startsWith('(idle)') && !fn.startsWith('(program)'))
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([fn, us]) => ({ fn, selfMs: Math.round(us / 100) / 10, percent: busy > 0 ? Math.round((us / busy) * 1000) / 10 : 0 }));
  return { file: basename(file), sampledMs: Math.round(sampled / 1000), busyMs: Math.round(busy / 1000), gcMs: Math.round(gc / 1000), top: ranked };
}

/** Summaries of every `.cpuprofile` in `dir`, busiest first. */
export async function summarizeProfileDir(dir: string, top = 20, windowUs?: readonly [number, number]): Promise<ProfileSummary[]> {
  const files = (await readdir(dir)).filter((name) => name.endsWith('.cpuprofile'));
  const summaries: ProfileSummary[] = [];
  for (const name of files) {
    const profile = JSON.parse(await readFile(join(dir, name), 'utf8')) as CpuProfile;
    summaries.push(summarizeProfile(name, profile, top, windowUs));
  }
  return summaries.sort((a, b) => b.busyMs - a.busyMs);
}

export function formatProfileSummaries(summaries: readonly ProfileSummary[]): string {
  const lines: string[] = [];
  for (const summary of summaries) {
    lines.push(`${summary.file}: ${summary.busyMs} ms busy of ${summary.sampledMs} ms sampled (GC ${summary.gcMs} ms)`);
    for (const entry of summary.top) lines.push(`  ${String(entry.percent).padStart(5)}%  ${String(entry.selfMs).padStart(9)} ms  ${entry.fn}`);
  }
  return lines.join('\n');
}

if (import.meta.main) {
  const { values, positionals } = parseArgs({ options: { top: { type: 'string', default: '20' } }, allowPositionals: true });
  const dir = positionals[0];
  if (dir === undefined) {
    process.stderr.write('usage: node bench/perf/cpuProfileSummary.ts DIR [--top 20]\n');
    process.exit(2);
  }
  process.stdout.write(`${formatProfileSummaries(await summarizeProfileDir(dir, Number(values.top)))}\n`);
}
