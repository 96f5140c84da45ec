import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { CREDENTIALS } from './helpers/harness.ts';
import { type Session, joinStream } from './helpers/rawRtmsClient.ts';
import { WebhookReceiver } from './helpers/webhookReceiver.ts';
import { type TempDir, tempDir } from '../../../../test/support/tempDir.ts';

const CLI = fileURLToPath(new URL('../../src/simulatorCli.ts', import.meta.url));

interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function runCli(args: readonly string[], env: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env: { PATH: process.env['PATH'] ?? '', ...env }, timeout: 60_000 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
      resolve({ code, stdout, stderr });
    });
  });
}

/** A stand-in connector: joins every announced stream with the raw test client, rejoining on interruption or failover. */
function autoJoin(receiver: WebhookReceiver, caFile?: string): Session[] {
  const sessions: Session[] = [];
  const known = new Map<string, { entityId: string; serverUrls: string }>();
  const join = (rtmsStreamId: string): void => {
    const stream = known.get(rtmsStreamId);
    if (stream === undefined) return;
    // The CA is read at join time: the CLI makes it when it starts, before the first webhook.
    const ca = caFile === undefined ? {} : { ca: readFileSync(caFile, 'utf8') };
    joinStream({ signalingUrl: stream.serverUrls, ...CREDENTIALS, rtmsStreamId, entityId: stream.entityId, ...ca })
      .then((session) => sessions.push(session))
      .catch(() => undefined); // bad-signature runs are refused on purpose
  };
  receiver.onEvent = (webhook) => {
    const payload = webhook.body.payload;
    const id = String(payload['rtms_stream_id']);
    if (webhook.body.event.endsWith('rtms_started')) {
      known.set(id, { entityId: String(payload['meeting_uuid']), serverUrls: String(payload['server_urls']) });
      join(id);
    } else if (webhook.body.event.endsWith('rtms_interrupted')) {
      join(id);
    }
  };
  return sessions;
}

let receiver: WebhookReceiver | undefined;
let sessions: Session[] = [];
afterEach(async () => {
  for (const session of sessions) session.signaling.terminate();
  sessions = [];
  await receiver?.close();
  receiver = undefined;
});

const credentialFlags = ['--client-id', CREDENTIALS.clientId, '--client-secret', CREDENTIALS.clientSecret, '--webhook-secret', CREDENTIALS.webhookSecretToken];

describe('npm run simulate', () => {
  it('exits 2 with one line on stderr for bad flags', async () => {
    const result = await runCli(['--webhook-url', 'http://127.0.0.1:9/webhook', '--streams', 'many']);
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toContain('--streams');
    const missing = await runCli([]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('--webhook-url is required');
  });

  it('exits 2 naming the variables when credentials are missing', async () => {
    const result = await runCli(['--webhook-url', 'http://127.0.0.1:9/webhook']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/ZM_RTMS_CLIENT/);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('runs streams against an endpoint, prints a summary and exits 0 when all ended', async () => {
    receiver = await WebhookReceiver.start(CREDENTIALS.webhookSecretToken);
    sessions = autoJoin(receiver);
    // Credentials from the environment this time.
    const result = await runCli(
      ['--webhook-url', receiver.url, '--streams', '2', '--duration', '1.5', '--seed', '3', '--scenario', 'interrupt', '--progress', '0.5'],
      {
        ZM_RTMS_CLIENT: CREDENTIALS.clientId,
        ZM_RTMS_SECRET: CREDENTIALS.clientSecret,
        ZM_WEBHOOK_SECRET_TOKEN: CREDENTIALS.webhookSecretToken,
      },
    );
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const rows = result.stdout
      .trim()
      .split('\n')
      .filter((line) => /^[0-9a-f]{32}\s/.test(line));
    expect(rows).toHaveLength(2);
    for (const row of rows) {
      expect(row).toContain('6 MEETING_ENDED');
      // Two signaling connections: the first join and the rejoin after the interruption.
      expect(row).toMatch(/meeting\s+2\s/);
    }
    // Progress while the streams run, totals at the end.
    expect(result.stdout).toMatch(/^simulator: \d+ s: 2 streams \([^)]*connected[^)]*\) · sent audio \d+ kB, video \d+ frames, transcripts \d+, chat \d+$/m);
    expect(result.stdout).toMatch(/^simulator: done after \d+ s: 2 streams \(2 ended\) · sent audio [1-9]\d* kB/m);
    expect(receiver.events('meeting.rtms_interrupted')).toHaveLength(2);
    expect(receiver.events('meeting.rtms_stopped')).toHaveLength(2);
  });

  it('--tls: serves wss:// and prints the CA file a client trusts', async () => {
    let dir: TempDir | undefined;
    try {
      dir = await tempDir('rtms-sim-cli-tls-');
      receiver = await WebhookReceiver.start(CREDENTIALS.webhookSecretToken);
      sessions = autoJoin(receiver, `${dir.path}/ca.pem`);
      const result = await runCli(['--webhook-url', receiver.url, '--tls-dir', dir.path, '--duration', '1', '--progress', '0', ...credentialFlags]);
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/^simulator: signaling wss:\/\/127\.0\.0\.1:\d+\/signaling, /m);
      expect(result.stdout).toContain(`simulator: TLS CA ${dir.path}/ca.pem (start the client with NODE_EXTRA_CA_CERTS=${dir.path}/ca.pem)`);
      expect(result.stdout).toContain('6 MEETING_ENDED');
      expect(sessions).toHaveLength(1);
      expect(sessions[0]?.collector.audio.size).toBeGreaterThan(0);
    } finally {
      await dir?.remove();
    }
  });

  it('bad-signature: the handshake is refused with 3 and the stream ends with 18', async () => {
    receiver = await WebhookReceiver.start(CREDENTIALS.webhookSecretToken);
    sessions = autoJoin(receiver);
    const result = await runCli(['--webhook-url', receiver.url, '--scenario', 'bad-signature', '--duration', '1', '--progress', '0.2', ...credentialFlags]);
    expect(result.code).toBe(0);
    // The progress line says what is going wrong before the stream ends.
    expect(result.stdout).toMatch(/^simulator: \d+ s: 1 stream \(.*\) · .* · [1-9]\d* handshakes refused \(check the client's credentials\)$/m);
    expect(result.stdout).toContain('18 AUTHENTICATION_FAILURE');
    expect(result.stdout).toContain('refused 3 INVALID_SIGNATURE');
  });

  it('forged-webhook: reports the status the endpoint answered', async () => {
    receiver = await WebhookReceiver.start(CREDENTIALS.webhookSecretToken);
    const result = await runCli(['--webhook-url', receiver.url, '--scenario', 'forged-webhook', ...credentialFlags]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('forged rtms_started -> HTTP 401 (rejected, as it should be)');
  });

  it('exits 1 when the endpoint fails URL validation', async () => {
    receiver = await WebhookReceiver.start('some-other-token');
    const result = await runCli(['--webhook-url', receiver.url, ...credentialFlags]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('endpoint.url_validation failed: HTTP 401');
  });
});
