/**
 * H.264 framing for the recording (docs/output.md "Recording"). RTMS sends each access unit in
 * Annex B form (start codes, parameter sets in front of IDR pictures); Matroska's
 * `V_MPEG4/ISO/AVC` wants NAL units prefixed by their 4-byte length, and the sequence and
 * picture parameter sets once in the track's `AVCDecoderConfigurationRecord` (ISO/IEC 14496-15
 * §5.3.3). Only the framing changes: the coded NAL units go in byte for byte, never re-encoded.
 */

const NAL_SPS = 7;
const NAL_PPS = 8;
const NAL_AUD = 9;

/** The NAL units of an Annex B access unit (without start codes or trailing zero bytes). */
export function annexBNalUnits(accessUnit: Uint8Array): Uint8Array[] {
  const units: Uint8Array[] = [];
  let start = -1;
  for (let i = 0; i + 2 < accessUnit.length; i++) {
    if (accessUnit[i] !== 0 || accessUnit[i + 1] !== 0 || accessUnit[i + 2] !== 1) continue;
    if (start >= 0) units.push(trimTrailingZeros(accessUnit, start, i));
    start = i + 3;
    i += 2;
  }
  if (start >= 0 && start < accessUnit.length) units.push(accessUnit.subarray(start));
  return units.filter((unit) => unit.length > 0);
}

function trimTrailingZeros(data: Uint8Array, start: number, end: number): Uint8Array {
  let last = end;
  while (last > start && data[last - 1] === 0) last--;
  return data.subarray(start, last);
}

function nalType(unit: Uint8Array): number {
  return (unit[0] ?? 0) & 0x1f;
}

/** An access unit made ready for a Matroska block, and the parameter sets it carried. */
export interface AvcSample {
  /** The picture's NAL units, each after its 4-byte big-endian length. */
  readonly data: Uint8Array;
  readonly sps: Uint8Array | undefined;
  readonly pps: Uint8Array | undefined;
}

/**
 * Splits off the parameter sets and access unit delimiters (they go to the decoder
 * configuration record) and length-prefixes the rest. Undefined when no NAL unit is left.
 */
export function toLengthPrefixed(accessUnit: Uint8Array): AvcSample | undefined {
  let sps: Uint8Array | undefined;
  let pps: Uint8Array | undefined;
  const kept: Uint8Array[] = [];
  for (const unit of annexBNalUnits(accessUnit)) {
    const type = nalType(unit);
    if (type === NAL_SPS) sps ??= unit;
    else if (type === NAL_PPS) pps ??= unit;
    else if (type !== NAL_AUD) kept.push(unit);
  }
  if (kept.length === 0) return undefined;
  const data = new Uint8Array(kept.reduce((sum, unit) => sum + 4 + unit.length, 0));
  const view = new DataView(data.buffer);
  let offset = 0;
  for (const unit of kept) {
    view.setUint32(offset, unit.length);
    data.set(unit, offset + 4);
    offset += 4 + unit.length;
  }
  return { data, sps, pps };
}

/** The `AVCDecoderConfigurationRecord` for one SPS and one PPS, with 4-byte NAL lengths. */
export function avcDecoderConfigurationRecord(sps: Uint8Array, pps: Uint8Array): Uint8Array {
  const record = new Uint8Array(11 + sps.length + pps.length);
  record.set([1, sps[1] ?? 0, sps[2] ?? 0, sps[3] ?? 0, 0xff, 0xe1, sps.length >> 8, sps.length & 0xff]);
  record.set(sps, 8);
  record.set([1, pps.length >> 8, pps.length & 0xff], 8 + sps.length);
  record.set(pps, 11 + sps.length);
  return record;
}

/** The WebCodecs codec string (`avc1.PPCCLL`) of an SPS. */
export function avcCodecString(sps: Uint8Array): string {
  const hex = (byte: number | undefined): string => (byte ?? 0).toString(16).padStart(2, '0');
  return `avc1.${hex(sps[1])}${hex(sps[2])}${hex(sps[3])}`;
}
