// Periodic compaction for any Backend, as kube-apiserver runs it against etcd: every interval,
// compact to the revision seen at the previous pass. History therefore always covers at least one
// interval, so a watcher that reconnects within it resumes instead of getting 410 Gone and
// relisting everything; `keepRevisions` additionally keeps at least that many revisions.
//
// Callers: src/cmd, once per process that owns storage. Several API servers sharing one etcd may
// each run one: compacting at or below the current floor is a no-op.

import type { Backend } from './backend.ts';
import { BackendClosedError } from './errors.ts';
import { realClock, type Clock, type Timer } from '../util/clock.ts';

export interface CompactorOptions {
  /** Time between passes; Kubernetes uses 5 minutes. */
  intervalMs?: number;
  /** Revisions always kept below the head, on top of the one-interval rule. */
  keepRevisions?: number;
  clock?: Clock;
  /** Told about failed passes (the compactor keeps going); defaults to a process warning. */
  onError?: (err: unknown) => void;
}

export interface Compactor {
  /** Runs one pass now; resolves to the compacted revision afterwards. */
  runOnce(): Promise<number>;
  /** Resolves when no pass is running (tests on fake time await it after advancing the clock). */
  idle(): Promise<void>;
  /** Stops scheduling passes; a pass in flight finishes. Idempotent. */
  stop(): void;
}

export const DEFAULT_COMPACTION_INTERVAL_MS = 5 * 60 * 1000;

export function startCompactor(backend: Backend, opts: CompactorOptions = {}): Compactor {
  const intervalMs = opts.intervalMs ?? DEFAULT_COMPACTION_INTERVAL_MS;
  const keep = Math.max(0, opts.keepRevisions ?? 0);
  const clock = opts.clock ?? realClock;
  const onError = opts.onError ?? ((err: unknown) => process.emitWarning(`storage compaction failed: ${String(err)}`));
  let previous: number | null = null;
  let timer: Timer | null = null;
  let running: Promise<number> | null = null;
  let stopped = false;

  async function pass(): Promise<number> {
    const head = await backend.currentRevision();
    const target = previous === null ? 0 : Math.min(previous, head - keep);
    previous = head;
    if (target > (await backend.compactedRevision())) await backend.compact(target);
    return backend.compactedRevision();
  }

  function runOnce(): Promise<number> {
    running ??= pass().finally(() => {
      running = null;
    });
    return running;
  }

  function schedule(): void {
    if (stopped) return;
    timer = clock.setTimeout(() => {
      timer = null;
      runOnce().then(
        () => schedule(),
        (err: unknown) => {
          // A closed backend ends the compactor; anything else is retried at the next interval.
          if (err instanceof BackendClosedError) return stop();
          onError(err);
          schedule();
        },
      );
    }, intervalMs);
  }

  function stop(): void {
    stopped = true;
    timer?.cancel();
    timer = null;
  }

  schedule();
  return {
    runOnce,
    async idle() {
      if (running) await running.catch(() => undefined);
    },
    stop,
  };
}
