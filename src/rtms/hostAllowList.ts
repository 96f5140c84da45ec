import { isIPv6 } from 'node:net';
import { ConnectorError } from '../errors.ts';

/**
 * Where the connector may open an RTMS WebSocket (`RTMS_ALLOWED_HOSTS`). The handshake
 * carries HMAC(client secret, client id, meeting, stream): whoever receives it can join that
 * stream as us. A signed webhook (or a signaling answer) naming another host would make us
 * hand it over, so every signaling and media URL is checked before anything is sent.
 *
 * Entries: `*` (no check), `*.example.com` (any host below example.com, not example.com
 * itself), or an exact host name or IP address (`127.0.0.1`, `::1`). Case-insensitive.
 */
export interface HostAllowList {
  /** `*`: every host allowed. */
  readonly any: boolean;
  /** Exact host names, lower case, IPv6 without brackets. */
  readonly exact: readonly string[];
  /** Suffixes from `*.suffix` entries, each starting with a dot. */
  readonly suffixes: readonly string[];
}

/** Zoom's RTMS servers: the commercial and the government cloud. */
export const DEFAULT_ALLOWED_HOSTS = '*.zoom.us,*.zoomgov.com';

/** Parses the setting; `problem` says what is wrong with the first bad entry. */
export function parseAllowedHosts(value: string): { list: HostAllowList; problem?: undefined } | { list?: undefined; problem: string } {
  const entries = value
    .split(',')
    .map((entry) => entry.trim().toLowerCase())
    .filter((entry) => entry !== '');
  if (entries.length === 0) return { problem: 'expected * or a comma-separated list of host names (*.example.com allowed)' };
  const exact: string[] = [];
  const suffixes: string[] = [];
  let any = false;
  for (const entry of entries) {
    if (entry === '*') {
      any = true;
      continue;
    }
    const wildcard = entry.startsWith('*.');
    const host = normalizeHost(wildcard ? entry.slice(2) : entry);
    // A host only: no scheme, port, path or inner wildcard (IPv6 literals keep their colons).
    if (host === '' || /[/@*\s]/.test(host) || (host.includes(':') && (wildcard || !isIPv6(host)))) {
      return { problem: `expected host names like *.zoom.us or 127.0.0.1 (no scheme or port), got ${JSON.stringify(entry)}` };
    }
    if (wildcard) suffixes.push(`.${host}`);
    else exact.push(host);
  }
  return { list: { any, exact, suffixes } };
}

/** Why a URL may not be opened; a closed set, for events and errors. */
export type UrlRefusal = 'not_a_url' | 'scheme_not_ws' | 'host_not_allowed';

export class RtmsUrlRefusedError extends ConnectorError {
  readonly refusal: UrlRefusal;
  /** The host named by the URL (never the whole URL: it may carry userinfo). */
  readonly host: string;

  constructor(refusal: UrlRefusal, host: string, channel: string) {
    const what =
      refusal === 'not_a_url'
        ? 'is not a URL'
        : refusal === 'scheme_not_ws'
          ? `on host ${host} is not a ws:// or wss:// URL`
          : `names host ${host}, which RTMS_ALLOWED_HOSTS does not allow`;
    // Not retryable: asking again reaches the same host; the stream fails with this reason.
    super('RTMS_HOST_NOT_ALLOWED', `${channel} URL ${what}`, { retryable: false });
    this.refusal = refusal;
    this.host = host;
  }
}

/** Throws `RtmsUrlRefusedError` unless `url` is a ws:/wss: URL on an allowed host. */
export function assertRtmsUrlAllowed(url: string, allowed: HostAllowList, channel: string): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new RtmsUrlRefusedError('not_a_url', '', channel);
  }
  const host = normalizeHost(parsed.hostname);
  // ws also follows ws+unix: (a local socket), http: and https:; only real WebSocket URLs go.
  if (parsed.protocol !== 'ws:' && parsed.protocol !== 'wss:') throw new RtmsUrlRefusedError('scheme_not_ws', host || parsed.protocol, channel);
  if (!isHostAllowed(host, allowed)) throw new RtmsUrlRefusedError('host_not_allowed', host, channel);
}

export function isHostAllowed(host: string, allowed: HostAllowList): boolean {
  if (allowed.any) return true;
  const name = normalizeHost(host);
  if (name === '') return false;
  return allowed.exact.includes(name) || allowed.suffixes.some((suffix) => name.endsWith(suffix) && name.length > suffix.length);
}

/** Lower case, no IPv6 brackets, no trailing dot (`zoom.us.` is `zoom.us`). */
function normalizeHost(host: string): string {
  let name = host.toLowerCase();
  if (name.startsWith('[') && name.endsWith(']')) name = name.slice(1, -1);
  if (name.endsWith('.')) name = name.slice(0, -1);
  return name;
}
