import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { streamDirectory } from '../../../src/sinks/streamDirectory.ts';
import { startSimulator, type SimulatedStream, type Simulator } from 'rtms-simulator';
import { startRig, untilAudioSent, waitUntilEnded, type Rig } from '../connectorHarness.ts';
import { RedisServer } from '../redisServer.ts';
import {
  dataPanels,
  exposedFamilies,
  familyOf,
  loadDashboard,
  sections,
  substituteVariables,
  variableQuery,
  vectorSelectors,
  type DashboardPanel,
} from '../../unit/ops/dashboardModel.ts';
import { PrometheusServer, promtool } from './prometheusServer.ts';
import { S3TestServer, s3TestEnv } from '../../support/s3Server.ts';
import { eventually } from '../../support/eventually.ts';

/**
 * The Grafana dashboard proven against a real Prometheus scraping two connector processes
 * every second as one job: a single-instance connector running streams of every product
 * through the simulator (an interrupt, a media drop, a failing sink, an admission rejection,
 * forged and duplicate webhooks, Zoom concurrency webhooks, a stopped stream), and one with
 * REDIS_URL (Redis stream output) running a meeting. Every panel query, with Grafana's
 * variables substituted, must be valid and return data; the `rtms_*` names in the dashboard
 * and on `/metrics` must match both ways; `promtool check metrics` must accept live scrapes.
 */

const JOB = 'rtms-connector';
const dashboard = loadDashboard();

let redis: RedisServer | undefined;
/** The S3-compatible store the single-instance connector uploads its output to (object storage row). */
let s3: Awaited<ReturnType<typeof S3TestServer.create>> | undefined;
/** The single-instance connector that runs the full scenario. */
let rig: Rig | undefined;
/** A connector with REDIS_URL: the Redis output row. */
let redisRig: Rig | undefined;
let zoom: Simulator | undefined;
let prometheus: PrometheusServer | undefined;
let instance = '';
let redisInstance = '';
/** Unix seconds of the last scrape before the checks. */
let evaluationTime = 0;

async function scrape(target: Rig = rig!): Promise<string> {
  const response = await fetch(`${target.connector.baseUrl}/metrics`);
  expect(response.status).toBe(200);
  return response.text();
}

/** Polls `/metrics` until a sample whose line starts with `prefix` has a value satisfying `predicate`. */
async function untilSample(prefix: string, predicate: (value: number) => boolean, what: string, target: Rig = rig!, timeoutMs = 25_000): Promise<void> {
  await eventually(
    async () => (await scrape(target)).split('\n').some((line) => line.startsWith(prefix) && predicate(Number(line.slice(line.lastIndexOf(' ') + 1)))),
    { what: `a sample ${prefix}… ${what} on /metrics`, timeoutMs, intervalMs: 100 },
  );
}

/** Until a sample starting with `prefix` is above 0: the event it counts has happened. */
function untilCounted(prefix: string, target: Rig = rig!): Promise<void> {
  return untilSample(prefix, (value) => value > 0, 'above 0', target);
}

/** Zoom has the client ready and the connector has every media socket joined. */
async function untilLive(rig: Rig, stream: SimulatedStream): Promise<void> {
  await stream.whenReady();
  await rig.connector.waitForStream(stream.rtmsStreamId, (snapshot) => snapshot['state'] === 'live');
}

