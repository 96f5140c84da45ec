import { describeError } from '../../errors.ts';
import type { Logger } from '../../logger.ts';
import type { StreamSink } from '../../sinks/streamSink.ts';
import type { WorkerMetrics } from '../workerMetrics.ts';

/**
 * Counts and logs what goes wrong in a stream's sink. A `fault` is a file that cannot be
 * written (each incident once): the sink retries it or starts a new part. An `error` is the
 * sink failing as a whole: from then on its frames are counted as dropped.
 */
export function reportSinkFaults(sink: StreamSink, metrics: Pick<WorkerMetrics, 'sinkError'>, logger: Logger): void {
  sink.on('fault', (fault: { file: string; code: string; lost: boolean }) => {
    metrics.sinkError(fault.code);
    logger.warn({ file: fault.file, code: fault.code, lost: fault.lost }, 'stream file cannot be written');
  });
  sink.on('error', (error: unknown) => {
    const cause = error instanceof Error ? (error.cause as { code?: unknown } | undefined)?.code : undefined;
    metrics.sinkError(typeof cause === 'string' ? cause : describeError(error).code);
    logger.error({ err: describeError(error) }, 'sink failed; frames for this stream are now counted as dropped');
  });
}
