import { IllegalTransitionError } from '../errors.ts';
import { TERMINAL_STATES, type StreamState } from '../vocabulary/streamState.ts';

/**
 * Stream lifecycle, named after the room lifecycle in the seed `room.waitingReconnect`.
 *
 *            admit                 handshakes ok
 *   (new) ──────────▶ idle ──▶ connecting ──────────▶ live ◀──────────┐
 *     │                 │          │                    │              │ rejoined
 *     │ refused         │          │ lost / retryable   │ interrupted, │
 *     ▼                 │          └──────────────┐     │ failover,    │
 *  rejected             │                         ▼     ▼ silence      │
 *                       │                     waitingReconnect ────────┘
 *                       │                         │
 *                       └──── stopped ────────────┴──▶ ended   (rtms_stopped, STREAM_STATE 4, closed)
 *                             fatal error ───────────▶ failed  (bad signature, grace exhausted)
 *
 * `rejected`, `ended` and `failed` are terminal. Every other move is a bug and throws.
 */

const TRANSITIONS: Readonly<Record<StreamState, readonly StreamState[]>> = {
  idle: ['connecting', 'ended', 'failed', 'rejected'],
  connecting: ['live', 'waitingReconnect', 'ended', 'failed'],
  live: ['waitingReconnect', 'ended', 'failed'],
  waitingReconnect: ['live', 'ended', 'failed'],
  ended: [],
  failed: [],
  rejected: [],
};

export function canTransition(from: StreamState, to: StreamState): boolean {
  return TRANSITIONS[from].includes(to);
}

export interface StateChange {
  readonly from: StreamState;
  readonly to: StreamState;
  readonly reason: string | undefined;
  /** ms epoch */
  readonly at: number;
}

export class StreamStateMachine {
  #state: StreamState = 'idle';
  readonly #onChange: (change: StateChange) => void;
  readonly #now: () => number;

  constructor(options: { onChange: (change: StateChange) => void; now?: () => number }) {
    this.#onChange = options.onChange;
    this.#now = options.now ?? Date.now;
  }

  get state(): StreamState {
    return this.#state;
  }

  get isTerminal(): boolean {
    return TERMINAL_STATES.has(this.#state);
  }

  /** Moves to `to`; throws `IllegalTransitionError` for a move the table does not allow. */
  transition(to: StreamState, reason?: string): void {
    const from = this.#state;
    if (!canTransition(from, to)) throw new IllegalTransitionError(from, to);
    this.#state = to;
    this.#onChange({ from, to, reason, at: this.#now() });
  }
}