async function startTraffic(rig: Rig, zoom: Simulator): Promise<void> {
  // Every product; fast keep-alives (simulator option) so keep-alive ages are observed.
  const [meeting, webinar, session, call] = await Promise.all([
    zoom.startStream({ product: 'meeting', participants: 3 }),
    zoom.startStream({ product: 'webinar', participants: 2 }),
    zoom.startStream({ product: 'session', participants: 2 }),
    zoom.startStream({ product: 'contact_center' }),
  ]);
  const streams: SimulatedStream[] = [meeting, webinar, session, call];
  await Promise.all(streams.map((stream) => untilLive(rig, stream)));

  // A sink that cannot write: a plain file where the stream directory must go. The stream
  // keeps running; its frames wait for retries, are shed as sink_error, and the error is counted by code.
  const brokenId = randomBytes(16).toString('hex');
  const brokenDir = streamDirectory(rig.outputDir, brokenId);
  await mkdir(dirname(brokenDir), { recursive: true });
  await writeFile(brokenDir, 'not a directory');
  const broken = await zoom.startStream({ product: 'meeting', rtmsStreamId: brokenId, participants: 2 });
  await untilLive(rig, broken);

  // MAX_STREAMS is 5: the sixth stream is rejected at admission.
  const refused = await zoom.startStream({ product: 'webinar' });
  await rig.connector.waitForStream(refused.rtmsStreamId, (snapshot) => snapshot['state'] === 'rejected');

  // Reconnects: a full rejoin after rtms_interrupted, a media-only rejoin after a media drop.
  await meeting.interrupt();
  await meeting.whenReady(2);
  await untilCounted('rtms_reconnect_gap_seconds_count{scope="full"}');
  await webinar.dropMedia();
  await untilCounted('rtms_reconnects_total{scope="media"');
  await untilCounted('rtms_reconnect_gap_seconds_count{scope="media"}');

  // Webhooks: forged (wrong secret), stale, duplicate (Zoom's retry), Zoom account concurrency.
  const forgedBody = {
    event: 'meeting.rtms_started',
    event_ts: Date.now(),
    payload: { meeting_uuid: 'forged==', operator_id: 'x', rtms_stream_id: 'f0'.repeat(16), server_urls: zoom.signalingUrl },
  };
  expect((await zoom.sendWebhook(forgedBody, { secretToken: 'not-the-secret-token' })).status).toBe(401);
  expect((await zoom.sendWebhook(forgedBody, { timestamp: String(Math.floor(Date.now() / 1000) - 3600) })).status).toBe(401);
  expect((await session.resendStart()).status).toBe(200);
  const nearLimit = { event: 'rtms.concurrency_near_limit', event_ts: Date.now(), payload: { concurrency_limit: 20, concurrency_number: 18, percentage: 90 } };
  expect((await zoom.sendWebhook(nearLimit)).status).toBe(200);
  const limited = {
    event: 'rtms.concurrency_limited',
    event_ts: Date.now(),
    payload: { operator_id: 'op', concurrency_number: 20, id_field: { meeting_uuid: 'limited==' } },
  };
  expect((await zoom.sendWebhook(limited)).status).toBe(200);

  // Transcripts and chat flowing, then one stream stopped by Zoom.
  await untilAudioSent(meeting, 64_000, { transcripts: 2, timeoutMs: 20_000 });
  await session.stop();
  await waitUntilEnded(rig, session);
  await untilCounted('rtms_sink_write_errors_total{');
  await untilCounted('rtms_frames_dropped_total{');
  // The object storage row: the streams' files stored as parts while they run.
  await untilCounted('rtms_object_store_uploaded_bytes_total{kind="part"}');
  await untilCounted('rtms_keepalive_age_seconds_count{');
}

/** A meeting on the connector with REDIS_URL: entries appended, consumer lag measured (every 10 s). */
async function startRedisTraffic(target: Rig): Promise<void> {
  const stream = await target.simulator.startStream({ product: 'meeting', participants: 2 });
  await untilLive(target, stream);
  await untilCounted('rtms_redis_stream_entries_total{', target);
  await untilSample('rtms_redis_consumer_lag_entries{', (value) => value >= 0, 'set', target);
}

/** Grafana's rendering of a multi-value selection: a regex alternation of escaped values. */
function multiValue(values: readonly string[]): string {
  const escaped = values.map((value) => value.replace(/[.*+?^${}()|[\]\\]/g, (char) => `\\\\${char}`));
  return escaped.length === 1 ? escaped[0]! : `(${escaped.join('|')})`;
}

const redisRow = new Set(sections(dashboard).find((section) => section.title === 'Redis output')?.panels ?? []);

