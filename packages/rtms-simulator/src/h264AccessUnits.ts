import { NAL_IDR, NAL_SLICE } from './connectorShared.ts';

/**
 * Splits an H.264 Annex B byte stream into access units (one coded picture plus the
 * parameter sets, SEI and delimiter in front of it), following the first-of-access-unit
 * rules of ITU-T H.264 §7.4.1.2.3. One RTMS video message carries one access unit.
 */

/** NAL unit types that open a new access unit when a picture has already been seen. */
const PREFIX_TYPES = new Set([6, 7, 8, 9, 14, 15, 16, 17, 18]);

interface NalPosition {
  /** Offset of the start code (including a leading zero byte of a 4-byte code). */
  readonly begin: number;
  readonly type: number;
  /** First byte after the NAL header, or -1 when the unit has no payload. */
  readonly payload: number;
}

function findNals(stream: Buffer): NalPosition[] {
  const nals: NalPosition[] = [];
  let i = 0;
  while (i + 3 <= stream.length) {
    if (stream[i] === 0 && stream[i + 1] === 0 && stream[i + 2] === 1) {
      const header = i + 3;
      const begin = i > 0 && stream[i - 1] === 0 ? i - 1 : i;
      if (header < stream.length) {
        nals.push({ begin, type: (stream[header] ?? 0) & 0x1f, payload: header + 1 < stream.length ? header + 1 : -1 });
      }
      i = header;
    } else {
      i += 1;
    }
  }
  return nals;
}

/** Splits an Annex B stream; each returned buffer starts with a start code. Slices share memory with `stream`. */
export function splitAccessUnits(stream: Buffer): Buffer[] {
  const nals = findNals(stream);
  const units: Buffer[] = [];
  let auBegin = -1;
  let hasPicture = false;
  for (const nal of nals) {
    let opensUnit = false;
    if (nal.type === 9) {
      opensUnit = true;
    } else if (hasPicture && PREFIX_TYPES.has(nal.type)) {
      opensUnit = true;
    } else if (hasPicture && (nal.type === NAL_SLICE || nal.type === NAL_IDR)) {
      // first_mb_in_slice is ue(v); it is 0 (a new picture) exactly when its first bit is 1.
      opensUnit = nal.payload >= 0 && ((stream[nal.payload] ?? 0) & 0x80) !== 0;
    }
    if (opensUnit && auBegin >= 0) {
      units.push(stream.subarray(auBegin, nal.begin));
      auBegin = -1;
      hasPicture = false;
    }
    if (auBegin < 0) auBegin = nal.begin;
    if (nal.type === NAL_SLICE || nal.type === NAL_IDR) hasPicture = true;
  }
  if (auBegin >= 0 && hasPicture) units.push(stream.subarray(auBegin));
  return units;
}

/** NAL unit types in an access unit, in order. */
export function nalUnitTypes(accessUnit: Buffer): number[] {
  return findNals(accessUnit).map((nal) => nal.type);
}

/** The SPS and PPS NAL units of an access unit (start codes included), concatenated in order. */
export function parameterSets(accessUnit: Buffer): Buffer {
  const nals = findNals(accessUnit);
  const parts: Buffer[] = [];
  nals.forEach((nal, i) => {
    if (nal.type === 7 || nal.type === 8) parts.push(accessUnit.subarray(nal.begin, nals[i + 1]?.begin ?? accessUnit.length));
  });
  return Buffer.concat(parts);
}

/** The connector's own test of where a decoder can start, so both sides agree. */
export { isIdrAccessUnit } from './connectorShared.ts';
