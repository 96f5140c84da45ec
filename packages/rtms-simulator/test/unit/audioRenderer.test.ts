import { describe, expect, it } from 'vitest';
import { AudioRenderer, MAX_SPEAKERS_PER_PACKET } from '../../src/audioRenderer.ts';
import { Conversation, type ConversationEvent } from '../../src/conversation.ts';
import { createParticipants } from '../../src/participants.ts';

function script(seed: number, participants = 3, product: 'meeting' | 'contact_center' = 'meeting') {
  const people = createParticipants({ product, count: participants, seed });
  const conversation = new Conversation({ product, participants: people.length, seed });
  return { people, conversation, renderer: new AudioRenderer({ participants: people, conversation }) };
}

/** Renders `seconds` of mixed 16 kHz mono audio, advancing the script in `stepMs` steps. */
function renderMixed(seed: number, seconds: number, stepMs = 20): Buffer {
  const { conversation, renderer } = script(seed);
  const chunks: Buffer[] = [];
  for (let t = 0; t < seconds * 1000; t += 20) {
    if (t % stepMs === 0) conversation.advance(t + stepMs);
    chunks.push(renderer.mixed(t, 20, { sampleRateHz: 16_000, channels: 1 }));
  }
  return Buffer.concat(chunks);
}

function rms(samples: Int16Array, from: number, to: number): number {
  let sum = 0;
  for (let i = from; i < to; i += 1) sum += (samples[i] ?? 0) ** 2;
  return Math.sqrt(sum / Math.max(1, to - from));
}

describe('conversation and audio', () => {
  it('is deterministic for a seed, independent of how often the script is advanced', () => {
    const a = renderMixed(42, 10, 20);
    const b = renderMixed(42, 10, 100);
    expect(a.length).toBe(10 * 32_000);
    expect(a.equals(b)).toBe(true);
    expect(a.equals(renderMixed(43, 10))).toBe(false);
  });

  it('sounds like turn-taking speech: syllables, pauses, more than one voice', () => {
    const pcm = renderMixed(7, 30);
    const samples = new Int16Array(pcm.buffer, pcm.byteOffset, pcm.length / 2);
    const windows = Math.floor(samples.length / 320);
    let silent = 0;
    let loud = 0;
    for (let w = 0; w < windows; w += 1) {
      const level = rms(samples, w * 320, (w + 1) * 320);
      if (level < 30) silent += 1;
      if (level > 1000) loud += 1;
    }
    // Mostly talking, with real gaps between turns and words.
    expect(silent / windows).toBeGreaterThan(0.1);
    expect(silent / windows).toBeLessThan(0.7);
    expect(loud / windows).toBeGreaterThan(0.2);
    // No clipping at the s16 rails outside overlaps.
    const peak = samples.reduce((max, value) => Math.max(max, Math.abs(value)), 0);
    expect(peak).toBeGreaterThan(3000);
    expect(peak).toBeLessThanOrEqual(32_767);
  });

  it('has every participant speak, overlaps now and then, and emits one transcript per utterance', () => {
    const { conversation } = script(11, 4);
    const events: ConversationEvent[] = [];
    for (let t = 0; t <= 120_000; t += 500) events.push(...conversation.advance(t));
    const starts = events.filter((event) => event.type === 'utteranceStart');
    const ends = events.filter((event) => event.type === 'utteranceEnd');
    expect(new Set(starts.map((event) => event.utterance.speaker))).toEqual(new Set([0, 1, 2, 3]));
    expect(Math.abs(starts.length - ends.length)).toBeLessThanOrEqual(3);
    let overlaps = 0;
    let active = 0;
    for (const event of [...starts, ...ends].sort((a, b) => a.atMs - b.atMs || (a.type === 'utteranceEnd' ? -1 : 1))) {
      active += event.type === 'utteranceStart' ? 1 : -1;
      if (active > 1) overlaps += 1;
      expect(active).toBeLessThanOrEqual(MAX_SPEAKERS_PER_PACKET);
    }
    expect(overlaps).toBeGreaterThan(0);
    expect(events.some((event) => event.type === 'chat')).toBe(true);
    expect(events.filter((event) => event.type === 'camera').map((event) => event.type === 'camera' && event.on)).toEqual(
      expect.arrayContaining([false, true]),
    );
  });

  it('multi-stream packets carry only the people talking, at most three, and sum to the mix', () => {
    const { conversation, renderer } = script(5, 3);
    const format = { sampleRateHz: 16_000, channels: 1 } as const;
    let silentIntervals = 0;
    for (let t = 0; t < 20_000; t += 100) {
      conversation.advance(t + 100);
      const packets = renderer.perSpeaker(t, 100, format);
      expect(packets.length).toBeLessThanOrEqual(MAX_SPEAKERS_PER_PACKET);
      if (packets.length === 0) silentIntervals += 1;
      const mix = renderer.mixed(t, 100, format);
      expect(mix.length).toBe(3200);
      for (const packet of packets) expect(packet.data.length).toBe(3200);
      if (packets.length === 1) {
        // One speaker: the mix is that speaker's signal (same gain, no other voice).
        expect(packets[0]?.data.equals(mix)).toBe(true);
      }
    }
    expect(silentIntervals).toBeGreaterThan(0);
  });

  it('renders any negotiated rate and channel count with exact packet sizes', () => {
    const { conversation, renderer } = script(3);
    conversation.advance(2000);
    for (const [rate, channels, ms] of [
      [8000, 1, 20],
      [16_000, 2, 40],
      [32_000, 1, 1000],
      [48_000, 2, 20],
    ] as const) {
      expect(renderer.mixed(1000, ms, { sampleRateHz: rate, channels }).length).toBe((rate * ms * channels * 2) / 1000);
    }
  });

  it('gives Contact Center an agent and a customer with distinct channel ids', () => {
    const people = createParticipants({ product: 'contact_center', count: 5, seed: 1 });
    expect(people.map((p) => p.role)).toEqual(['agent', 'customer']);
    expect(people[0]?.channelId).not.toBe(people[1]?.channelId);
    expect(people.map((p) => p.key)).toEqual(people.map((p) => p.channelId));
  });
});
