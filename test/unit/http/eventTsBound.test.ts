import { describe, expect, it } from 'vitest';
import { boundEventTs, EVENT_TS_AHEAD_TOLERANCE_MS } from '../../../src/http/eventTsBound.ts';
import type { WebhookEvent } from '../../../src/http/webhookEvent.ts';
import type { StreamStart } from '../../../src/rtms/products.ts';

function started(eventTs: number): Extract<WebhookEvent, { kind: 'started' }> {
  const start: StreamStart = {
    product: 'meeting',
    rtmsStreamId: 'stream-1',
    entityIdKey: 'meeting_uuid',
    entityId: 'meeting-1',
    serverUrls: 'wss://rtms.example/1',
    signalingUrl: 'wss://rtms.example/1',
    eventTs,
  };
  return { kind: 'started', event: 'meeting.rtms_started', eventTs, start };
}

describe('boundEventTs', () => {
  const sentAtSeconds = 1_800_000_000;

  it('keeps an event_ts up to the tolerance after the request timestamp, and any older one (Zoom retries)', () => {
    for (const eventTs of [sentAtSeconds * 1000 - 3600_000, sentAtSeconds * 1000, sentAtSeconds * 1000 + EVENT_TS_AHEAD_TOLERANCE_MS]) {
      const event = started(eventTs);
      expect(boundEventTs(event, sentAtSeconds)).toEqual({ event, clampedFrom: undefined });
    }
  });

  it('orders an rtms_started dated far ahead by the request timestamp; the envelope event_ts (dedup key) stays', () => {
    const eventTs = sentAtSeconds * 1000 + 10 * 3600_000;
    const { event, clampedFrom } = boundEventTs(started(eventTs), sentAtSeconds);
    expect(clampedFrom).toBe(eventTs);
    expect(event.start.eventTs).toBe(sentAtSeconds * 1000);
    expect(event.eventTs).toBe(eventTs);
  });

  it('leaves other events alone', () => {
    const event: WebhookEvent = { kind: 'interrupted', event: 'meeting.rtms_interrupted', eventTs: 9e15, product: 'meeting', rtmsStreamId: 's', entityId: 'e' };
    expect(boundEventTs(event, sentAtSeconds).event).toBe(event);
  });
});
