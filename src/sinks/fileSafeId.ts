import { createHash } from 'node:crypto';

const PLAIN = /^[A-Za-z0-9_-]{1,64}$/;

/** Hex digits of SHA-256 kept in a non-plain name: 128 bits, so finding two ids that share one takes ~2^64 hashes. */
const HASH_HEX_DIGITS = 32;

/**
 * A stream id (directory name) or participant id (Zoom `user_id` number, Contact Center
 * `channel_id` string) as part of a file name. Plain ids (letters, digits, `_`, `-`, at
 * most 64) are kept as they are, so `audio-16778240.wav` reads naturally. Any other id
 * could escape the directory (`/`, `..`) or be unwritable, so its other characters become
 * `_`, it is cut to 48 characters and `~` plus 32 hex digits (128 bits) of its SHA-256 are
 * appended. `~` never occurs in a plain id, so plain and non-plain names never meet; two
 * non-plain ids share a name only if their hashes collide, which nobody can arrange (with
 * 32 bits, a colliding pair took 93 ms to find and two streams then shared one directory).
 */
export function fileSafeId(id: string): string {
  if (PLAIN.test(id)) return id;
  const readable = id.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 48);
  const hash = createHash('sha256').update(id, 'utf8').digest('hex').slice(0, HASH_HEX_DIGITS);
  return `${readable}~${hash}`;
}
