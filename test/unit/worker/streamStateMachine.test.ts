import { describe, expect, it } from 'vitest';
import { IllegalTransitionError } from '../../../src/errors.ts';
import { STREAM_STATES, TERMINAL_STATES } from '../../../src/vocabulary/streamState.ts';
import { StreamStateMachine, canTransition, type StateChange } from '../../../src/worker/streamStateMachine.ts';

describe('StreamStateMachine', () => {
  it('walks the happy path and reports every change with its reason', () => {
    const changes: StateChange[] = [];
    const machine = new StreamStateMachine({ onChange: (change) => changes.push(change), now: () => 42 });
    machine.transition('connecting');
    machine.transition('live');
    machine.transition('waitingReconnect', 'interrupted_webhook');
    machine.transition('live');
    machine.transition('ended', 'stopped');
    expect(changes.map((change) => `${change.from}->${change.to}`)).toEqual([
      'idle->connecting',
      'connecting->live',
      'live->waitingReconnect',
      'waitingReconnect->live',
      'live->ended',
    ]);
    expect(changes[2]).toEqual({ from: 'live', to: 'waitingReconnect', reason: 'interrupted_webhook', at: 42 });
    expect(machine.isTerminal).toBe(true);
  });

  it('rejects illegal moves without changing state', () => {
    const changes: StateChange[] = [];
    const machine = new StreamStateMachine({ onChange: (change) => changes.push(change) });
    expect(() => machine.transition('live')).toThrow(IllegalTransitionError);
    expect(machine.state).toBe('idle');
    machine.transition('rejected');
    expect(() => machine.transition('connecting')).toThrow(/illegal stream state transition rejected -> connecting/);
    expect(changes).toHaveLength(1);
  });

  it('lets nothing leave a terminal state', () => {
    for (const terminal of TERMINAL_STATES) {
      for (const target of STREAM_STATES) expect(canTransition(terminal, target)).toBe(false);
    }
  });

  it('allows failing or ending from every live-ish state', () => {
    for (const from of ['idle', 'connecting', 'live', 'waitingReconnect'] as const) {
      expect(canTransition(from, 'failed')).toBe(true);
      expect(canTransition(from, 'ended')).toBe(true);
    }
    expect(canTransition('live', 'connecting')).toBe(false);
    expect(canTransition('connecting', 'rejected')).toBe(false);
  });
});
