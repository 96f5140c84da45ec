/**
 * `node scripts/imageRun.ts <image>` (from scripts/imageCheck.sh): runs the built image for
 * real against the Zoom simulator on this host and checks what an operator relies on. The
 * image holds production dependencies and compiled code only (no dev dependencies, no
 * simulator or demo); the container answers /readyz, becomes `healthy` by its HEALTHCHECK,
 * runs as uid 1000 with Node as PID 1, writes live streams to its named volume; `docker stop`
 * with streams live exits 0 well within the stop timeout, every stream closed through Zoom,
 * its WAV byte-identical to the audio sent, its files final. Exits 1 on the first failure.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import type { Credentials } from '../src/config.ts';
import { readWavData } from '../test/support/wavReader.ts';
import { fileSafeId } from '../src/sinks/fileSafeId.ts';
import { streamDirectory } from '../src/sinks/streamDirectory.ts';
import { startSimulator, type SimulatedStream, type Simulator } from 'rtms-simulator';

const run = promisify(execFile);

/** docker stop's timeout: docs/docker.md's `--stop-timeout 30`, above SHUTDOWN_GRACE_MS (25 s). */
const STOP_TIMEOUT_S = 30;
const STREAMS = 2;
/** Audio each stream has sent before the checks: 3 s of 16 kHz 16-bit mono. */
const AUDIO_BYTES_BEFORE_STOP = 3 * 16_000 * 2;
/** The production dependencies' top-level packages must be here, the dev ones must not. */
const APP = '/app';

class CheckFailed extends Error {}

function check(condition: boolean, what: string): asserts condition {
  if (!condition) throw new CheckFailed(what);
}

async function docker(...args: string[]): Promise<string> {
  const { stdout } = await run('docker', args, { maxBuffer: 64 * 1024 * 1024 });
  return stdout.trim();
}

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    await sleep(250);
  }
  throw new CheckFailed(`${what}: not within ${timeoutMs / 1000} s`);
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });
}

const started = Date.now();
const elapsed = (): string => `${((Date.now() - started) / 1000).toFixed(1)} s`;
const report = (line: string): void => void process.stdout.write(`image-run: ${line} (${elapsed()})\n`);

/** What the image holds, read inside it with its own Node. */
interface ImageContents {
  readonly uid: number;
  readonly app: string[];
  readonly dist: string[];
  readonly installed: string[];
  /** Every path under /app (outside third-party packages) naming the stand-in or the demo. */
  readonly standIn: string[];
}

const INSPECT_SCRIPT = `
const fs = require('node:fs');
const lock = JSON.parse(fs.readFileSync('node_modules/.package-lock.json', 'utf8'));
console.log(JSON.stringify({
  uid: process.getuid(),
  app: fs.readdirSync('.'),
  dist: fs.readdirSync('dist'),
  installed: Object.keys(lock.packages).filter((path) => path !== ''),
  standIn: fs
    .readdirSync('.', { recursive: true })
    .filter((path) => !path.startsWith('node_modules/') || path.startsWith('node_modules/rtms-simulator'))
    .filter((path) => /(^|\\/)(rtms-simulator|simulator|demo)(\\/|$)|simulatedStream|demoMain/.test(path)),
}));`;

async function checkContents(image: string): Promise<void> {
  const config = JSON.parse(await docker('image', 'inspect', '--format', '{{json .Config}}', image)) as {
    User: string;
    Healthcheck?: { Test: string[] };
    WorkingDir: string;
  };
  check(config.User === 'node', `image USER is "${config.User}", expected node`);
  check(config.Healthcheck !== undefined && config.Healthcheck.Test[0] === 'CMD', 'image has an exec-form HEALTHCHECK');
  check(config.WorkingDir === APP, `WORKDIR ${config.WorkingDir}, expected ${APP}`);
  const contents = JSON.parse(await docker('run', '--rm', '--network', 'none', image, 'node', '-e', INSPECT_SCRIPT)) as ImageContents;
  check(contents.uid === 1000, `processes run as uid ${contents.uid}, expected 1000`);
  check(JSON.stringify(contents.app.sort()) === JSON.stringify(['dist', 'node_modules', 'package.json']), `${APP} holds ${contents.app.join(', ')}`);
  for (const standIn of ['simulator', 'demo']) check(!contents.dist.includes(standIn), `dist/${standIn} is in the image`);
  check(contents.standIn.length === 0, `stand-in or demo code in the image: ${contents.standIn.join(', ')}`);
  check(contents.dist.includes('main.js'), 'dist/main.js is in the image');

  // The project's lockfile says which packages are dev-only.
  const lock = JSON.parse(await readFile('package-lock.json', 'utf8')) as {
    packages: Record<string, LockEntry>;
  };
  const installed = new Set(contents.installed);
  // Workspaces (packages/*, linked from node_modules) hold the stand-in: never in the image.
  const workspaces = Object.entries(lock.packages)
    .filter(([path, entry]) => path !== '' && (entry.link === true || !path.startsWith('node_modules/')))
    .map(([path]) => path);
  const shippedWorkspaces = workspaces.filter((path) => installed.has(path));
  check(shippedWorkspaces.length === 0, `workspaces in the image: ${shippedWorkspaces.join(', ')}`);
  const dev = Object.entries(lock.packages).filter(([path, entry]) => path !== '' && entry.dev === true);
  const shippedDev = dev.map(([path]) => path).filter((path) => installed.has(path));
  check(shippedDev.length === 0, `dev dependencies in the image: ${shippedDev.join(', ')}`);
  // What the connector needs: its own dependencies and theirs. The lockfile's `dev` flag is not
  // enough: a workspace's dependencies (the stand-in's TLS library) are not dev, yet only the
  // stand-in, left out of the image, uses them.
  const missing = [...productionClosure(lock.packages)].filter((path) => lock.packages[path]?.optional !== true && !installed.has(path));
  check(missing.length === 0, `production dependencies missing from the image: ${missing.join(', ')}`);
  report(
    `contents: USER node (uid 1000), ${APP} = dist, node_modules, package.json; ${installed.size} production packages, none of ${dev.length} dev packages; no stand-in or demo code (${workspaces.join(', ')} left out)`,
  );
}

