/**
 * A stream's lifecycle states, shared by the worker (which moves them, worker/streamStateMachine.ts),
 * the supervisor, the cluster registry and the HTTP API. `rejected`, `ended` and `failed` are terminal.
 */
export const STREAM_STATES = ['idle', 'connecting', 'live', 'waitingReconnect', 'ended', 'failed', 'rejected'] as const;
export type StreamState = (typeof STREAM_STATES)[number];

export const TERMINAL_STATES: ReadonlySet<StreamState> = new Set(['ended', 'failed', 'rejected']);