/**
 * Evaluates every panel with `instanceValue` for `$instance`; `needsData(panel)` says which
 * panels must return at least one series with a finite value. Returns the problems found.
 */
async function checkPanels(instanceValue: string, needsData: (panel: DashboardPanel) => boolean): Promise<string[]> {
  const values = {
    job: JOB,
    instance: instanceValue,
    datasource: 'prometheus',
    // Wide enough to hold the whole run, so early events (the first handshakes) count too.
    __rate_interval: '5m',
    __interval: '15s',
    __interval_ms: '15000',
    __range: '5m',
    __range_s: '300',
  };
  const problems: string[] = [];
  for (const panel of dataPanels(dashboard)) {
    let finite = 0;
    for (const target of panel.targets ?? []) {
      const expr = substituteVariables(target.expr, values);
      const where = `panel "${panel.title}" target ${target.refId}`;
      if (expr.includes('$')) {
        problems.push(`${where}: unsubstituted variable in ${expr}`);
        continue;
      }
      try {
        const result = await prometheus!.query(expr, evaluationTime);
        if (result.length === 0 && needsData(panel)) problems.push(`${where}: no series for ${expr}`);
        finite += result.filter((sample) => Number.isFinite(Number(sample.value[1]))).length;
      } catch (error) {
        problems.push(`${where}: invalid query ${expr}: ${String(error)}`);
      }
    }
    if (needsData(panel) && finite === 0) problems.push(`panel "${panel.title}": no finite value in any series`);
  }
  return problems;
}

beforeAll(async () => {
  redis = await RedisServer.start();
  s3 = await S3TestServer.create('dashboard');
  const objectStore = { ...s3TestEnv(s3, 's3://dashboard/rtms'), OBJECT_STORE_PART_INTERVAL_MS: '500', OBJECT_STORE_SCAN_INTERVAL_MS: '200' };
  [rig, redisRig] = await Promise.all([
    startRig({ MAX_STREAMS: '5', STATS_INTERVAL_MS: '200', ...objectStore }),
    startRig({ STATS_INTERVAL_MS: '200', REDIS_URL: redis.url }),
  ]);
  instance = `127.0.0.1:${rig.connector.port}`;
  redisInstance = `127.0.0.1:${redisRig.connector.port}`;
  prometheus = await PrometheusServer.start({ targets: [instance, redisInstance], job: JOB });
  // Traffic starts after the first scrapes, so Prometheus sees every counter move.
  await prometheus.waitFor(`count(up{job="${JOB}"} == 1)`, (value) => value === 2, 'a first successful scrape of both');
  zoom = await startSimulator({
    credentials: rig.credentials,
    webhookUrl: rig.connector.webhookUrl,
    seed: 41,
    keepAliveIntervalMs: 1000,
    reconnectGraceMs: 20_000,
  });
  await Promise.all([startTraffic(rig, zoom), startRedisTraffic(redisRig)]);
  // Several scrapes after the last event, so rates over the window see it.
  const trafficDone = Date.now() / 1000;
  await prometheus.waitFor(`min(sum_over_time(up{job="${JOB}"}[5m]))`, (value) => value >= 5, 'five successful scrapes of each');
  // Queries are evaluated at the time of a successful scrape of both, so a late scrape on a
  // busy machine (a staleness marker) cannot make a series vanish.
  evaluationTime = await prometheus.waitFor(
    `min(timestamp(rtms_build_info{job="${JOB}"})) and on() count(rtms_build_info{job="${JOB}"}) == 2`,
    (value) => value > trafficDone + 3,
    'three scrapes of both after the traffic',
  );
}, 120_000);

afterAll(async () => {
  // Each step runs even if an earlier one failed, so nothing is left running.
  await Promise.allSettled([zoom?.close(), prometheus?.stop()]);
  await Promise.allSettled([rig?.close(), redisRig?.close()]);
  await redis?.stop();
  await s3?.dispose();
}, 60_000);

