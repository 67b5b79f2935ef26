// Watches the benchmark's pods through the API, as a user's `kubectl get pods -w` would, and records
// when each pod was first seen bound to a node, first seen Running, and deleted (performance.now()).

import type { ApiClient } from '../../src/client/client.ts';
import { Pods } from '../../src/client/resources.ts';
import type { Pod } from '../../src/api/types.ts';

export interface PodTimes {
  name: string;
  /** Set by the caller just before it sends the create. */
  createStart: number;
  created?: number;
  scheduled?: number;
  running?: number;
  deleted?: number;
  uid?: string;
  containerId?: string;
  /** A Running pod counts only with a container other than this one (a restart after `up` came back). */
  excludeContainerId?: string;
}

export class PodWatch {
  readonly #times = new Map<string, PodTimes>();
  readonly #abort = new AbortController();
  #waiters: (() => void)[] = [];
  #failed: Error | undefined;
  /** Resolves when the watch loop ended. */
  readonly done: Promise<void>;

  private constructor(done: (w: PodWatch) => Promise<void>) {
    this.done = done(this);
  }

  /** Lists to learn the current revision, then watches every change after it. */
  static async open(client: ApiClient, namespace: string, labelSelector: string): Promise<PodWatch> {
    const list = await client.list<Pod>(Pods, namespace, { labelSelector });
    let ready!: () => void;
    const opened = new Promise<void>((r) => (ready = r));
    const w: PodWatch = new PodWatch(async (self) => {
      try {
        const stream = await client.watch<Pod>(Pods, namespace, { labelSelector, resourceVersion: list.metadata.resourceVersion, signal: self.#abort.signal });
        ready();
        for await (const ev of stream) {
          const at = performance.now();
          if (ev.type === 'ERROR') throw new Error(`pod watch: ${ev.object.message ?? 'error'}`);
          if (ev.type === 'BOOKMARK') continue;
          self.#observe(ev.type, ev.object, at);
        }
      } catch (err) {
        self.#failed = err instanceof Error ? err : new Error(String(err));
        ready();
      } finally {
        for (const x of self.#waiters.splice(0)) x();
      }
    });
    await opened;
    if (w.#failed) throw w.#failed;
    return w;
  }

  #observe(type: string, pod: Pod, at: number): void {
    const t = this.#times.get(pod.metadata?.name ?? '');
    if (!t) return;
    t.uid ??= pod.metadata?.uid;
    if (type === 'DELETED') t.deleted ??= at;
    if (pod.spec?.nodeName) t.scheduled ??= at;
    const cid = pod.status?.containerStatuses?.[0]?.containerID;
    if (t.running === undefined && pod.status?.phase === 'Running' && (!t.excludeContainerId || (cid && cid !== t.excludeContainerId))) {
      t.running = at;
      t.containerId = cid;
    }
    for (const x of this.#waiters.splice(0)) x();
  }

  /** Starts tracking a pod (before it is created, so no event is missed). */
  track(name: string, more: Partial<PodTimes> = {}): PodTimes {
    const t: PodTimes = { name, createStart: performance.now(), ...more };
    this.#times.set(name, t);
    return t;
  }

  get(name: string): PodTimes | undefined {
    return this.#times.get(name);
  }

  /** Resolves once `done` holds for every named pod. */
  async until(names: readonly string[], done: (t: PodTimes) => boolean, timeoutMs: number, what: string): Promise<void> {
    const end = performance.now() + timeoutMs;
    for (;;) {
      if (this.#failed) throw this.#failed;
      const pending = names.filter((n) => !done(this.#times.get(n)!));
      if (!pending.length) return;
      const left = end - performance.now();
      if (left <= 0) throw new Error(`${pending.length} pod(s) not ${what} after ${timeoutMs} ms: ${pending.slice(0, 5).join(', ')}`);
      await new Promise<void>((res) => {
        const t = setTimeout(res, Math.min(left, 1000));
        this.#waiters.push(() => {
          clearTimeout(t);
          res();
        });
      });
    }
  }

  waitRunning(names: readonly string[], timeoutMs = 120_000): Promise<void> {
    return this.until(names, (t) => t.running !== undefined, timeoutMs, 'Running');
  }

  waitDeleted(names: readonly string[], timeoutMs = 120_000): Promise<void> {
    return this.until(names, (t) => t.deleted !== undefined, timeoutMs, 'deleted');
  }

  forget(names: readonly string[]): void {
    for (const n of names) this.#times.delete(n);
  }

  close(): void {
    this.#abort.abort();
  }
}
