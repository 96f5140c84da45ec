/**
 * The picture size an H.264 sequence parameter set declares (ITU-T H.264 §7.3.2.1.1 and the
 * frame cropping of §7.4.2.1.1), for the recording's video track header (docs/output.md
 * "Recording"). Reads only the fields in front of the size; undefined for an SPS it cannot read.
 */

/** Reads bits MSB first from an RBSP (emulation prevention bytes already removed). */
class BitReader {
  readonly #data: Uint8Array;
  #bit = 0;

  constructor(data: Uint8Array) {
    this.#data = data;
  }

  bit(): number {
    const byte = this.#data[this.#bit >> 3];
    if (byte === undefined) throw new RangeError('SPS ended early');
    const value = (byte >> (7 - (this.#bit & 7))) & 1;
    this.#bit += 1;
    return value;
  }

  bits(count: number): number {
    let value = 0;
    for (let i = 0; i < count; i++) value = value * 2 + this.bit();
    return value;
  }

  /** ue(v): Exp-Golomb. */
  ue(): number {
    let zeros = 0;
    while (this.bit() === 0) {
      zeros += 1;
      if (zeros > 31) throw new RangeError('bad Exp-Golomb code in SPS');
    }
    return 2 ** zeros - 1 + this.bits(zeros);
  }

  /** se(v): signed Exp-Golomb. */
  se(): number {
    const code = this.ue();
    return code % 2 === 1 ? (code + 1) / 2 : -code / 2;
  }
}

/** The NAL payload without its header byte and without emulation prevention bytes (00 00 03). */
function rbsp(nal: Uint8Array): Uint8Array {
  const out: number[] = [];
  let zeros = 0;
  for (let i = 1; i < nal.length; i++) {
    const byte = nal[i] ?? 0;
    if (byte === 3 && zeros >= 2) {
      zeros = 0;
      continue;
    }
    out.push(byte);
    zeros = byte === 0 ? zeros + 1 : 0;
  }
  return Uint8Array.from(out);
}

const HIGH_PROFILES = new Set([100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135]);

function skipScalingList(reader: BitReader, size: number): void {
  let last = 8;
  let next = 8;
  for (let j = 0; j < size; j++) {
    if (next !== 0) next = (last + reader.se() + 256) % 256;
    last = next === 0 ? last : next;
  }
}

export function avcPictureSize(sps: Uint8Array): { width: number; height: number } | undefined {
  try {
    const reader = new BitReader(rbsp(sps));
    const profile = reader.bits(8);
    reader.bits(16); // constraint flags, level_idc
    reader.ue(); // seq_parameter_set_id
    let chromaFormat = 1;
    if (HIGH_PROFILES.has(profile)) {
      chromaFormat = reader.ue();
      if (chromaFormat === 3) reader.bit(); // separate_colour_plane_flag
      reader.ue(); // bit_depth_luma_minus8
      reader.ue(); // bit_depth_chroma_minus8
      reader.bit(); // qpprime_y_zero_transform_bypass_flag
      if (reader.bit() === 1) {
        for (let i = 0; i < (chromaFormat === 3 ? 12 : 8); i++) if (reader.bit() === 1) skipScalingList(reader, i < 6 ? 16 : 64);
      }
    }
    reader.ue(); // log2_max_frame_num_minus4
    const pocType = reader.ue();
    if (pocType === 0) reader.ue();
    else if (pocType === 1) {
      reader.bit();
      reader.se();
      reader.se();
      const cycle = reader.ue();
      for (let i = 0; i < cycle; i++) reader.se();
    }
    reader.ue(); // max_num_ref_frames
    reader.bit(); // gaps_in_frame_num_value_allowed_flag
    const widthMbs = reader.ue() + 1;
    const heightMapUnits = reader.ue() + 1;
    const frameMbsOnly = reader.bit();
    if (frameMbsOnly === 0) reader.bit(); // mb_adaptive_frame_field_flag
    reader.bit(); // direct_8x8_inference_flag
    let crop = [0, 0, 0, 0];
    if (reader.bit() === 1) crop = [reader.ue(), reader.ue(), reader.ue(), reader.ue()];
    const cropX = chromaFormat === 0 || chromaFormat === 3 ? 1 : 2;
    const cropY = (chromaFormat === 1 ? 2 : 1) * (2 - frameMbsOnly);
    const width = widthMbs * 16 - cropX * ((crop[0] ?? 0) + (crop[1] ?? 0));
    const height = (2 - frameMbsOnly) * heightMapUnits * 16 - cropY * ((crop[2] ?? 0) + (crop[3] ?? 0));
    return width > 0 && height > 0 ? { width, height } : undefined;
  } catch {
    return undefined;
  }
}
