import { describe, expect, it } from 'vitest';
import { ArgsError, parseSimulatorArgs } from '../../src/simulatorArgs.ts';
import { formatProgress } from '../../src/simulationProgress.ts';
import { formatSummaryTable } from '../../src/simulationRun.ts';

describe('parseSimulatorArgs', () => {
  it('applies defaults', () => {
    expect(parseSimulatorArgs(['--webhook-url', 'http://127.0.0.1:8080/webhook'])).toMatchObject({
      webhookUrl: 'http://127.0.0.1:8080/webhook',
      streams: 1,
      product: 'meeting',
      participants: undefined,
      durationMs: 10_000,
      scenario: 'normal',
      host: '127.0.0.1',
      port: 0,
      help: false,
      progressIntervalMs: 5000,
      webhookRetryScale: undefined,
    });
  });

  it('parses every flag', () => {
    const args = parseSimulatorArgs([
      '--webhook-url=http://h/w',
      '--streams',
      '5',
      '--product',
      'contact_center',
      '--participants',
      '2',
      '--duration',
      '2.5',
      '--scenario',
      'failover',
      '--keepalive-ms',
      '500',
      '--grace-ms',
      '3000',
      '--seed',
      '7',
      '--port',
      '9000',
      '--host',
      '::1',
      '--client-id',
      'a',
      '--client-secret',
      'b',
      '--webhook-secret',
      'c',
      '--verbose',
      '--progress',
      '0.5',
      '--webhook-retry-scale',
      '0.01',
    ]);
    expect(args).toMatchObject({
      streams: 5,
      product: 'contact_center',
      participants: 2,
      durationMs: 2500,
      scenario: 'failover',
      keepAliveIntervalMs: 500,
      reconnectGraceMs: 3000,
      seed: 7,
      port: 9000,
      host: '::1',
      clientId: 'a',
      clientSecret: 'b',
      webhookSecret: 'c',
      verbose: true,
      progressIntervalMs: 500,
      webhookRetryScale: 0.01,
    });
  });

  it.each([
    [[], /--webhook-url is required/],
    [['--webhook-url', 'ftp://x'], /--webhook-url: expected an http/],
    [['--webhook-url', 'http://x', '--streams', '0'], /--streams: expected an integer from 1/],
    [['--webhook-url', 'http://x', '--duration', '-1'], /--duration/],
    [['--webhook-url', 'http://x', '--scenario', 'chaos'], /--scenario: expected one of normal, stop/],
    [['--webhook-url', 'http://x', '--product', 'phone'], /--product/],
    [['--webhook-url', 'http://x', '--progress', 'often'], /--progress: expected seconds from 0/],
    [['--webhook-url', 'http://x', '--webhook-retry-scale', '2'], /--webhook-retry-scale: expected a number greater than 0 and at most 1/],
    [['--webhook-url', 'http://x', '--wat'], /Unknown option '--wat'/],
    [['--webhook-url', 'http://x', 'positional'], /positional/i],
  ])('%j -> one-line ArgsError', (argv, message) => {
    let caught: unknown;
    try {
      parseSimulatorArgs(argv);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ArgsError);
    expect((caught as Error).message).toMatch(message);
    expect((caught as Error).message).not.toContain('\n');
  });

  it('does not require a webhook URL for --help', () => {
    expect(parseSimulatorArgs(['-h']).help).toBe(true);
  });
});

describe('formatSummaryTable', () => {
  it('aligns a header and one row per stream', () => {
    const table = formatSummaryTable([
      {
        rtmsStreamId: 'abc',
        product: 'meeting',
        signalingConnections: 2,
        mediaConnections: 3,
        audioBytes: 320000,
        videoFrames: 50,
        transcriptLines: 4,
        chatMessages: 1,
        ended: '6 MEETING_ENDED',
        notes: '',
      },
    ]);
    const lines = table.split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^stream\s+product\s+signaling\s+media\s+audio bytes/);
    expect(lines[2]).toContain('320000');
    expect(lines[2]).toContain('6 MEETING_ENDED');
  });
});

describe('formatProgress', () => {
  it('names streams by state, what was sent, and refused handshakes only when there are some', () => {
    const progress = {
      elapsedMs: 12_400,
      streams: { announced: 0, connected: 2, interrupted: 1, ended: 0 },
      audioBytes: 1_152_000,
      videoFrames: 300,
      transcriptLines: 4,
      chatMessages: 1,
      refusedHandshakes: 0,
    };
    expect(formatProgress(progress)).toBe('12 s: 3 streams (2 connected, 1 interrupted) · sent audio 1152 kB, video 300 frames, transcripts 4, chat 1');
    expect(formatProgress({ ...progress, streams: { announced: 1, connected: 0, interrupted: 0, ended: 0 }, refusedHandshakes: 3 })).toBe(
      "12 s: 1 stream (1 announced) · sent audio 1152 kB, video 300 frames, transcripts 4, chat 1 · 3 handshakes refused (check the client's credentials)",
    );
  });
});

describe('parseSimulatorArgs: TLS', () => {
  it('serves ws:// unless --tls or --tls-dir is given', () => {
    expect(parseSimulatorArgs(['--webhook-url', 'http://h/w'])).toMatchObject({ tls: false, tlsDir: undefined });
    expect(parseSimulatorArgs(['--webhook-url', 'http://h/w', '--tls'])).toMatchObject({ tls: true, tlsDir: undefined });
    expect(parseSimulatorArgs(['--webhook-url', 'http://h/w', '--tls-dir', '/tmp/ca'])).toMatchObject({ tls: true, tlsDir: '/tmp/ca' });
  });
});
