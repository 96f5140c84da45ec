import type { Clock } from '../../clock.ts';
import type { RtmsSocket } from '../../rtms/rtmsSocket.ts';

/**
 * Sockets a session let go of, until they are closed and gone. A rejoin awaits them before it
 * opens a new signaling connection: were the old one still open at Zoom, Zoom would refuse
 * the new one as a duplicate (DUPLICATE_SIGNAL_REQUEST, status 8). Superseded rejoins share
 * this set, so a rejoin that replaces another still waits for what the first one closed.
 */
/** How long a rejoin waits for released sockets before terminating them, ms (RtmsSocket.close() terminates at 2 s). */
export const RELEASE_DEADLINE_MS = 3000;

export class SocketRelease {
  readonly #closing = new Set<RtmsSocket>();
  readonly #clock: Clock;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** Closes these sockets (close handshake) and tracks them until they are closed. */
  release(sockets: Iterable<RtmsSocket | undefined>): void {
    for (const socket of sockets) {
      if (socket === undefined) continue;
      this.#closing.add(socket);
      void socket.closed.then(() => this.#closing.delete(socket));
      // A socket paused by backpressure would not read the peer's close frame.
      socket.resume();
      socket.close();
    }
  }

  /**
   * Resolves once every released socket is closed. Past `deadlineMs` the rest are terminated
   * (no close handshake) and awaited, so this always settles.
   */
  async settled(deadlineMs = RELEASE_DEADLINE_MS): Promise<void> {
    const pending = [...this.#closing];
    if (pending.length === 0) return;
    let timer: NodeJS.Timeout | undefined;
    const all = Promise.all(pending.map((socket) => socket.closed));
    const late = await Promise.race([
      all.then(() => false),
      new Promise<boolean>((resolve) => (timer = this.#clock.setTimeout(() => resolve(true), deadlineMs))),
    ]);
    if (timer !== undefined) this.#clock.clearTimeout(timer);
    if (!late) return;
    for (const socket of pending) socket.terminate();
    await all;
  }
}
