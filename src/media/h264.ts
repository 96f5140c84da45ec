/**
 * What the connector needs to know about an H.264 access unit (ITU-T H.264 §7.3.1, Annex B):
 * how it is framed, and whether a decoder can start at it.
 */

/** nal_unit_type of a coded slice of a non-IDR picture. */
export const NAL_SLICE = 1;
/** nal_unit_type of a coded slice of an IDR picture: the decoder's reference chain starts over. */
export const NAL_IDR = 5;

/** Whether `data` begins with `00 00 01` or `00 00 00 01`. */
export function startsWithStartCode(data: Buffer): boolean {
  if (data.length < 3 || data[0] !== 0 || data[1] !== 0) return false;
  return data[2] === 1 || startsWithLongStartCode(data);
}

export function startsWithLongStartCode(data: Buffer): boolean {
  return data.length >= 4 && data[0] === 0 && data[1] === 0 && data[2] === 0 && data[3] === 1;
}

/**
 * NAL units of an AVCC access unit, or undefined unless the 4-byte lengths exactly cover it
 * and every unit has a plausible header (forbidden bit 0, type 1–23).
 */
export function splitLengthPrefixed(data: Buffer): Buffer[] | undefined {
  const units: Buffer[] = [];
  let offset = 0;
  while (offset + 4 <= data.length) {
    const length = data.readUInt32BE(offset);
    if (length === 0 || offset + 4 + length > data.length) return undefined;
    const header = data[offset + 4]!;
    const type = header & 0x1f;
    if ((header & 0x80) !== 0 || type === 0 || type > 23) return undefined;
    units.push(data.subarray(offset + 4, offset + 4 + length));
    offset += 4 + length;
  }
  return offset === data.length && units.length > 0 ? units : undefined;
}

/**
 * Whether the access unit holds an IDR picture, so a decoder can start (or start over) at
 * it. Tells the framings apart in the same order as AnnexBWriter: a 4-byte start code is
 * Annex B; otherwise a unit starting with a zero byte is AVCC if it parses completely as
 * such, else Annex B (3-byte start code, or extra leading zeros); anything else is a bare NAL
 * unit. Stops at the first picture slice: only the parameter sets and SEI in front of it are
 * scanned, never the picture data.
 */
export function isIdrAccessUnit(accessUnit: Buffer): boolean {
  if (accessUnit.length === 0) return false;
  if (accessUnit[0] !== 0) return nalType(accessUnit[0]) === NAL_IDR;
  const nalUnits = startsWithLongStartCode(accessUnit) ? undefined : splitLengthPrefixed(accessUnit);
  if (nalUnits !== undefined) {
    const firstSlice = nalUnits.find((nal) => isSlice(nalType(nal[0])));
    return firstSlice !== undefined && nalType(firstSlice[0]) === NAL_IDR;
  }
  for (let i = 0; i + 3 < accessUnit.length; i++) {
    if (accessUnit[i] !== 0 || accessUnit[i + 1] !== 0 || accessUnit[i + 2] !== 1) continue;
    const type = nalType(accessUnit[i + 3]);
    if (isSlice(type)) return type === NAL_IDR;
    i += 3;
  }
  return false;
}

function nalType(header: number | undefined): number {
  return (header ?? 0) & 0x1f;
}

function isSlice(type: number): boolean {
  return type >= NAL_SLICE && type <= NAL_IDR;
}
