import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config.ts';

/**
 * The Dockerfile checked against the project in a second, without an engine (CI also builds
 * and runs it: scripts/imageCheck.sh): every COPY source exists (and is not ignored) or is
 * produced by an earlier stage, the CMD runs what `npm run build` writes, the runtime runs as
 * a non-root user with production dependencies only, on the pinned Node release, and the
 * healthcheck, port and volume agree with the configuration.
 */

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const read = (path: string): string => readFileSync(`${ROOT}${path}`, 'utf8');

interface Instruction {
  readonly keyword: string;
  readonly args: string;
}

interface Stage {
  readonly image: string;
  readonly name: string | undefined;
  readonly instructions: Instruction[];
}

/** Splits a Dockerfile into stages of instructions (continuations joined, comments dropped). */
function parseDockerfile(text: string): Stage[] {
  const logical: string[] = [];
  let current = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (current === '' && (line === '' || line.startsWith('#'))) continue;
    if (line.startsWith('#')) continue; // comment inside a continuation
    if (line.endsWith('\\')) {
      current += `${line.slice(0, -1)} `;
      continue;
    }
    logical.push(`${current}${line}`.trim());
    current = '';
  }
  const stages: Stage[] = [];
  for (const line of logical) {
    const match = /^(\w+)\s*(.*)$/.exec(line);
    if (match === null) continue;
    const keyword = match[1]!.toUpperCase();
    const args = match[2]!;
    if (keyword === 'FROM') {
      const from = /^(?:--\S+\s+)*(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args);
      stages.push({ image: from?.[1] ?? args, name: from?.[2], instructions: [] });
    } else {
      stages.at(-1)?.instructions.push({ keyword, args });
    }
  }
  return stages;
}

/** `["a", "b"]` exec form → array; undefined for shell form. */
function execForm(args: string): string[] | undefined {
  if (!args.startsWith('[')) return undefined;
  return JSON.parse(args) as string[];
}

interface Copy {
  readonly from: string | undefined;
  readonly sources: string[];
  readonly destination: string;
}

function copies(stage: Stage): Copy[] {
  return stage.instructions
    .filter((instruction) => instruction.keyword === 'COPY')
    .map((instruction) => {
      const words = instruction.args.split(/\s+/);
      const flags = words.filter((word) => word.startsWith('--'));
      const paths = words.filter((word) => !word.startsWith('--'));
      const from = flags.find((flag) => flag.startsWith('--from='))?.slice('--from='.length);
      return { from, sources: paths.slice(0, -1), destination: paths.at(-1)! };
    });
}

/** WORKDIR in effect at each instruction index of a stage (absolute paths). */
function workdirAt(stage: Stage, index: number): string {
  let workdir = '/';
  for (const instruction of stage.instructions.slice(0, index + 1)) {
    if (instruction.keyword === 'WORKDIR') workdir = posix.resolve(workdir, instruction.args);
  }
  return workdir;
}

function resolveIn(stage: Stage, instruction: Instruction, path: string): string {
  return posix.resolve(workdirAt(stage, stage.instructions.indexOf(instruction)), path);
}

