import { ConnectorError } from '../../errors.ts';
import type { HandshakeResponse } from '../../rtms/rtmsMessages.ts';
import type { RtmsSocket } from '../../rtms/rtmsSocket.ts';
import type { MediaKind } from '../../vocabulary/mediaKind.ts';

/*
 * Which media sockets a join opens: from the media server URLs in Zoom's signaling answer and
 * the kinds we want, either one socket per kind (split mode) or the unified `all` socket
 * (docs/protocol.md#handshake-messages). RtmsJoin opens and reopens the sockets of this plan.
 */

/** A media socket and the kinds it carries; keyed by its kind (`audio`, ..., `deskshare`) or `all`. */
export interface MediaConnection {
  readonly key: string;
  readonly url: string;
  readonly kinds: readonly MediaKind[];
  socket: RtmsSocket | undefined;
}

/**
 * The `server_urls` keys that may carry a kind's media URL, preferred first. Screen share:
 * the media parameters call it `deskshare`, Zoom's RTMSManager library looks for
 * `sharescreen`, and Zoom's documents show neither (docs/protocol.md#handshake-messages), so
 * both are accepted.
 */
const URL_KEYS: Readonly<Record<MediaKind, readonly string[]>> = {
  audio: ['audio'],
  video: ['video'],
  deskshare: ['deskshare', 'sharescreen'],
  transcript: ['transcript'],
  chat: ['chat'],
};

/**
 * Split mode (one socket per kind) when the server offers a URL for every kind we want,
 * otherwise the unified `all` socket; the two cannot be mixed (status 15). `unavailable`:
 * kinds we wanted that split mode has no URL for.
 */
export function planMedia(reply: HandshakeResponse, wanted: readonly MediaKind[]): { connections: MediaConnection[]; unavailable: MediaKind[] } {
  const urls = reply.mediaServerUrls;
  const all = urls['all'];
  // Labelled by kind whichever key carried the URL, so channel names stay one vocabulary.
  const offered = wanted.flatMap((kind) => URL_KEYS[kind].flatMap((key) => (urls[key] === undefined ? [] : [{ kind, url: urls[key] }])).slice(0, 1));
  if (offered.length === wanted.length || (offered.length > 0 && all === undefined)) {
    const unavailable = wanted.filter((kind) => !offered.some((entry) => entry.kind === kind));
    return { connections: offered.map(({ kind, url }) => ({ key: kind, url, kinds: [kind], socket: undefined })), unavailable };
  }
  if (all !== undefined) return { connections: [{ key: 'all', url: all, kinds: wanted, socket: undefined }], unavailable: [] };
  throw new ConnectorError('RTMS_PROTOCOL_VIOLATION', 'signaling answer offered no media server URL', { retryable: false });
}
