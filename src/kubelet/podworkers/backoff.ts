// CrashLoopBackOff and ImagePullBackOff delays, as the kubelet's flowcontrol.Backoff does them: the
// first restart after a crash is immediate, then each one waits 10 s, 20 s, 40 s... up to 300 s, measured
// from when the container finished. A container that ran for 10 minutes before ending starts over at
// the beginning (the kubelet's "reset after 10 minutes of running" rule), as does a key not used for
// twice the maximum delay.
//
// Owned by the pod workers; one instance per agent, keyed by pod uid + container name. Not
// thread-safe in any sense that matters in JS: calls are synchronous.
import type { Clock } from '../../util/clock.ts';

export interface BackoffPolicy {
  initialMs: number;
  maxMs: number;
  /** A run at least this long resets the delay (default 10 minutes). */
  resetAfterRunMs: number;
}

export const CRASHLOOP_BACKOFF: BackoffPolicy = { initialMs: 10_000, maxMs: 300_000, resetAfterRunMs: 600_000 };

interface Entry {
  delayMs: number;
  lastUpdate: number;
}

export class RestartBackoff {
  readonly #clock: Clock;
  readonly #policy: BackoffPolicy;
  readonly #entries = new Map<string, Entry>();

  constructor(clock: Clock, policy: Partial<BackoffPolicy> = {}) {
    this.#clock = clock;
    this.#policy = { ...CRASHLOOP_BACKOFF, ...policy };
  }

  get policy(): BackoffPolicy {
    return this.#policy;
  }

  /**
   * How long from now before the container that finished at `finishedAt` (after running since
   * `startedAt`) may be restarted; 0 = now.
   */
  remaining(key: string, startedAt: number, finishedAt: number): number {
    const e = this.#entries.get(key);
    if (!e) return 0;
    const now = this.#clock.now();
    if (now - e.lastUpdate > 2 * this.#policy.maxMs || (startedAt > 0 && finishedAt - startedAt >= this.#policy.resetAfterRunMs)) {
      this.#entries.delete(key);
      return 0;
    }
    return Math.max(0, finishedAt + e.delayMs - now);
  }

  /** The current delay of a key (for the "back-off 20s restarting failed container" message). */
  current(key: string): number {
    return this.#entries.get(key)?.delayMs ?? 0;
  }

  /** Records a restart: the next one waits longer. */
  next(key: string): number {
    const now = this.#clock.now();
    const e = this.#entries.get(key);
    const delayMs = e ? Math.min(this.#policy.maxMs, e.delayMs * 2) : this.#policy.initialMs;
    this.#entries.set(key, { delayMs, lastUpdate: now });
    return delayMs;
  }

  reset(key: string): void {
    this.#entries.delete(key);
  }

  /** Forgets every key of a pod. */
  forgetPod(uid: string): void {
    for (const k of [...this.#entries.keys()]) if (k.startsWith(uid + '/')) this.#entries.delete(k);
  }
}

/** "1m20s", "10s", "5m0s": Go's time.Duration formatting for whole seconds, as the messages use. */
export function goDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${s % 60}s`;
  return `${Math.floor(m / 60)}h${m % 60}m${s % 60}s`;
}
