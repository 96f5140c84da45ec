import { join } from 'node:path';
import { fileSafeId } from './fileSafeId.ts';

/**
 * `OUTPUT_DIR/<rtms_stream_id>`. Stream ids are hex in practice and are kept as they are;
 * the id comes from a webhook, so anything that could escape the directory is made safe, and
 * two distinct ids never get one directory (`fileSafeId` keeps 128 bits of hash).
 */
export function streamDirectory(outputDir: string, rtmsStreamId: string): string {
  return join(outputDir, fileSafeId(rtmsStreamId));
}
