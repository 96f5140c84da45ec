import { open, readdir, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { ObjectStoreError } from './objectStoreErrors.ts';

/** A file of a stream directory as the uploader sees it: path relative to the directory, size, and `<size>:<mtime>`. */
export interface LocalFile {
  readonly name: string;
  readonly size: number;
  readonly signature: string;
}

/** Growing files streamed as parts: WAV, H.264 and JSON-lines media (not `events.jsonl`). */
export function isStreamed(file: string): boolean {
  return /\.(wav|h264)$/.test(file) || (file.endsWith('.jsonl') && !/(^|\/)events\.jsonl$/.test(file));
}

/** `length` bytes of the file at `path` from `offset` (a part of a growing file). */
export async function readPart(path: string, offset: number, length: number): Promise<Buffer> {
  const file = await openLocal(path);
  try {
    return await readRange(file, offset, length, path);
  } finally {
    await file.close();
  }
}

/** Opens a local file for reading; a failure is a `local_read`. */
export async function openLocal(path: string): Promise<FileHandle> {
  try {
    return await open(path, 'r');
  } catch (error) {
    throw new ObjectStoreError('local_read', `cannot read ${path}`, error);
  }
}

/** Exactly `length` bytes of `file` from `offset` (`path` names it in errors); a short file is a `local_read`. */
export async function readRange(file: FileHandle, offset: number, length: number, path: string): Promise<Buffer> {
  const buffer = Buffer.alloc(length);
  let read = 0;
  try {
    while (read < length) {
      const { bytesRead } = await file.read(buffer, read, length - read, offset + read);
      if (bytesRead === 0) break;
      read += bytesRead;
    }
  } catch (error) {
    throw new ObjectStoreError('local_read', `cannot read ${path}`, error);
  }
  if (read < length) throw new ObjectStoreError('local_read', `${path} is shorter than expected`);
  return buffer;
}

export async function signatureOf(path: string): Promise<string> {
  try {
    const info = await stat(path);
    return `${info.size}:${info.mtimeMs}`;
  } catch {
    return '';
  }
}

/**
 * Every file under the stream directory (recursively), except hidden and temporary ones. An
 * image already stored is not looked at again (they are written once, by rename): a video of
 * one JPEG per frame makes thousands of them.
 */
export async function listFiles(directory: string, uploaded?: Readonly<Record<string, string>>): Promise<LocalFile[]> {
  let entries: string[];
  try {
    entries = await readdir(directory, { recursive: true });
  } catch (error) {
    throw new ObjectStoreError('local_read', `cannot list ${directory}`, error);
  }
  const files: LocalFile[] = [];
  for (const name of entries.sort()) {
    if (name.split('/').some((segment) => segment.startsWith('.')) || name.endsWith('.tmp')) continue;
    if (name.endsWith('.jpg') && uploaded?.[name] !== undefined) continue;
    try {
      const info = await stat(join(directory, name));
      if (info.isFile()) files.push({ name, size: info.size, signature: `${info.size}:${info.mtimeMs}` });
    } catch {
      // Gone meanwhile (a temporary file renamed): seen at the next scan if it matters.
    }
  }
  return files;
}
