// Slow start (kube-controller-manager's slowStartBatch): creations go in batches of 1, 2, 4, 8...,
// each batch in parallel, and the first batch with a failure ends the run. A template the API refuses
// (quota, validation, a terminating namespace) then costs one request, not `replicas` requests.

/** kube-controller-manager's SlowStartInitialBatchSize. */
export const SLOW_START_INITIAL_BATCH = 1;

export interface SlowStartResult {
  /** Calls that succeeded. */
  successes: number;
  /** Calls made and failed (at most one batch's worth). */
  failures: number;
  /** Calls never made because an earlier batch failed. */
  skipped: number;
  /** The first failure, when there was one. */
  error?: unknown;
}

/** Runs `fn` `count` times in doubling batches; `fn` gets the call's index (0-based). */
export async function slowStartBatch(count: number, fn: (i: number) => Promise<void>, initialBatch = SLOW_START_INITIAL_BATCH): Promise<SlowStartResult> {
  let done = 0;
  let successes = 0;
  let batch = Math.min(count, initialBatch);
  while (batch > 0) {
    const results = await Promise.allSettled(Array.from({ length: batch }, (_, j) => fn(done + j)));
    done += batch;
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    successes += batch - failed.length;
    if (failed.length > 0) return { successes, failures: failed.length, skipped: count - done, error: failed[0].reason };
    batch = Math.min(2 * batch, count - done);
  }
  return { successes, failures: 0, skipped: 0 };
}
