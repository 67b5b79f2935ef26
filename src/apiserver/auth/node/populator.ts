// Keeps the Node authorizer's graph from the stored pods and persistent volumes (kube's
// graph_populator.go over informers): a list, then a watch from the list's revision. A watch that
// ends (a compacted revision, a store error) is followed by a fresh list after a second, which
// rebuilds the graph; the API server reads storage directly, so there is no client in between.

import type { PersistentVolume, Pod, KubeObject } from '../../../api/types.ts';
import type { Store, StoreWatch } from '../../../registry/store.ts';
import { realClock, type Clock, type Timer } from '../../../util/clock.ts';
import type { NodeGraph } from './graph.ts';

const RELIST_DELAY_MS = 1000;

/** What the populator reads of a kind's store. */
export type WatchableStore = Pick<Store, 'list' | 'watch'>;

export interface GraphSources {
  pods: WatchableStore;
  persistentVolumes: WatchableStore;
}

export class GraphPopulator {
  readonly #graph: NodeGraph;
  readonly #sources: GraphSources;
  readonly #clock: Clock;
  #watches: StoreWatch[] = [];
  #retry: Timer | undefined;
  #stopped = false;
  #generation = 0;

  constructor(graph: NodeGraph, sources: GraphSources, clock: Clock = realClock) {
    this.#graph = graph;
    this.#sources = sources;
    this.#clock = clock;
  }

  /** Resolves once the graph holds every stored pod and PV (kube waits for its informers' sync). */
  async start(): Promise<void> {
    const generation = ++this.#generation;
    this.#graph.clear();
    const onError = () => this.#restart(generation);
    const pods = await this.#sources.pods.list({});
    const pvs = await this.#sources.persistentVolumes.list({});
    if (this.#stopped || generation !== this.#generation) return;
    for (const p of pods.items) this.#graph.setPod(p as Pod);
    for (const pv of pvs.items) this.#graph.setPV(pv as PersistentVolume);
    const podWatch = await this.#sources.pods.watch({
      resourceVersion: pods.resourceVersion,
      onEvent: (ev) => {
        if (ev.type === 'DELETED') this.#graph.deletePod(ev.object.metadata?.namespace ?? '', ev.object.metadata?.name ?? '');
        else if (ev.type === 'ADDED' || ev.type === 'MODIFIED') this.#graph.setPod(ev.object as Pod);
      },
      onError,
    });
    const pvWatch = await this.#sources.persistentVolumes.watch({
      resourceVersion: pvs.resourceVersion,
      onEvent: (ev) => {
        if (ev.type === 'DELETED') this.#graph.deletePV(nameOf(ev.object));
        else if (ev.type === 'ADDED' || ev.type === 'MODIFIED') this.#graph.setPV(ev.object as PersistentVolume);
      },
      onError,
    });
    this.#watches = [podWatch, pvWatch];
    if (this.#stopped || generation !== this.#generation) this.#closeWatches();
  }

  stop(): void {
    this.#stopped = true;
    this.#retry?.cancel();
    this.#closeWatches();
  }

  #restart(generation: number): void {
    if (this.#stopped || generation !== this.#generation || this.#retry) return;
    this.#closeWatches();
    this.#retry = this.#clock.setTimeout(() => {
      this.#retry = undefined;
      this.start().catch((err: unknown) => {
        console.error(`tinykube: node authorizer graph: ${err instanceof Error ? err.message : String(err)}`);
        this.#restart(this.#generation);
      });
    }, RELIST_DELAY_MS);
  }

  #closeWatches(): void {
    for (const w of this.#watches) w.close();
    this.#watches = [];
  }
}

function nameOf(o: KubeObject): string {
  return o.metadata?.name ?? '';
}