describe('Grafana dashboard against a real Prometheus', () => {
  it('every target is up and the job / instance variables list what Prometheus scrapes', async () => {
    const up = await prometheus!.query(`up{job="${JOB}"}`, evaluationTime);
    const byInstance = (a: string[], b: string[]): number => a[0]!.localeCompare(b[0]!);
    expect(up.map((sample) => [sample.metric['instance']!, sample.value[1]]).sort(byInstance)).toEqual(
      [
        [instance, '1'],
        [redisInstance, '1'],
      ].sort(byInstance),
    );
    const variables = new Map(dashboard.templating.list.map((variable) => [variable.name, variable]));
    // Grafana's label_values(metric, label) is the label-values API with a match[] selector.
    const jobQuery = /^label_values\((.+), (\w+)\)$/.exec(variableQuery(variables.get('job')!));
    expect(jobQuery).not.toBeNull();
    expect(await prometheus!.labelValues(jobQuery![2]!, jobQuery![1]!)).toEqual([JOB]);
    const instanceQuery = /^label_values\((.+), (\w+)\)$/.exec(variableQuery(variables.get('instance')!));
    expect(instanceQuery).not.toBeNull();
    const instances = await prometheus!.labelValues(instanceQuery![2]!, substituteVariables(instanceQuery![1]!, { job: JOB }));
    expect(instances.sort()).toEqual([instance, redisInstance].sort());
  });

  it('every panel query is valid and returns data for all instances ($instance = All)', async () => {
    expect(await checkPanels('.*', () => true)).toEqual([]);
  });

  it('every panel query is valid and returns data for both instances selected by name', async () => {
    expect(await checkPanels(multiValue([instance, redisInstance]), () => true)).toEqual([]);
  });

  it('the single-instance connector alone fills every panel but the Redis output row', async () => {
    expect(await checkPanels(multiValue([instance]), (panel) => !redisRow.has(panel))).toEqual([]);
  });

  it('the connector with REDIS_URL alone fills the Redis output row', async () => {
    expect(redisRow.size).toBeGreaterThan(0);
    expect(await checkPanels(multiValue([redisInstance]), (panel) => redisRow.has(panel))).toEqual([]);
  });

  it('charts every rtms_* family /metrics exposes, and nothing else', async () => {
    const families = new Map([...exposedFamilies(await scrape(rig)), ...exposedFamilies(await scrape(redisRig))]);
    const exposed = [...families.keys()].filter((name) => name.startsWith('rtms_')).sort();
    const charted = new Set<string>();
    const unknown = new Set<string>();
    for (const panel of dataPanels(dashboard)) {
      for (const target of panel.targets ?? []) {
        for (const { name } of vectorSelectors(target.expr)) {
          const family = familyOf(name, families);
          if (family.startsWith('rtms_')) charted.add(family);
          if (!families.has(family)) unknown.add(`${panel.title}: ${name}`);
        }
      }
    }
    expect({ uncharted: exposed.filter((name) => !charted.has(name)) }).toEqual({ uncharted: [] });
    expect({ notExposed: [...unknown].sort() }).toEqual({ notExposed: [] });
    expect([...charted].sort()).toEqual(exposed);
  });

  it('promtool check metrics accepts live scrapes of both connectors', async () => {
    for (const target of [rig!, redisRig!]) {
      const exposition = await scrape(target);
      // Scrapes with data from every part of the connector, worker histograms included.
      expect(exposition).toMatch(/^rtms_frame_latency_seconds_bucket\{/m);
      expect(exposition).toMatch(/^process_cpu_seconds_total /m);
      expect(await promtool(['check', 'metrics'], exposition)).toEqual({ code: 0, output: '' });
    }
  });

  it("promtool accepts the example stack's Prometheus config", async () => {
    const config = fileURLToPath(new URL('../../../deploy/prometheus.yml', import.meta.url));
    const result = await promtool(['check', 'config', config]);
    expect(result.code, result.output).toBe(0);
  });
});
