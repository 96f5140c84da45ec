import { describe, expect, it } from 'vitest';
import { DEDUP_ENTRY_BYTES, dedupKey, MemoryWebhookDeduplicator } from '../../../src/http/webhookDeduplicator.ts';
import { parseWebhook } from '../../../src/http/webhookParser.ts';
import type { WebhookEvent } from '../../../src/http/webhookEvent.ts';
import { example, STREAM_ID } from './webhookFixtures.ts';
import { ManualClock } from '../../support/clock.ts';

function event(body: Record<string, unknown>): WebhookEvent {
  return parseWebhook(JSON.stringify(body));
}

describe('dedupKey', () => {
  it('is the same for a retried delivery (same body)', () => {
    const body = example('meeting.rtms_started');
    expect(dedupKey(event(body))).toBe(dedupKey(event(structuredClone(body))));
  });

  it('differs when server_urls differ (failover, not a retry)', () => {
    const a = dedupKey(event(example('meeting.rtms_started', { server_urls: 'wss://a.example' })));
    const b = dedupKey(event(example('meeting.rtms_started', { server_urls: 'wss://b.example' })));
    expect(a).not.toBe(b);
  });

  it('differs by event_ts and by event name for the same stream', () => {
    const started = dedupKey(event(example('meeting.rtms_started')));
    const later = dedupKey(event(example('meeting.rtms_started', {}, { event_ts: 1_730_000_000_001 })));
    const interrupted = dedupKey(event(example('meeting.rtms_interrupted')));
    const stopped = dedupKey(event(example('meeting.rtms_stopped')));
    expect(new Set([started, later, interrupted, stopped]).size).toBe(4);
  });

  it('is never the stream id alone', () => {
    expect(dedupKey(event(example('meeting.rtms_interrupted')))).not.toBe(STREAM_ID);
  });

  it('distinguishes concurrency_limited events for different meetings at the same ms', () => {
    const a = dedupKey(event(example('rtms.concurrency_limited', { id_field: { meeting_uuid: 'A' } })));
    const b = dedupKey(event(example('rtms.concurrency_limited', { id_field: { meeting_uuid: 'B' } })));
    expect(a).not.toBe(b);
  });

  it('is undefined for url_validation', () => {
    expect(dedupKey({ kind: 'urlValidation', event: 'endpoint.url_validation', plainToken: 't' })).toBeUndefined();
  });

  it('cannot be forged by a separator inside a field', () => {
    // A naive "event,stream,urls,ts" join would make these two equal.
    const a = dedupKey(event(example('meeting.rtms_started', { rtms_stream_id: 'a,b', server_urls: 'wss://x' })));
    const b = dedupKey(event(example('meeting.rtms_started', { rtms_stream_id: 'a', server_urls: 'b,wss://x' })));
    expect(a).not.toBe(b);
  });
});

describe('MemoryWebhookDeduplicator', () => {
  it('claims a key once; a repeat is a duplicate', async () => {
    const dedup = new MemoryWebhookDeduplicator({ clock: new ManualClock() });
    expect(await dedup.claim('k')).toBe(true);
    expect(await dedup.claim('k')).toBe(false);
    expect(await dedup.claim('k')).toBe(false);
    expect(await dedup.claim('other')).toBe(true);
  });

  it('a repeated rtms_started with different server_urls is not a duplicate', async () => {
    const dedup = new MemoryWebhookDeduplicator({ clock: new ManualClock() });
    const first = dedupKey(event(example('meeting.rtms_started', { server_urls: 'wss://a.example' })))!;
    const failover = dedupKey(event(example('meeting.rtms_started', { server_urls: 'wss://b.example' })))!;
    expect(await dedup.claim(first)).toBe(true);
    expect(await dedup.claim(first)).toBe(false);
    expect(await dedup.claim(failover)).toBe(true);
  });

  it('covers all of Zoom retries with the default TTL (+5, +25, +85 min) and forgets after 90 min', async () => {
    const clock = new ManualClock();
    const dedup = new MemoryWebhookDeduplicator({ clock });
    expect(await dedup.claim('k')).toBe(true);
    clock.jump(5 * 60_000);
    expect(await dedup.claim('k')).toBe(false);
    clock.jump(20 * 60_000);
    expect(await dedup.claim('k')).toBe(false);
    clock.jump(60 * 60_000);
    expect(await dedup.claim('k')).toBe(false);
    clock.jump(5 * 60_000);
    expect(await dedup.claim('k')).toBe(true);
  });

  it('expires keys after a custom TTL and sweeps them', async () => {
    const clock = new ManualClock();
    const dedup = new MemoryWebhookDeduplicator({ clock, ttlMs: 1000 });
    await dedup.claim('a');
    clock.jump(500);
    await dedup.claim('b');
    clock.jump(499);
    expect(await dedup.claim('a')).toBe(false);
    clock.jump(1);
    expect(await dedup.claim('a')).toBe(true); // expired at 1000 ms
    expect(dedup.size).toBe(2); // 'b' (still live) and the re-claimed 'a'
    clock.jump(2000);
    await dedup.claim('c');
    expect(dedup.size).toBe(1);
  });

  it('evicts the oldest key when full, and counts it', async () => {
    const dedup = new MemoryWebhookDeduplicator({ clock: new ManualClock(), maxBytes: 2 * DEDUP_ENTRY_BYTES });
    await dedup.claim('a');
    await dedup.claim('b');
    await dedup.claim('c');
    expect(dedup.size).toBe(2);
    expect(dedup.bytes).toBe(2 * DEDUP_ENTRY_BYTES);
    expect(dedup.evictions).toBe(1);
    expect(await dedup.claim('c')).toBe(false);
    expect(await dedup.claim('b')).toBe(false);
    expect(await dedup.claim('a')).toBe(true); // forgotten
  });

  it('rejects nonsensical options', () => {
    expect(() => new MemoryWebhookDeduplicator({ ttlMs: 0 })).toThrow(RangeError);
    expect(() => new MemoryWebhookDeduplicator({ maxBytes: DEDUP_ENTRY_BYTES - 1 })).toThrow(RangeError);
  });

  it('costs the same per key whatever the key holds: 60 KB ids are kept as digests', async () => {
    const dedup = new MemoryWebhookDeduplicator({ clock: new ManualClock(), maxBytes: 1000 * DEDUP_ENTRY_BYTES });
    for (let i = 0; i < 1500; i++) await dedup.claim(`${'x'.repeat(60_000)}${i}`);
    expect(dedup.size).toBe(1000);
    expect(dedup.evictions).toBe(500);
    expect(await dedup.claim(`${'x'.repeat(60_000)}1499`)).toBe(false);
  });
});
