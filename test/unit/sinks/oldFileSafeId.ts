import { createHash } from 'node:crypto';

/** The earlier naming: 48 readable characters, `~`, 8 hex digits of SHA-256. */
export function oldName(id: string): string {
  return `${id.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 48)}~${createHash('sha256').update(id).digest('hex').slice(0, 8)}`;
}

/** Two ids with one old name: a birthday search, ~2^16 tries. */
export function oldHashCollision(): [string, string] {
  const seen = new Map<string, string>();
  for (let i = 0; ; i++) {
    const id = `${'C'.repeat(48)}.${i}`;
    const name = oldName(id);
    const other = seen.get(name);
    if (other !== undefined) return [other, id];
    seen.set(name, id);
  }
}
