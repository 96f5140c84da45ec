import type { Config, MediaConfig } from '../../config.ts';

/**
 * Whether a stream gets the synced recording (`RECORDING`, docs/configuration.md): `auto`
 * when it carries H.264 video or screen share (the case the bare `.h264` files cannot keep in
 * time), `on` also for audio-only streams with mixed audio, `off` never.
 */
export function recordingWanted(setting: Config['output']['recording'], media: Pick<MediaConfig, 'kinds' | 'audio' | 'video' | 'deskshare'>): boolean {
  if (setting === 'off') return false;
  const h264 = (['video', 'deskshare'] as const).some((kind) => media.kinds.includes(kind) && media[kind].codec === 'h264');
  if (h264) return true;
  return setting === 'on' && media.kinds.includes('audio') && media.audio.mode === 'mixed';
}
