// The pod lifecycle event generator: one loop that relists the runtime every second (the kubelet's
// generic PLEG period) and tells the pod workers which pods had a container or sandbox change state,
// so a crash, an OOM kill or an exit is acted on within a second without each worker polling CRI.
//
// Started and stopped by the agent; it calls `onChange(uid)` from its own loop, never concurrently.
import type { Clock } from '../../util/clock.ts';
import { Periodic } from '../../util/periodic.ts';
import type { RuntimeService } from '../runtime/runtime.ts';
import { LABEL_NODE, LABEL_POD_UID } from '../podworkers/labels.ts';

export interface PlegOptions {
  runtime: Pick<RuntimeService, 'listContainers' | 'listPodSandbox'>;
  clock: Clock;
  nodeName: string;
  periodMs?: number;
  onChange(uid: string): void;
  onError?(err: unknown): void;
}

export class Pleg {
  readonly #o: PlegOptions;
  #last = new Map<string, string>();
  readonly #loop: Periodic;

  constructor(o: PlegOptions) {
    this.#o = o;
    this.#loop = new Periodic({ clock: o.clock, periodMs: () => o.periodMs ?? 1000, run: () => this.relist() });
  }

  start(): void {
    this.#loop.start();
  }

  stop(): Promise<void> {
    return this.#loop.stop();
  }

  /** One relist (exposed for tests driving it by hand). */
  async relist(): Promise<void> {
    const sel = { labelSelector: { [LABEL_NODE]: this.#o.nodeName } };
    let next: Map<string, string>;
    try {
      const [containers, sandboxes] = await Promise.all([this.#o.runtime.listContainers(sel), this.#o.runtime.listPodSandbox(sel)]);
      next = new Map();
      for (const c of containers) next.set(c.id, `${c.labels[LABEL_POD_UID] ?? ''} ${c.state}`);
      for (const s of sandboxes) next.set(s.id, `${s.labels[LABEL_POD_UID] ?? ''} ${s.state}`);
    } catch (err) {
      this.#o.onError?.(err);
      return;
    }
    const changed = new Set<string>();
    for (const [id, v] of next) if (this.#last.get(id) !== v) changed.add(v.split(' ')[0]);
    for (const [id, v] of this.#last) if (!next.has(id)) changed.add(v.split(' ')[0]);
    this.#last = next;
    for (const uid of changed) if (uid) this.#o.onChange(uid);
  }
}