/** Minimal .dockerignore matching: a pattern matches a path or any of its parent folders. */
function ignoredBy(patterns: readonly string[], path: string): string | undefined {
  const parts = posix.normalize(path).replace(/^\.\//, '').split('/');
  for (const pattern of patterns) {
    const regex = new RegExp(
      `^${pattern
        .replace(/\/$/, '')
        .replace(/[.+^${}()|[\]\\]/g, '\\$&')
        .replace(/\*/g, '[^/]*')}$`,
    );
    for (let length = 1; length <= parts.length; length += 1) {
      if (regex.test(parts.slice(0, length).join('/'))) return pattern;
    }
  }
  return undefined;
}

const dockerfileText = read('Dockerfile');
const stages = parseDockerfile(dockerfileText);
const runtime = stages.at(-1)!;
const dockerignore = read('.dockerignore')
  .split('\n')
  .map((line) => line.trim())
  .filter((line) => line !== '' && !line.startsWith('#'));
const buildConfig = JSON.parse(read('tsconfig.build.json')) as { compilerOptions: { outDir: string; rootDir: string } };
const { outDir, rootDir } = buildConfig.compilerOptions;
const packageJson = JSON.parse(read('package.json')) as { scripts: Record<string, string>; main: string; devDependencies: Record<string, string> };

function instructions(stage: Stage, keyword: string): Instruction[] {
  return stage.instructions.filter((instruction) => instruction.keyword === keyword);
}

function runs(stage: Stage): string {
  return instructions(stage, 'RUN')
    .map((instruction) => instruction.args)
    .join('\n');
}

/** The stage that compiles (`npm run build`), and the one the runtime's node_modules come from. */
const build = stages.find((stage) => /\bnpm run build\b/.test(runs(stage)))!;
const depsName = copies(runtime).find((copy) => copy.from !== undefined && copy.sources.some((source) => /node_modules\/?$/.test(source)))?.from;
const deps = stages.find((stage) => stage.name !== undefined && stage.name === depsName);

describe('Dockerfile', () => {
  it('is multi-stage: the build stage compiles with all dependencies, the runtime gets production ones from a deps stage', () => {
    expect(stages.length).toBeGreaterThanOrEqual(3);
    expect(build).toBeDefined();
    expect(build.name).toBeDefined();
    expect(runs(build)).toMatch(/\bnpm ci\b/);
    expect(runs(build)).not.toMatch(/--omit=dev/);
    expect(packageJson.scripts['build']).toContain('tsconfig.build.json');
    // Production dependencies are installed once, in their own stage, and copied.
    expect(deps, 'runtime copies node_modules from a named stage').toBeDefined();
    expect(runs(deps!)).toMatch(/\bnpm ci\b[^\n]*--omit=dev/);
    expect(runs(deps!)).not.toMatch(/npm run build|\btsc\b/);
    expect(runs(runtime)).not.toMatch(/\bnpm\b|\btsc\b/);
  });

  it('every stage is the same slim image of the Node release package.json pins', () => {
    const nodeVersion = /^ARG NODE_VERSION=(\S+)$/m.exec(dockerfileText)?.[1];
    expect(nodeVersion).toBe(packageJson.devDependencies['node']);
    for (const stage of stages) expect(stage.image).toBe('node:${NODE_VERSION}-bookworm-slim');
  });

  it('leaves the Zoom stand-in and the demo out of the compiled output and the build context', () => {
    // src/ is the connector only: the stand-in is a workspace package, the demo sits at the root.
    const include = (JSON.parse(read('tsconfig.build.json')) as { include?: string[] }).include ?? [];
    expect(include).toEqual(['src']);
    expect(existsSync(`${ROOT}src/simulator`)).toBe(false);
    expect(existsSync(`${ROOT}src/demo`)).toBe(false);
    // tsc would compile anything outside src/ that shipped code imported.
    const importers: string[] = [];
    const walk = (dir: string): void => {
      for (const entry of readdirSync(`${ROOT}${dir}`, { withFileTypes: true })) {
        const path = `${dir}/${entry.name}`;
        if (entry.isDirectory()) walk(path);
        else if (path.endsWith('.ts') && /from '(rtms-simulator|[^']*\/(packages|demo|test|simulator)\/[^']*)'/.test(read(path))) importers.push(path);
      }
    };
    walk('src');
    expect(importers).toEqual([]);
    for (const path of ['packages', 'packages/rtms-simulator/src/simulator.ts', 'demo', 'test']) {
      expect({ path, ignored: ignoredBy(dockerignore, path) !== undefined }).toEqual({ path, ignored: true });
    }
  });

  it('copies only sources that exist in the build context and are not .dockerignored', () => {
    const problems: string[] = [];
    for (const stage of stages) {
      for (const copy of copies(stage).filter((entry) => entry.from === undefined)) {
        for (const source of copy.sources) {
          if (!existsSync(`${ROOT}${source}`)) problems.push(`COPY ${source}: not in the repository`);
          const pattern = ignoredBy(dockerignore, source);
          if (pattern !== undefined) problems.push(`COPY ${source}: excluded by .dockerignore pattern ${pattern}`);
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it('copies from the build stage only what the build produces (tsconfig.build.json outDir), from deps only node_modules', () => {
    const fromStages = copies(runtime).filter((copy) => copy.from !== undefined);
    expect(fromStages.map((copy) => copy.from).sort()).toEqual([build.name, deps!.name].sort());
    const buildOutput = posix.resolve(workdirAt(build, build.instructions.length - 1), outDir);
    const depsModules = posix.resolve(workdirAt(deps!, deps!.instructions.length - 1), 'node_modules');
    for (const copy of fromStages) {
      const expected = copy.from === build.name ? buildOutput : depsModules;
      for (const source of copy.sources) expect(posix.resolve(source)).toBe(expected);
    }
  });

  it('runs `node <entry>` in exec form, where the entry is src/main.ts compiled into the copied outDir', () => {
    const cmd = instructions(runtime, 'CMD').at(-1);
    expect(cmd).toBeDefined();
    const argv = execForm(cmd!.args);
    expect(argv, 'CMD must be exec form so SIGTERM reaches Node').toBeDefined();
    expect(argv![0]).toBe('node');
    expect(instructions(runtime, 'ENTRYPOINT')).toEqual([]);

    expect(existsSync(`${ROOT}src/main.ts`)).toBe(true);
    const compiled = posix.join(outDir, posix.relative(rootDir, 'src/main.ts')).replace(/\.ts$/, '.js');
    expect(argv![1]).toBe(compiled);
    expect(packageJson.main).toBe(compiled);
    expect(packageJson.scripts['start']).toBe(`node ${compiled}`);

    // The entry lies inside what was copied from the build stage, at the runtime's WORKDIR.
    const entry = resolveIn(runtime, cmd!, argv![1]!);
    const copied = instructions(runtime, 'COPY')
      .filter((instruction) => instruction.args.startsWith('--from='))
      .map((instruction) => resolveIn(runtime, instruction, copies({ ...runtime, instructions: [instruction] })[0]!.destination));
    expect(copied.some((destination) => entry.startsWith(`${destination}/`))).toBe(true);
    // dist/main.js reads ../package.json for its version.
    const packageJsonAt = instructions(runtime, 'COPY')
      .filter((instruction) => /(^|\s)package\.json(\s|$)/.test(instruction.args))
      .map((instruction) => {
        const { destination } = copies({ ...runtime, instructions: [instruction] })[0]!;
        const resolved = resolveIn(runtime, instruction, destination);
        return destination.endsWith('/') || destination === '.' ? posix.join(resolved, 'package.json') : resolved;
      });
    expect(packageJsonAt).toContain(posix.resolve(posix.dirname(entry), '../package.json'));
  });

  it('runs as a non-root user', () => {
    const user = instructions(runtime, 'USER').at(-1);
    expect(user).toBeDefined();
    const name = user!.args.split(':')[0]!;
    expect(['root', '0']).not.toContain(name);
    const userIndex = runtime.instructions.indexOf(user!);
    const cmdIndex = runtime.instructions.indexOf(instructions(runtime, 'CMD').at(-1)!);
    expect(userIndex).toBeLessThan(cmdIndex);
  });

  it('probes /healthz with node (no curl in slim images) and exposes the default PORT', () => {
    const healthcheck = instructions(runtime, 'HEALTHCHECK').at(-1);
    expect(healthcheck).toBeDefined();
    const probe = /\bCMD\s+(\[.*\])$/.exec(healthcheck!.args)?.[1];
    expect(probe, 'HEALTHCHECK CMD in exec form').toBeDefined();
    const argv = execForm(probe!)!;
    expect(argv[0]).toBe('node');
    expect(argv.join(' ')).toContain('/healthz');

    const config = loadConfig({ ZM_RTMS_CLIENT: 'id', ZM_RTMS_SECRET: 'secret', ZM_WEBHOOK_SECRET_TOKEN: 'token' });
    const exposed = instructions(runtime, 'EXPOSE').flatMap((instruction) => instruction.args.split(/\s+/));
    expect(exposed).toEqual([String(config.http.port)]);
  });

  it('declares OUTPUT_DIR as a volume', () => {
    const env = instructions(runtime, 'ENV')
      .map((instruction) => instruction.args)
      .join(' ');
    const outputDir = /\bOUTPUT_DIR=(\S+)/.exec(env)?.[1];
    expect(outputDir).toBe('/data');
    const volumes = instructions(runtime, 'VOLUME').flatMap((instruction) => execForm(instruction.args) ?? instruction.args.split(/\s+/));
    expect(volumes).toContain(outputDir);
  });
});

describe('.dockerignore', () => {
  it('keeps node_modules, build output and data out of the build context', () => {
    for (const path of ['node_modules', 'dist', 'data', 'demo-output', '.git']) {
      expect({ path, ignored: ignoredBy(dockerignore, path) !== undefined }).toEqual({ path, ignored: true });
    }
    expect(ignoredBy(dockerignore, 'node_modules/pino/package.json')).toBeDefined();
  });
});
