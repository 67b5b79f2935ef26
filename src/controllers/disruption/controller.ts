// The disruption controller (kube-controller-manager's "disruption"): keeps each
// PodDisruptionBudget's status true to its pods — how many it expects, how many must be healthy, how
// many are, and so how many disruptions the pods/eviction subresource may allow now — and forgets
// evictions the API server recorded in status.disruptedPods once their pods are gone or, if they
// never go, after two minutes.
//
// A budget it cannot compute (a pod's controller it cannot find or scale) allows no disruption
// ("fail safe": DisruptionAllowed False, reason SyncFailed), is reported in an event, and is retried
// with backoff.

import type { ObjectMeta, Pod, PodDisruptionBudget } from '../../api/types.ts';
import { budgetSelects, setStatusCondition, DISRUPTION_ALLOWED_CONDITION, SYNC_FAILED_REASON } from '../../api/disruption.ts';
import { fromLabelSelector } from '../../api/labels.ts';
import type { ApiClient, HasMetadata } from '../../client/client.ts';
import { isConflict, isNotFound } from '../../client/errors.ts';
import { Deployments, PodDisruptionBudgets, ReplicaSets } from '../../client/resources.ts';
import type { Clock } from '../../util/clock.ts';
import { realClock } from '../../util/clock.ts';
import type { EventSink } from '../events.ts';
import { POD_BY_NAMESPACE, type SharedInformers } from '../informers.ts';
import { KeyLoop } from '../keyloop.ts';
import { controllerOf } from '../podcontrol/controllerref.ts';
import { buildDisruptedPodMap, countHealthy, expectedPods, needsScale, nextStatus, type Expected } from './budget.ts';
import { ApiScaleFinder, ScaleLookupError, type ScaleFinder } from './scale.ts';

export const DISRUPTION_COMPONENT = 'controllermanager';

export interface DisruptionControllerOptions {
  client: ApiClient;
  informers: SharedInformers;
  events: EventSink;
  clock?: Clock;
  workers?: number;
  /** How pods' controllers' scale is read (default: through the API server). */
  scales?: ScaleFinder;
  onError?: (err: unknown) => void;
}

type Budget = PodDisruptionBudget & HasMetadata;

const keyOf = (ns: string | undefined, name: string | undefined) => `${ns ?? ''}/${name ?? ''}`;

export class DisruptionController {
  readonly #client: ApiClient;
  readonly #informers: SharedInformers;
  readonly #events: EventSink;
  readonly #clock: Clock;
  readonly #scales: ScaleFinder;
  readonly #loop: KeyLoop;
  /** The last event of each reason per budget: a sync that finds the same thing again says nothing new. */
  readonly #said = new Map<string, Map<string, string>>();

