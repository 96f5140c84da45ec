import { writeFile } from 'node:fs/promises';
import { makeDirectory } from '../media/makeDirectory.ts';
import { join } from 'node:path';
import { lifecycleEvent } from '../vocabulary/frame.ts';
import type { StreamStart } from '../rtms/products.ts';
import { readPreviousStream } from './streamCheckpoint.ts';
import { lateAttemptDirectory } from './streamContinuation.ts';
import { streamDirectory } from './streamDirectory.ts';

/**
 * A stream refused at admission leaves a trace where consumers look, without any connection
 * being made: `stream.json` with state `rejected` and the reason, and one `stream.rejected`
 * line in `events.jsonl`. A directory an earlier run wrote keeps its files and `stream.json`:
 * the rejection of a late `rtms_started` is recorded beside them, in `attempts/<n>/`.
 */
export async function recordRejection(options: { outputDir: string; start: StreamStart; reason: string; at: number }): Promise<void> {
  const { start, reason, at } = options;
  const streamDir = streamDirectory(options.outputDir, start.rtmsStreamId);
  const previous = readPreviousStream(streamDir);
  // Only a directory holding nothing but an earlier rejection is replaced.
  const besides = previous !== undefined && previous.state !== 'rejected';
  const directory = besides ? join(streamDir, lateAttemptDirectory(streamDir, start.rtmsStreamId, at, previous.state)) : streamDir;
  await makeDirectory(directory);
  const event = lifecycleEvent('stream.rejected', { rtmsStreamId: start.rtmsStreamId, reason }, at);
  await writeFile(join(directory, 'events.jsonl'), `${JSON.stringify(event)}\n`, { flag: 'a' });
  const metadata = {
    rtmsStreamId: start.rtmsStreamId,
    product: start.product,
    entityIdKey: start.entityIdKey,
    entityId: start.entityId,
    state: 'rejected',
    failure: reason,
    createdAt: new Date(at).toISOString(),
    files: ['stream.json', 'events.jsonl'],
  };
  await writeFile(join(directory, 'stream.json'), `${JSON.stringify(metadata, null, 2)}\n`);
}
