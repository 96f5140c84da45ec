/** Adds `value` to `counts[key]`; a zero leaves the key out. */
export function addCount(counts: Record<string, number>, key: string, value = 1): void {
  if (value !== 0) counts[key] = (counts[key] ?? 0) + value;
}
