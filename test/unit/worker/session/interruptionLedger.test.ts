import { describe, expect, it } from 'vitest';
import { InterruptionLedger, MATCH_WINDOW_MS } from '../../../../src/worker/session/interruptionLedger.ts';

describe('InterruptionLedger', () => {
  it('a webhook with no ended connection before it asks for a rejoin (half-open socket)', () => {
    expect(new InterruptionLedger().reported(1000)).toBe(false);
  });

  it('each ended connection answers exactly one webhook', () => {
    const ledger = new InterruptionLedger();
    ledger.ended(1000);
    expect(ledger.reported(1200)).toBe(true);
    // Zoom reports another break: nothing left to answer it.
    expect(ledger.reported(1300)).toBe(false);
  });

  it('the webhook may come before, during or after the rejoin: only arrival order counts', () => {
    const ledger = new InterruptionLedger();
    ledger.ended(0);
    ledger.ended(10);
    expect(ledger.reported(20)).toBe(true);
    expect(ledger.reported(5000)).toBe(true);
    expect(ledger.reported(5001)).toBe(false);
  });

  it('an ended connection whose webhook never came stops answering after the window', () => {
    const ledger = new InterruptionLedger();
    ledger.ended(0);
    expect(ledger.reported(MATCH_WINDOW_MS + 1)).toBe(false);
    ledger.ended(MATCH_WINDOW_MS + 2);
    expect(ledger.reported(MATCH_WINDOW_MS + 3)).toBe(true);
  });
});
