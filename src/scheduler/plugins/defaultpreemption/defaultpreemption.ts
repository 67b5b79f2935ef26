// DefaultPreemption (PostFilter): when no node fits, look for a node where evicting lower-priority pods
// would make room; if one exists, evict the fewest and least important victims and nominate that node,
// else say why not in the words Kubernetes uses ("preemption: 0/3 nodes are available: 3 Preemption is
// not helpful for scheduling."), which end the FailedScheduling message.
// Not modelled: PodDisruptionBudgets, and nominated pods are not counted by other pods' Filter.

import type { CycleState } from '../../framework/cycle-state.ts';
import { fitErrorMessage } from '../../framework/fit-error.ts';
import type { Handle, PostFilterPlugin, PostFilterResult } from '../../framework/interfaces.ts';
import type { NodeInfo } from '../../framework/node-info.ts';
import type { PodInfo } from '../../framework/pod-info.ts';
import { success, unresolvable, unschedulable } from '../../framework/status.ts';
import type { Status } from '../../framework/status.ts';

export const NAME = 'DefaultPreemption';
export const NOT_HELPFUL = 'Preemption is not helpful for scheduling';
export const NO_VICTIMS = 'No preemption victims found for incoming pod';

interface Candidate {
  node: string;
  victims: PodInfo[];
}

function startTime(p: PodInfo): number {
  const t = p.pod.status?.startTime ?? p.pod.metadata?.creationTimestamp;
  return t ? Date.parse(t) : 0;
}

/** MoreImportantPod: higher priority, then the one that started earlier. */
function moreImportant(a: PodInfo, b: PodInfo): number {
  if (a.priority !== b.priority) return b.priority - a.priority;
  return startTime(a) - startTime(b);
}

export class DefaultPreemption implements PostFilterPlugin {
  readonly name = NAME;
  readonly #handle: Handle;
  constructor(handle: Handle) {
    this.#handle = handle;
  }

  postFilter(state: CycleState, pod: PodInfo, statuses: ReadonlyMap<string, Status>): PostFilterResult {
    const notEligible = this.#notEligible(pod, statuses);
    if (notEligible) return { status: unschedulable(`preemption: ${notEligible}`) };
    const nodes = this.#handle.nodes.list();
    const results = new Map<string, Status>();
    const candidates: Candidate[] = [];
    for (const ni of nodes) {
      const s = statuses.get(ni.name);
      if (s && s.code === 'UnschedulableAndUnresolvable') {
        results.set(ni.name, unresolvable(NOT_HELPFUL));
        continue;
      }
      const r = this.#selectVictims(state, pod, ni);
      if ('victims' in r) candidates.push({ node: ni.name, victims: r.victims });
      else results.set(ni.name, r.status);
    }
    if (candidates.length === 0) {
      const msg = fitErrorMessage({ numAllNodes: nodes.length, nodeStatuses: results });
      return { status: unschedulable(`preemption: ${msg}`) };
    }
    const best = pickOne(candidates);
    for (const v of best.victims) this.#handle.evictor?.evict(v, pod, best.node);
    return { status: success(), nominatedNodeName: best.node };
  }

  // PodEligibleToPreemptOthers.
  #notEligible(pod: PodInfo, statuses: ReadonlyMap<string, Status>): string | undefined {
    if (pod.pod.spec?.preemptionPolicy === 'Never') return 'not eligible due to preemptionPolicy=Never.';
    const nominated = pod.pod.status?.nominatedNodeName;
    if (!nominated || statuses.get(nominated)?.code === 'UnschedulableAndUnresolvable') return undefined;
    const ni = this.#handle.nodes.get(nominated);
    if (!ni) return undefined;
    for (const p of ni.pods.values()) {
      if (p.priority < pod.priority && p.pod.metadata?.deletionTimestamp) return 'not eligible due to a terminating pod on the nominated node.';
    }
    return undefined;
  }

  // SelectVictimsOnNode: remove every lower-priority pod; if the pod then fits, add them back most
  // important first while it still fits; those that could not be added back are the victims.
  #selectVictims(state: CycleState, pod: PodInfo, ni: NodeInfo): { victims: PodInfo[] } | { status: Status } {
    const potential: PodInfo[] = [];
    for (const p of ni.pods.values()) if (p.priority < pod.priority) potential.push(p);
    if (potential.length === 0) return { status: unresolvable(NO_VICTIMS) };
    const s = state.clone();
    const node = ni.clone();
    for (const v of potential) {
      node.removePod(v.key);
      const r = this.#handle.runPreFilterRemovePod(s, pod, v, node);
      if (r.code !== 'Success') return { status: r };
    }
    const fits = this.#handle.runFilterPlugins(s, pod, node);
    if (fits.code !== 'Success') return { status: fits };
    potential.sort(moreImportant);
    const victims: PodInfo[] = [];
    for (const v of potential) {
      node.addPod(v);
      const tryState = s.clone();
      this.#handle.runPreFilterAddPod(tryState, pod, v, node);
      if (this.#handle.runFilterPlugins(tryState, pod, node).code === 'Success') {
        this.#handle.runPreFilterAddPod(s, pod, v, node);
      } else {
        node.removePod(v.key);
        victims.push(v);
      }
    }
    return { victims };
  }
}

// pickOneNodeForPreemption: lowest highest-victim priority, then lowest priority sum, then fewest victims.
function pickOne(cs: Candidate[]): Candidate {
  const key = (c: Candidate): [number, number, number] => {
    let highest = -Infinity;
    let sum = 0;
    for (const v of c.victims) {
      highest = Math.max(highest, v.priority);
      // Kubernetes adds MaxInt32+1 to each priority so negative priorities still sum sensibly.
      sum += v.priority + 2 ** 31;
    }
    return [highest, sum, c.victims.length];
  };
  let best = cs[0];
  let bk = key(best);
  for (const c of cs.slice(1)) {
    const k = key(c);
    if (k[0] < bk[0] || (k[0] === bk[0] && (k[1] < bk[1] || (k[1] === bk[1] && k[2] < bk[2])))) {
      best = c;
      bk = k;
    }
  }
  return best;
}

export const factory = (h: Handle): DefaultPreemption => new DefaultPreemption(h);
