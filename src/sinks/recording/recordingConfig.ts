import type { EnvReader } from '../../envReader.ts';

/** The synced recording's settings (docs/configuration.md), read with the rest of the config. */
export interface RecordingConfig {
  /** `RECORDING`, docs/output.md "Recording". */
  readonly recording: 'auto' | 'on' | 'off';
  /**
   * `RECORDING_CAPTION_DELAY_MS`: how long the recording holds its media back so transcript
   * lines (sent when they end) go into its subtitle track at their starts; 0: no subtitle track.
   */
  readonly recordingCaptionDelayMs: number;
}

export function readRecordingConfig(read: EnvReader): RecordingConfig {
  return {
    recording: read.oneOf('RECORDING', ['auto', 'on', 'off'] as const, 'auto'),
    recordingCaptionDelayMs: read.int('RECORDING_CAPTION_DELAY_MS', 10_000, 0, 60_000),
  };
}
