import { describe, expect, it } from 'vitest';
import type { MediaKind } from '../../../../src/vocabulary/mediaKind.ts';
import { DEFAULT_MEDIA_PARAMS, negotiateMedia } from '../../src/mediaNegotiation.ts';

const ALL: readonly MediaKind[] = ['audio', 'video', 'deskshare', 'transcript', 'chat'];

function negotiate(mediaType: unknown, mediaParams?: unknown, options: { scopes?: readonly MediaKind[]; connected?: MediaKind[]; hasAll?: boolean } = {}) {
  return negotiateMedia({
    mediaType,
    mediaParams,
    scopes: options.scopes ?? ALL,
    connectedKinds: new Set(options.connected ?? []),
    hasAllSocket: options.hasAll ?? false,
  });
}

function status(result: ReturnType<typeof negotiate>): number {
  return result.ok ? 0 : result.statusCode;
}

describe('negotiateMedia', () => {
  it('fills in the documented defaults', () => {
    const result = negotiate(32);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.all).toBe(true);
    expect(result.kinds).toEqual(ALL);
    expect(result.params).toEqual(DEFAULT_MEDIA_PARAMS);
    expect(result.params.audio).toEqual({ content_type: 2, sample_rate: 1, channel: 1, codec: 1, data_opt: 1, send_rate: 20 });
    expect(result.params.video).toEqual({ content_type: 3, codec: 5, resolution: 2, data_opt: 3, fps: 5 });
    expect(result.params.deskshare).toEqual({ content_type: 3, codec: 5, resolution: 3, fps: 1 });
    expect(result.params.transcript).toEqual({ content_type: 5, src_language: 9, enable_lid: true });
  });

  it('answers only for the kinds of the socket', () => {
    const result = negotiate(1 | 8, { audio: { sample_rate: 3, channel: 2, data_opt: 2, send_rate: 100 }, video: { fps: 99 } });
    expect(result).toEqual({
      ok: true,
      kinds: ['audio', 'transcript'],
      all: false,
      params: {
        audio: { content_type: 2, sample_rate: 3, channel: 2, codec: 1, data_opt: 2, send_rate: 100 },
        transcript: { content_type: 5, src_language: 9, enable_lid: true },
      },
    });
  });

  it.each([
    [0, 14],
    [64, 14],
    [-1, 14],
    ['1', 14],
    [1.5, 14],
  ])('media_type %j -> status %i', (mediaType, expected) => {
    expect(status(negotiate(mediaType))).toBe(expected);
  });

  it.each([
    ['audio', 1, 9],
    ['video', 2, 10],
    ['deskshare', 4, 11],
    ['transcript', 8, 12],
    ['chat', 16, 13],
  ] as const)('a %s socket without the scope -> status %i', (kind, bit, expected) => {
    expect(status(negotiate(bit, undefined, { scopes: ALL.filter((k) => k !== kind) }))).toBe(expected);
  });

  it('all covers only the scoped kinds', () => {
    const result = negotiate(32, undefined, { scopes: ['audio', 'transcript'] });
    expect(result.ok && result.kinds).toEqual(['audio', 'transcript']);
  });

  it('refuses duplicates (16) and mixing all with per-kind sockets (15)', () => {
    expect(status(negotiate(1, undefined, { connected: ['audio'] }))).toBe(16);
    expect(status(negotiate(1 | 2, undefined, { connected: ['video'] }))).toBe(16);
    expect(status(negotiate(32, undefined, { connected: ALL as MediaKind[], hasAll: true }))).toBe(16);
    expect(status(negotiate(32, undefined, { connected: ['audio'] }))).toBe(15);
    expect(status(negotiate(2, undefined, { connected: ALL as MediaKind[], hasAll: true }))).toBe(15);
    expect(status(negotiate(2, undefined, { connected: ['audio'] }))).toBe(0);
  });

  it.each([
    [{ audio: { send_rate: 30 } }, 24],
    [{ audio: { send_rate: 0 } }, 24],
    [{ audio: { send_rate: 'fast' } }, 24],
    [{ audio: { content_type: 3 } }, 19],
    [{ audio: { sample_rate: 4 } }, 20],
    [{ audio: { channel: 3 } }, 21],
    [{ audio: { codec: 9 } }, 22],
    [{ audio: { data_opt: 3 } }, 23],
    [{ audio: { codec: 4, sample_rate: 1 } }, 20],
    [{ audio: { codec: 2, channel: 2 } }, 21],
    [{ audio: { codec: 2, send_rate: 40 } }, 24],
    [{ audio: 'yes' }, 18],
    ['params', 17],
  ])('audio params %j -> status %i', (mediaParams, expected) => {
    expect(status(negotiate(1, mediaParams))).toBe(expected);
  });

  it('clamps send_rate above 1000 ms to 1000 (documented) and refuses unimplemented codecs with 22', () => {
    const result = negotiate(1, { audio: { send_rate: 2000 } });
    expect(result.ok && result.params.audio?.send_rate).toBe(1000);
    const opus = negotiate(1, { audio: { codec: 4, sample_rate: 3 } });
    expect(opus).toMatchObject({ ok: false, statusCode: 22 });
    expect(opus.ok ? '' : opus.reason).toMatch(/not implemented by the simulator/);
  });

  it.each([
    [{ video: { content_type: 2 } }, 2, 26],
    [{ video: { codec: 1 } }, 2, 27],
    [{ video: { resolution: 5 } }, 2, 28],
    [{ video: { data_opt: 1 } }, 2, 29],
    [{ video: { codec: 5, fps: 10 } }, 2, 30],
    [{ video: { codec: 7, fps: 31 } }, 2, 30],
    [{ video: { codec: 7, fps: 0 } }, 2, 30],
    [{ video: 3 }, 2, 25],
    [{ deskshare: { content_type: 5 } }, 4, 32],
    [{ deskshare: { codec: 2 } }, 4, 33],
    [{ deskshare: { resolution: 0 } }, 4, 34],
    [{ deskshare: { codec: 5, fps: 2 } }, 4, 35],
    [{ deskshare: [] }, 4, 31],
    [{ transcript: { content_type: 3 } }, 8, 37],
    [{ transcript: { src_language: 37 } }, 8, 43],
    [{ transcript: { enable_lid: 'no' } }, 8, 36],
    [{ chat: { content_type: 2 } }, 16, 39],
    [{ chat: 'x' }, 16, 38],
  ])('params %j on media_type %i -> status %i', (mediaParams, mediaType, expected) => {
    expect(status(negotiate(mediaType, mediaParams))).toBe(expected);
  });

  it('accepts H.264 up to 30 fps and falls back to JPG at 5 fps when fps > 5 comes without a codec', () => {
    const h264 = negotiate(2, { video: { codec: 7, fps: 30 } });
    expect(h264.ok && h264.params.video).toEqual({ content_type: 3, codec: 7, resolution: 2, data_opt: 3, fps: 30 });
    const fallback = negotiate(2, { video: { fps: 25 } });
    expect(fallback.ok && fallback.params.video).toMatchObject({ codec: 5, fps: 5 });
    const h264Default = negotiate(2, { video: { codec: 7 } });
    expect(h264Default.ok && h264Default.params.video?.fps).toBe(25);
  });
});