  constructor(o: DisruptionControllerOptions) {
    this.#client = o.client;
    this.#informers = o.informers;
    this.#events = o.events;
    this.#clock = o.clock ?? realClock;
    const rs = o.informers.resource<HasMetadata & { metadata?: ObjectMeta }>(ReplicaSets);
    const deploys = o.informers.resource<HasMetadata & { metadata?: ObjectMeta }>(Deployments);
    this.#scales = o.scales ?? new ApiScaleFinder(o.client, this.#clock, {
      replicaSet: (ns, name) => rs.store.get(ns, name),
      deployment: (ns, name) => deploys.store.get(ns, name),
    });
    this.#loop = new KeyLoop({
      clock: this.#clock,
      workers: o.workers,
      onError: o.onError ?? ((err) => console.error(`tinykube: disruption controller: ${(err as Error).message}`)),
      // A conflict means our cache was behind; an owner we cannot scale is already said in the budget's status and events.
      quiet: (err) => isConflict(err) || isNotFound(err) || err instanceof ScaleLookupError,
    });
  }

  #budgets() {
    return this.#informers.resource<Budget>(PodDisruptionBudgets);
  }

  start(): void {
    const q = this.#loop.queue;
    const budget = (b: Budget) => q.add(keyOf(b.metadata?.namespace, b.metadata?.name));
    const pod = (p: Pod) => {
      for (const b of this.#budgetsFor(p)) budget(b);
    };
    this.#loop.start(this.#informers, () => [
      this.#budgets().addEventHandler({
        onAdd: budget,
        onUpdate: (_o, b) => budget(b),
        onDelete: (b) => {
          this.#said.delete(keyOf(b.metadata?.namespace, b.metadata?.name));
          budget(b);
        },
      }),
      this.#informers.pods().addEventHandler({ onAdd: pod, onUpdate: (_o, p) => pod(p), onDelete: pod }),
    ], (key) => this.sync(key));
  }

  stop(): Promise<void> {
    return this.#loop.stop();
  }

  /**
   * The budgets that select a pod. (Kubernetes wakes only the first and warns when there are more;
   * waking each keeps every budget's status true.)
   */
  #budgetsFor(pod: Pod): Budget[] {
    const ns = pod.metadata?.namespace;
    return this.#budgets().store.list().filter((b) => b.metadata?.namespace === ns && budgetSelects(b, pod.metadata?.labels));
  }

  /** getPodsForPdb: the pods of the budget's namespace its selector matches. */
  #podsFor(pdb: Budget): Pod[] {
    let sel;
    try {
      sel = fromLabelSelector(pdb.spec?.selector);
    } catch {
      return [];
    }
    return this.#informers.pods().store.byIndex(POD_BY_NAMESPACE, pdb.metadata?.namespace ?? '').filter((p) => sel.matches(p.metadata?.labels));
  }

  async sync(key: string): Promise<void> {
    const i = key.indexOf('/');
    const ns = key.slice(0, i);
    const name = key.slice(i + 1);
    const pdb = this.#budgets().store.get(ns, name);
    if (!pdb) return;
    try {
      await this.#trySync(pdb);
    } catch (err) {
      if (isConflict(err) || isNotFound(err)) throw err;
      await this.#failSafe(pdb, err);
      throw err;
    }
  }

  async #trySync(pdb: Budget): Promise<void> {
    const now = this.#clock.now();
    const pods = this.#podsFor(pdb);
    if (pods.length === 0) this.#event(pdb, 'Normal', 'NoPods', 'No matching pods found');
    let expected: Expected;
    try {
      expected = await this.#expected(pdb, pods);
    } catch (err) {
      this.#event(pdb, 'Warning', 'CalculateExpectedPodCountFailed', `Failed to calculate the number of expected pods: ${(err as Error).message}`);
      throw err;
    }
    const disrupted = buildDisruptedPodMap(pods, pdb.status?.disruptedPods, now);
    for (const podName of disrupted.notDeleted) {
      const p = pods.find((x) => x.metadata?.name === podName);
      this.#events.event({ kind: 'Pod', namespace: pdb.metadata?.namespace, name: podName, uid: p?.metadata?.uid }, 'Warning', 'NotDeleted', `Pod was expected by PDB ${pdb.metadata?.namespace}/${pdb.metadata?.name} to be deleted but it wasn't`);
    }
    const currentHealthy = countHealthy(pods, disrupted.kept, now);
    const status = nextStatus(pdb, { ...expected, currentHealthy, disruptedPods: disrupted.kept }, now);
    if (status) await this.#writeStatus(pdb, status);
    // A recorded eviction whose pod is still there counts again once it expires: look then.
    // At an absolute time: `now` was read before the awaits above, and the clock moved meanwhile.
    if (disrupted.recheckAt !== undefined) this.#loop.queue.addAt(keyOf(pdb.metadata?.namespace, pdb.metadata?.name), disrupted.recheckAt + 1000);
  }

  /** getExpectedPodCount, with unmanaged pods reported (they cannot be counted against a scale). */
  async #expected(pdb: Budget, pods: Pod[]): Promise<Expected> {
    if (!needsScale(pdb.spec)) return expectedPods(pdb.spec, pods.length, 0);
    const scales = new Map<string, number>();
    const unmanaged: string[] = [];
    for (const pod of pods) {
      const ref = controllerOf(pod);
      if (!ref) {
        unmanaged.push(pod.metadata?.name ?? '');
        continue;
      }
      if (scales.has(ref.uid)) continue;
      const found = await this.#scales.find(ref, pod.metadata?.namespace ?? '');
      if (!found) throw new ScaleLookupError(`found no controllers for pod "${pod.metadata?.name}"`);
      scales.set(found.uid, found.replicas);
    }
    if (unmanaged.length) {
      const sel = selectorText(pdb);
      this.#event(pdb, 'Warning', 'UnmanagedPods',
        `Pods selected by this PodDisruptionBudget (selector: ${sel}) were found to be unmanaged. As a result, the status of the PDB cannot be calculated correctly, which may result in undefined behavior. To account for these pods please set ".spec.minAvailable" field of the PDB to an integer value.`);
    }
    let scale = 0;
    for (const n of scales.values()) scale += n;
    return expectedPods(pdb.spec, pods.length, scale);
  }

  /** failSafe: whatever went wrong, allow no disruption and say why in the condition. */
  async #failSafe(pdb: Budget, err: unknown): Promise<void> {
    const next = structuredClone(pdb) as Budget;
    const st = (next.status ??= { currentHealthy: 0, desiredHealthy: 0, disruptionsAllowed: 0, expectedPods: 0 });
    st.disruptionsAllowed = 0;
    setStatusCondition((st.conditions ??= []), {
      type: DISRUPTION_ALLOWED_CONDITION,
      status: 'False',
      reason: SYNC_FAILED_REASON,
      message: err instanceof Error ? err.message : String(err),
      observedGeneration: st.observedGeneration ?? 0,
    }, this.#clock.now());
    try {
      await this.#client.updateStatus(PodDisruptionBudgets, next.metadata?.namespace, next);
    } catch (e) {
      // The retry of the sync writes it again; a conflict only means a newer budget is on its way.
      if (!isConflict(e) && !isNotFound(e)) throw e;
    }
  }

  async #writeStatus(pdb: Budget, status: NonNullable<PodDisruptionBudget['status']>): Promise<void> {
    const next = { ...pdb, status } as Budget;
    await this.#client.updateStatus(PodDisruptionBudgets, pdb.metadata?.namespace, next);
  }

  /** An event on the budget, unless the last one of its reason said the same. */
  #event(pdb: Budget, type: 'Normal' | 'Warning', reason: string, message: string): void {
    const k = keyOf(pdb.metadata?.namespace, pdb.metadata?.name);
    let said = this.#said.get(k);
    if (!said) this.#said.set(k, (said = new Map()));
    if (said.get(reason) === message) return;
    said.set(reason, message);
    this.#events.event({ apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', namespace: pdb.metadata?.namespace, name: pdb.metadata?.name ?? '', uid: pdb.metadata?.uid }, type, reason, message);
  }
}

function selectorText(pdb: Budget): string {
  try {
    return fromLabelSelector(pdb.spec?.selector).toString();
  } catch {
    return '';
  }
}
