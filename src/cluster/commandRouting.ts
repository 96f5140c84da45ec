import type { Logger } from '../logger.ts';
import type { Supervisor } from '../supervisor/supervisor.ts';
import type { ClusterCommandBody } from './clusterCommand.ts';
import type { HeldStreams } from './heldStreams.ts';
import type { StreamLeases } from './streamLeases.ts';
import type { NoteKind, StreamRegistry } from './streamRegistry.ts';

/**
 * Commands for one stream (interrupt, stop, close, exclude), wherever it runs: recorded in
 * its record first (so a later owner sees it), then executed here if the stream runs here,
 * else sent to the owner's command stream, at most `MAX_HOPS` times over.
 */

/** Forwarding a command more often than this means the stream keeps moving: give up. */
export const MAX_HOPS = 3;

export type StreamCommand = Exclude<ClusterCommandBody, { type: 'started' } | { type: 'adopt' }>;

export interface CommandRouterOptions {
  readonly replicaId: string;
  readonly supervisor: () => Supervisor;
  readonly registry: Pick<StreamRegistry, 'note'>;
  readonly leases: Pick<StreamLeases, 'confirm'>;
  /** Streams held here without a lease while Redis was away. */
  readonly held: Pick<HeldStreams, 'command'>;
  readonly send: (to: string, body: ClusterCommandBody, hops: number) => Promise<void>;
  readonly logger: Logger;
  readonly warn: (message: string, rtmsStreamId: string | undefined, error: unknown) => void;
}

export class CommandRouter {
  readonly #options: CommandRouterOptions;

  constructor(options: CommandRouterOptions) {
    this.#options = options;
  }

  /** Resolves false when no replica knows the stream. */
  async route(body: StreamCommand, hops: number): Promise<boolean> {
    const { held, logger } = this.#options;
    const supervisor = this.#options.supervisor();
    const id = body.rtmsStreamId;
    const [kind, argument]: [NoteKind, string] =
      body.type === 'stop' ? ['stop', String(body.stopReason)] : body.type === 'exclude' ? ['exclude', body.userId] : [body.type, ''];
    let note;
    try {
      note = await this.#options.registry.note(id, kind, argument);
    } catch (error) {
      if (!supervisor.has(id)) {
        this.#options.warn(`redis unavailable: ${body.type} cannot reach the stream's owner`, id, error);
        return held.command(body);
      }
    }
    if (supervisor.has(id)) {
      await this.#execute(body);
      return true;
    }
    const isHeld = held.command(body);
    if (note === undefined || note.status === 'unknown') return isHeld;
    if (note.status === 'owned' && note.owner !== this.#options.replicaId) {
      if (hops < MAX_HOPS) await this.#options.send(note.owner, body, hops + 1);
      else logger.warn({ rtmsStreamId: id, command: body.type }, 'command forwarded too often; dropped');
    }
    return true;
  }

  async #execute(body: StreamCommand): Promise<void> {
    const supervisor = this.#options.supervisor();
    const id = body.rtmsStreamId;
    switch (body.type) {
      case 'interrupt':
        // The session skips an interruption older than its current connection (already answered).
        if (await this.#options.leases.confirm(id)) supervisor.interrupt(id, body.eventTs);
        return;
      case 'stop':
        supervisor.stop(id, body.stopReason);
        return;
      case 'close':
        supervisor.closeStream(id);
        return;
      case 'exclude':
        supervisor.excludeParticipant(id, body.userId);
        return;
      default: {
        const unknown: never = body;
        throw new Error(`unexpected command ${JSON.stringify(unknown)}`);
      }
    }
  }
}
