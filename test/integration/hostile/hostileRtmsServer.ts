import http from 'node:http';
import type { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';

/**
 * A bad RTMS server for the hostile-input tests: real WebSockets, a minimal but correct
 * handshake (so the connector joins), then whatever the test makes it do. It counts every TCP
 * connection and every handshake signature it receives, so a test can assert that nothing
 * reached it at all.
 */

export interface HostileContext {
  readonly server: HostileRtmsServer;
  /** How many media handshakes this server has answered so far (1 on the first join). */
  readonly mediaJoins: number;
  readonly signalingJoins: number;
}

export interface HostileBehaviour {
  /** `media_server.server_urls` of the signaling answer; default `{ all: <this server>/media }`. */
  readonly mediaUrls?: (server: HostileRtmsServer) => Record<string, string>;
  /** `media_params.audio.data_opt` echoed (2 = one stream per speaker). Default: echo the request. */
  readonly audioDataOpt?: number;
  /** Runs once the client sent CLIENT_READY_ACK for a media socket. */
  readonly onMediaReady?: (media: WebSocket, signaling: WebSocket, context: HostileContext) => void;
  /** Runs once the signaling handshake was answered. */
  readonly onSignalingReady?: (signaling: WebSocket, context: HostileContext) => void;
}

export class HostileRtmsServer {
  readonly host: string;
  readonly port: number;
  /** TCP connections accepted (WebSocket or not). */
  tcpConnections = 0;
  /** Handshake requests (signaling or media) that carried a `signature` field. */
  signaturesReceived = 0;
  signalingJoins = 0;
  mediaJoins = 0;
  readonly #server: http.Server;
  readonly #wss: WebSocketServer;
  readonly #behaviour: HostileBehaviour;
  #signaling: WebSocket | undefined;
  readonly #pendingMedia: WebSocket[] = [];
  readonly #rawSockets = new WeakMap<WebSocket, import('node:net').Socket>();

  private constructor(server: http.Server, wss: WebSocketServer, behaviour: HostileBehaviour) {
    this.#server = server;
    this.#wss = wss;
    this.#behaviour = behaviour;
    const address = server.address() as AddressInfo;
    this.host = address.address;
    this.port = address.port;
    server.on('connection', () => (this.tcpConnections += 1));
    wss.on('connection', (ws, request) => {
      this.#rawSockets.set(ws, request.socket);
      this.#onConnection(ws, request.url ?? '/');
    });
  }

  static async start(behaviour: HostileBehaviour = {}, host = '127.0.0.1'): Promise<HostileRtmsServer> {
    const server = http.createServer((_request, response) => response.writeHead(404).end());
    // The connector must be able to send 50 MB at us too, so no payload cap of our own.
    const wss = new WebSocketServer({ server, maxPayload: 256 * 1024 * 1024, perMessageDeflate: false });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, host, () => resolve());
    });
    return new HostileRtmsServer(server, wss, behaviour);
  }

  /** Stops reading `ws`'s TCP socket: a peer that never answers our close frame. */
  stopReading(ws: WebSocket): void {
    this.#rawSockets.get(ws)?.pause();
  }

  url(path = '/signaling'): string {
    return `ws://${this.host}:${this.port}${path}`;
  }

  #onConnection(ws: WebSocket, path: string): void {
    ws.on('error', () => {});
    const isSignaling = path.startsWith('/signaling');
    if (isSignaling) this.#signaling = ws;
    ws.on('message', (data) => {
      let message: Record<string, unknown>;
      try {
        message = JSON.parse(data.toString()) as Record<string, unknown>;
      } catch {
        return;
      }
      if (typeof message['signature'] === 'string') this.signaturesReceived += 1;
      const context = (): HostileContext => ({ server: this, mediaJoins: this.mediaJoins, signalingJoins: this.signalingJoins });
      switch (message['msg_type']) {
        case 1: {
          this.signalingJoins += 1;
          const urls = this.#behaviour.mediaUrls?.(this) ?? { all: this.url('/media') };
          ws.send(JSON.stringify({ msg_type: 2, protocol_version: 1, status_code: 0, media_server: { server_urls: urls } }));
          this.#behaviour.onSignalingReady?.(ws, context());
          break;
        }
        case 3: {
          this.mediaJoins += 1;
          const params = (message['media_params'] ?? {}) as Record<string, Record<string, unknown>>;
          const audio = { ...params['audio'], ...(this.#behaviour.audioDataOpt === undefined ? {} : { data_opt: this.#behaviour.audioDataOpt }) };
          ws.send(JSON.stringify({ msg_type: 4, protocol_version: 1, status_code: 0, media_params: { ...params, audio } }));
          this.#pendingMedia.push(ws);
          break;
        }
        case 7: {
          const media = this.#pendingMedia.shift();
          if (media !== undefined && this.#signaling !== undefined) this.#behaviour.onMediaReady?.(media, this.#signaling, context());
          break;
        }
        default:
      }
    });
  }

  async close(): Promise<void> {
    for (const client of this.#wss.clients) client.terminate();
    this.#wss.close();
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

/** Sends `count` messages from `make(i)` as fast as the socket drains, yielding between batches. */
export async function flood(ws: WebSocket, count: number, make: (index: number) => string): Promise<number> {
  let sent = 0;
  while (sent < count && ws.readyState === WebSocket.OPEN) {
    for (let batch = 0; batch < 500 && sent < count; batch += 1, sent += 1) ws.send(make(sent));
    // Let the kernel buffer drain so the flood measures the connector, not our memory.
    while (ws.bufferedAmount > 4 * 1024 * 1024 && ws.readyState === WebSocket.OPEN) await new Promise((resolve) => setTimeout(resolve, 5));
    await new Promise((resolve) => setImmediate(resolve));
  }
  return sent;
}
