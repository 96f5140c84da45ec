import { createHash } from 'node:crypto';

const PLAIN = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * A participant id (Zoom `user_id` number, Contact Center `channel_id` string) as part of a
 * file name. Plain ids (letters, digits, `_`, `-`, at most 64) are kept as they are, so
 * `audio-16778240.wav` reads naturally. Any other id could escape the directory (`/`,
 * `..`) or be unwritable, so its other characters become `_`, it is cut to 48 characters
 * and `~` plus 8 hex digits of its SHA-256 are appended: since `~` never occurs in a plain
 * id, two distinct ids never share a file.
 */
export function fileSafeId(id: string): string {
  if (PLAIN.test(id)) return id;
  const readable = id.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 48);
  const hash = createHash('sha256').update(id, 'utf8').digest('hex').slice(0, 8);
  return `${readable}~${hash}`;
}