async function main(image: string): Promise<void> {
  await checkContents(image);

  const suffix = randomBytes(4).toString('hex');
  const name = `rtms-image-check-${suffix}`;
  const volume = `rtms-image-check-${suffix}`;
  const credentials: Credentials = {
    clientId: `client-${suffix}`,
    clientSecret: randomBytes(16).toString('hex'),
    webhookSecretToken: randomBytes(16).toString('hex'),
  };
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  let simulator: Simulator | undefined;
  try {
    await docker('volume', 'create', volume);
    // Host network: the container reaches the simulator on 127.0.0.1 as Zoom's servers would be
    // reached, and the simulator its webhook. The stand-in's signaling host is 127.0.0.1, hence
    // RTMS_ALLOWED_HOSTS=* (a setting that, where it does not exist, is ignored).
    await docker(
      'run',
      '--detach',
      '--name',
      name,
      '--network',
      'host',
      '--stop-timeout',
      String(STOP_TIMEOUT_S),
      '--volume',
      `${volume}:/data`,
      '--env',
      `PORT=${port}`,
      '--env',
      `ZM_RTMS_CLIENT=${credentials.clientId}`,
      '--env',
      `ZM_RTMS_SECRET=${credentials.clientSecret}`,
      '--env',
      `ZM_WEBHOOK_SECRET_TOKEN=${credentials.webhookSecretToken}`,
      '--env',
      'RTMS_ALLOWED_HOSTS=*',
      '--env',
      'WORKER_THREADS=2',
      image,
    );
    await until('GET /readyz answers 200', 30_000, async () => {
      const state = await docker('inspect', '--format', '{{.State.Status}}', name);
      if (state === 'exited') throw new CheckFailed(`container exited:\n${await docker('logs', name)}`);
      const response = await fetch(`${baseUrl}/readyz`);
      return response.status === 200 ? true : undefined;
    }).catch(async (error: unknown) => {
      if (error instanceof CheckFailed && error.message.startsWith('container exited')) throw error;
      throw new CheckFailed(`${String(error)}\n${await docker('logs', name).catch(() => '')}`);
    });
    report(`container ${name} ready on ${baseUrl}`);

    simulator = await startSimulator({ credentials, webhookUrl: `${baseUrl}/webhook`, seed: 17 });
    const sim = simulator;
    const streams: SimulatedStream[] = await Promise.all(Array.from({ length: STREAMS }, () => sim.startStream({ product: 'meeting', participants: 2 })));
    await Promise.all(streams.map((stream) => stream.whenReady()));
    report(`${STREAMS} meetings joined by the container`);

    // The HEALTHCHECK's first probe runs one interval (30 s) after the start: streams stay live meanwhile.
    const health = await until('container healthy', 60_000, async () => {
      const status = await docker('inspect', '--format', '{{.State.Health.Status}}', name);
      if (status === 'unhealthy') throw new CheckFailed(`container unhealthy: ${await docker('inspect', '--format', '{{json .State.Health}}', name)}`);
      return status === 'healthy' ? status : undefined;
    });
    report(`HEALTHCHECK: ${health}`);

    const pid = Number(await docker('inspect', '--format', '{{.State.Pid}}', name));
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const uid = /^Uid:\s+(\d+)/m.exec(status)?.[1];
    check(uid === '1000', `the container's main process runs as uid ${uid}, expected 1000`);
    const pid1 = (await docker('exec', name, 'cat', '/proc/1/cmdline')).split('\0').filter((part) => part !== '');
    check(pid1[0] === 'node' && pid1[1] === 'dist/main.js', `PID 1 in the container is "${pid1.join(' ')}", expected node dist/main.js`);
    report('main process: uid 1000, PID 1 is `node dist/main.js`');

    await Promise.all(
      streams.map((stream) =>
        until(`${AUDIO_BYTES_BEFORE_STOP} audio bytes sent`, 30_000, async () => (stream.sent.audioBytes() >= AUDIO_BYTES_BEFORE_STOP ? true : undefined)),
      ),
    );
    const mountpoint = await docker('volume', 'inspect', '--format', '{{.Mountpoint}}', volume);
    for (const stream of streams) {
      const wav = await until(`audio.wav of ${stream.rtmsStreamId} growing in the volume`, 15_000, async () => {
        const data = await readWavData(join(streamDirectory(mountpoint, stream.rtmsStreamId), 'audio.wav'));
        return data.data.length > 0 ? data : undefined;
      });
      check(wav.sampleRateHz > 0, 'audio.wav has a sample rate');
    }
    const metrics = await (await fetch(`${baseUrl}/metrics`)).text();
    check(new RegExp(`^rtms_streams_active ${STREAMS}$`, 'm').test(metrics), `/metrics: rtms_streams_active is not ${STREAMS}`);
    report(`streams live, written to volume ${volume}, /metrics rtms_streams_active ${STREAMS}`);

    // docker stop with the streams live: SIGTERM, then SIGKILL after STOP_TIMEOUT_S.
    const stopStarted = Date.now();
    await docker('stop', '--time', String(STOP_TIMEOUT_S), name);
    const stopSeconds = (Date.now() - stopStarted) / 1000;
    const exit = JSON.parse(await docker('inspect', '--format', '{{json .State}}', name)) as { ExitCode: number; OOMKilled: boolean };
    check(exit.ExitCode === 0 && !exit.OOMKilled, `docker stop: exit code ${exit.ExitCode} (137: killed after the ${STOP_TIMEOUT_S} s timeout)`);
    check(stopSeconds < STOP_TIMEOUT_S, `docker stop took ${stopSeconds} s`);
    const ends = await Promise.all(streams.map((stream) => Promise.race([stream.whenEnded(), sleep(10_000, undefined, { ref: false })])));
    for (const [index, end] of ends.entries()) {
      check(
        end?.cause === 'closeRequest',
        `stream ${streams[index]!.rtmsStreamId} ended by ${end?.cause ?? 'nothing within 10 s'}, expected the connector's close request`,
      );
    }
    for (const stream of streams) {
      const dir = streamDirectory(mountpoint, stream.rtmsStreamId);
      const meta = JSON.parse(await readFile(join(dir, 'stream.json'), 'utf8')) as { state: string };
      check(meta.state === 'ended', `stream.json state ${meta.state}, expected ended`);
      for (const userId of stream.sent.audioUserIds()) {
        const file = userId === '0' ? 'audio.wav' : `audio-${fileSafeId(userId)}.wav`;
        const wav = await readWavData(join(dir, file));
        const sent = stream.sent.audio(userId);
        check(wav.data.equals(sent), `${file}: ${wav.data.length} bytes written, ${sent.length} sent, or different bytes`);
      }
    }
    report(
      `docker stop with ${STREAMS} live streams: exit 0 in ${stopSeconds.toFixed(2)} s (timeout ${STOP_TIMEOUT_S} s); streams closed through Zoom, stream.json ended, WAVs byte-identical to the audio sent`,
    );
  } catch (error) {
    // The connector's own account of what went wrong, before the container goes.
    const logs = await docker('logs', '--tail', '60', name).catch(() => '(no container logs)');
    process.stderr.write(`--- last lines of the container's log ---\n${logs}\n`);
    throw error;
  } finally {
    await simulator?.close().catch(() => undefined);
    await docker('rm', '--force', name).catch(() => '');
    await docker('volume', 'rm', '--force', volume).catch(() => '');
  }
}

