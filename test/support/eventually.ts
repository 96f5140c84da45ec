/**
 * Waits for a condition the test can observe, with a deadline and a failure message that says
 * what was awaited and what was last seen. The one polling loop of the suite: tests wait on
 * what happened, never for a fixed time. No vitest import, so bench/ can use it too.
 */
export interface EventuallyOptions {
  /** What is awaited, for the failure message ("the stream to end"). */
  readonly what: string;
  readonly timeoutMs?: number;
  readonly intervalMs?: number;
  /** The state worth printing when the deadline passes (called once, then). */
  readonly state?: () => unknown;
}

/**
 * Calls `probe` until it returns something other than `undefined` or `false`, and resolves
 * with that. A probe that throws is retried; its last error goes into the failure message.
 * What the probe returns is awaited: to wait for a promise to exist, return a flag and await
 * the promise afterwards.
 */
export async function eventually<T>(probe: () => T | Promise<T>, options: EventuallyOptions): Promise<Exclude<T, undefined | false>> {
  const timeoutMs = options.timeoutMs ?? 20_000;
  const intervalMs = options.intervalMs ?? 25;
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  let lastError: unknown;
  for (;;) {
    try {
      last = await probe();
      lastError = undefined;
      if (last !== undefined && last !== false) return last as Exclude<T, undefined | false>;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= deadline) break;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  const seen =
    lastError !== undefined ? `last error: ${lastError instanceof Error ? lastError.message : describe(lastError)}` : `last probe: ${describe(last)}`;
  const state = options.state === undefined ? '' : `; state: ${describe(options.state())}`;
  throw new Error(`${options.what}: not observed within ${timeoutMs} ms (${seen}${state})`);
}

function describe(value: unknown): string {
  if (typeof value === 'string') return value;
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}
