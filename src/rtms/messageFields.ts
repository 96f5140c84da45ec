/**
 * Readers of the fields of a parsed RTMS message, used only by the decoder
 * (decodeRtmsMessage.ts, mediaMessage.ts, mediaParams.ts): each answers `undefined` for a field
 * that is absent or of another type, never throws.
 */

export function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

export function intField(record: Record<string, unknown> | undefined, key: string): number | undefined {
  const value = record?.[key];
  return typeof value === 'number' && Number.isInteger(value) ? value : undefined;
}

export function numberField(record: Record<string, unknown> | undefined, key: string): number | undefined {
  const value = record?.[key];
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

export function stringField(record: Record<string, unknown> | undefined, key: string): string | undefined {
  const value = record?.[key];
  return typeof value === 'string' ? value : undefined;
}

/** A user id: a number or a non-empty string (Zoom documents uint32, its examples show strings). */
export function idField(record: Record<string, unknown> | undefined, key: string): string | undefined {
  const value = record?.[key];
  return typeof value === 'number' || (typeof value === 'string' && value !== '') ? String(value) : undefined;
}