const image = process.argv[2];
if (image === undefined) {
  process.stderr.write('usage: node scripts/imageRun.ts <image>\n');
  process.exit(2);
}
try {
  await main(image);
  report('all checks passed');
} catch (error) {
  process.stderr.write(`image-run: FAILED: ${error instanceof CheckFailed ? error.message : String((error as Error).stack ?? error)}\n`);
  process.exit(1);
}

interface LockEntry {
  dev?: boolean;
  optional?: boolean;
  link?: boolean;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}

/** Lockfile paths reachable from the root package's `dependencies`, resolved as Node does (nearest node_modules up the tree). */
function productionClosure(packages: Record<string, LockEntry>): Set<string> {
  const found = new Set<string>();
  const queue: { from: string; name: string }[] = Object.keys(packages['']?.dependencies ?? {}).map((name) => ({ from: '', name }));
  for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
    let base = next.from;
    let path: string | undefined;
    for (;;) {
      const candidate = `${base === '' ? '' : `${base}/`}node_modules/${next.name}`;
      if (packages[candidate] !== undefined) {
        path = candidate;
        break;
      }
      if (base === '') break;
      const parent = base.lastIndexOf('/node_modules/');
      base = parent < 0 ? '' : base.slice(0, parent);
    }
    if (path === undefined || found.has(path)) continue;
    found.add(path);
    const entry = packages[path];
    for (const name of Object.keys({ ...entry?.dependencies, ...entry?.optionalDependencies })) queue.push({ from: path, name });
  }
  return found;
}
