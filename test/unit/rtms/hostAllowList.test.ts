import { describe, expect, it } from 'vitest';
import { DEFAULT_ALLOWED_HOSTS, RtmsUrlRefusedError, assertRtmsUrlAllowed, parseAllowedHosts } from '../../../src/rtms/hostAllowList.ts';
import { loadConfig } from '../../../src/config.ts';

const required = { ZM_RTMS_CLIENT: 'id', ZM_RTMS_SECRET: 'secret', ZM_WEBHOOK_SECRET_TOKEN: 'token' };

function refusal(url: string, setting = DEFAULT_ALLOWED_HOSTS): string | undefined {
  const parsed = parseAllowedHosts(setting);
  if (parsed.list === undefined) throw new Error(parsed.problem);
  try {
    assertRtmsUrlAllowed(url, parsed.list, 'signaling');
    return undefined;
  } catch (error) {
    if (!(error instanceof RtmsUrlRefusedError)) throw error;
    expect(error.code).toBe('RTMS_HOST_NOT_ALLOWED');
    expect(error.retryable).toBe(false);
    return `${error.refusal} ${error.host}`;
  }
}

describe('RTMS_ALLOWED_HOSTS', () => {
  it("allows Zoom's hosts by default, and nothing else", () => {
    expect(refusal('wss://sjc1mmr.zoom.us/signaling')).toBeUndefined();
    expect(refusal('wss://A.B.ZOOM.US./x')).toBeUndefined();
    expect(refusal('wss://rtms.zoomgov.com:443/x')).toBeUndefined();
    expect(refusal('wss://zoom.us/x')).toBe('host_not_allowed zoom.us');
    expect(refusal('wss://evilzoom.us/x')).toBe('host_not_allowed evilzoom.us');
    expect(refusal('wss://zoom.us.evil.example/x')).toBe('host_not_allowed zoom.us.evil.example');
    expect(refusal('wss://user:pw@evil.example/x')).toBe('host_not_allowed evil.example');
    expect(refusal('ws://127.0.0.1:9/x')).toBe('host_not_allowed 127.0.0.1');
  });

  it('refuses every scheme but ws: and wss:, whatever the host', () => {
    expect(refusal('ws+unix:///var/run/docker.sock:/x', '*')).toMatch(/^scheme_not_ws/);
    expect(refusal('http://a.zoom.us/x')).toBe('scheme_not_ws a.zoom.us');
    expect(refusal('https://a.zoom.us/x')).toBe('scheme_not_ws a.zoom.us');
    expect(refusal('not a url', '*')).toBe('not_a_url ');
  });

  it('takes exact hosts, IPv6 literals and * (no check)', () => {
    expect(refusal('ws://127.0.0.1:9/x', '127.0.0.1')).toBeUndefined();
    expect(refusal('ws://127.0.0.2:9/x', '127.0.0.1')).toBe('host_not_allowed 127.0.0.2');
    expect(refusal('ws://[::1]:9/x', '::1')).toBeUndefined();
    expect(refusal('ws://anything.example:9/x', '*')).toBeUndefined();
  });

  it('refuses a malformed setting at start-up, naming the variable', () => {
    for (const value of ['https://zoom.us', 'zoom.us:443', 'a.*.zoom.us', ',']) {
      expect(() => loadConfig({ ...required, RTMS_ALLOWED_HOSTS: value })).toThrow(/RTMS_ALLOWED_HOSTS: expected/);
    }
    expect(loadConfig(required).rtms.allowedHosts).toEqual({ any: false, exact: [], suffixes: ['.zoom.us', '.zoomgov.com'] });
  });
});
