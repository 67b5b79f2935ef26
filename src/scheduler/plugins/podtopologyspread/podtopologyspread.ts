// PodTopologySpread: keep matching pods evenly spread over topology domains (nodes, zones...).
//  - Explicit constraints (spec.topologySpreadConstraints): DoNotSchedule ones filter (skew =
//    matching pods in the node's domain + 1 if the pod matches itself − the global minimum ≤ maxSkew);
//    ScheduleAnyway ones score (fewer matching pods in the domain is better).
//  - Without explicit constraints, a default spreads the pod's *peers* softly over hostnames (maxSkew 3)
//    and zones (maxSkew 5), as Kubernetes' system defaults do. Kubernetes finds peers through the
//    Services/ReplicaSets selecting the pod; tinykube has no such objects yet, so peers are the pods with
//    the same controller owner (ownerReferences uid), or, for pods without an owner, the same non-empty labels.
// Node inclusion policies are Kubernetes' defaults: nodeAffinityPolicy Honor, nodeTaintsPolicy Ignore.

import type { Pod, TopologySpreadConstraint } from '../../../api/types.ts';
import { fromLabelSelector, newRequirement } from '../../../api/labels.ts';
import type { LabelSelectorValue } from '../../../api/labels.ts';
import type { CycleState } from '../../framework/cycle-state.ts';
import { stateKey } from '../../framework/cycle-state.ts';
import type {
  FilterPlugin, Handle, NodeInfoLister, NormalizeScorePlugin, PreFilterExtensions, PreFilterPlugin, PreScorePlugin, ScorePlugin,
} from '../../framework/interfaces.ts';
import { MAX_NODE_SCORE } from '../../framework/interfaces.ts';
import { podMatchesNodeSelectorAndAffinity } from '../../../api/scheduling/node-affinity.ts';
import type { NodeInfo } from '../../framework/node-info.ts';
import type { PodInfo } from '../../framework/pod-info.ts';
import { errorStatus, skip, success, unresolvable, unschedulable } from '../../framework/status.ts';
import type { Status } from '../../framework/status.ts';
import { findUntoleratedTaint, isNoScheduleOrNoExecute } from '../../../api/scheduling/taints.ts';

export const NAME = 'PodTopologySpread';
export const ERR_REASON_CONSTRAINTS_NOT_MATCH = "node(s) didn't match pod topology spread constraints";
export const ERR_REASON_NODE_LABEL_NOT_MATCH = `${ERR_REASON_CONSTRAINTS_NOT_MATCH} (missing required label)`;
export const HOSTNAME_LABEL = 'kubernetes.io/hostname';
export const ZONE_LABEL = 'topology.kubernetes.io/zone';

export interface Constraint {
  maxSkew: number;
  topologyKey: string;
  minDomains: number;
  /** Whether an existing pod counts (same namespace, not terminating, checked by the caller). */
  matches: (p: PodInfo) => boolean;
  /** Set for the owner-based default: peers are counted from the cache's per-owner index. */
  ownerUid?: string;
  /** Whether the incoming pod itself would count (selfMatchNum). */
  selfMatch: boolean;
  honorNodeAffinity: boolean;
  honorNodeTaints: boolean;
}

function explicitConstraints(pod: Pod, want: 'DoNotSchedule' | 'ScheduleAnyway'): Constraint[] {
  const labels = pod.metadata?.labels ?? {};
  const out: Constraint[] = [];
  for (const c of pod.spec?.topologySpreadConstraints ?? []) {
    if (c.whenUnsatisfiable !== want) continue;
    const sel = selectorWithMatchLabelKeys(c, labels);
    out.push({
      maxSkew: c.maxSkew,
      topologyKey: c.topologyKey,
      minDomains: c.minDomains ?? 1,
      matches: (p) => sel.matches(p.labels),
      selfMatch: sel.matches(labels),
      honorNodeAffinity: (c.nodeAffinityPolicy ?? 'Honor') === 'Honor',
      honorNodeTaints: c.nodeTaintsPolicy === 'Honor',
    });
  }
  return out;
}

// matchLabelKeys: the pod's own values for those keys are ANDed into the selector.
function selectorWithMatchLabelKeys(c: TopologySpreadConstraint, labels: Readonly<Record<string, string>>): LabelSelectorValue {
  const base = fromLabelSelector(c.labelSelector);
  const keys = (c.matchLabelKeys ?? []).filter((k) => Object.hasOwn(labels, k));
  if (keys.length === 0 || base.nothing) return base;
  const extra = keys.map((k) => newRequirement(k, 'in', [labels[k]]));
  return { ...base, requirements: [...base.requirements, ...extra], matches: (l) => base.matches(l) && extra.every((r) => Boolean(l && l[r.key] === r.values[0])), empty: () => false };
}

function sameLabels(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) if (b[k] !== a[k]) return false;
  return true;
}

/** The default constraints, or none when the pod has no peers to spread from (no owner and no labels). */
export function defaultConstraints(pod: PodInfo): Constraint[] {
  const owner = pod.ownerUid;
  let matches: (p: PodInfo) => boolean;
  if (owner) matches = (p) => p.ownerUid === owner;
  else if (Object.keys(pod.labels).length > 0) matches = (p) => p.ownerUid === undefined && sameLabels(p.labels, pod.labels);
  else return [];
  const base = { minDomains: 1, matches, ownerUid: owner, selfMatch: true, honorNodeAffinity: true, honorNodeTaints: false };
  return [
    { ...base, maxSkew: 3, topologyKey: HOSTNAME_LABEL },
    { ...base, maxSkew: 5, topologyKey: ZONE_LABEL },
  ];
}

function countMatching(node: NodeInfo, c: Constraint, namespace: string, lister?: NodeInfoLister): number {
  if (c.ownerUid && lister) return lister.podsByOwner(c.ownerUid)?.get(node.name) ?? 0;
  let n = 0;
  for (const p of node.pods.values()) {
    if (p.namespace !== namespace || p.pod.metadata?.deletionTimestamp) continue;
    if (c.matches(p)) n++;
  }
  return n;
}

function hasAllKeys(node: NodeInfo, cs: readonly Constraint[]): boolean {
  for (const c of cs) if (!Object.hasOwn(node.labels, c.topologyKey)) return false;
  return true;
}

function nodeIncluded(c: Constraint, pod: PodInfo, node: NodeInfo): boolean {
  if (c.honorNodeAffinity && !podMatchesNodeSelectorAndAffinity(pod.pod, node)) return false;
  if (c.honorNodeTaints && findUntoleratedTaint(node.node?.spec?.taints, pod.pod.spec?.tolerations, isNoScheduleOrNoExecute)) return false;
  return true;
}

/** PreFilter state: matching pods per constraint and domain value. Cloned for preemption dry runs. */
class FilterState {
  readonly constraints: readonly Constraint[];
  readonly counts: Array<Map<string, number>>;
  constructor(constraints: readonly Constraint[], counts: Array<Map<string, number>>) {
    this.constraints = constraints;
    this.counts = counts;
  }
  clone(): FilterState {
    return new FilterState(this.constraints, this.counts.map((m) => new Map(m)));
  }
  minMatch(i: number): number {
    const m = this.counts[i];
    if (m.size < this.constraints[i].minDomains) return 0;
    let min = Infinity;
    for (const v of m.values()) if (v < min) min = v;
    return min === Infinity ? 0 : min;
  }
}

interface ScoreState {
  constraints: readonly Constraint[];
  /** Owner-based default: peers per node name, from the cache's index. */
  byOwner: ReadonlyMap<string, number> | undefined;
  ignored: Set<string>;
  /** Non-hostname constraints: constraint index → domain value → matching pods. */
  pairCounts: Array<Map<string, number>>;
  weights: number[];
}

const filterKey = stateKey<FilterState>(`${NAME}/filter`);
const scoreKey = stateKey<ScoreState>(`${NAME}/score`);

export class PodTopologySpread implements PreFilterPlugin, FilterPlugin, PreFilterExtensions, PreScorePlugin, ScorePlugin, NormalizeScorePlugin {
  readonly name = NAME;
  readonly #handle: Handle;
  constructor(handle: Handle) {
    this.#handle = handle;
  }

  preFilter(state: CycleState, pod: PodInfo): Status {
    let constraints: Constraint[];
    try {
      constraints = explicitConstraints(pod.pod, 'DoNotSchedule');
    } catch (err) {
      return errorStatus(err);
    }
    if (constraints.length === 0) return skip();
    const counts = constraints.map(() => new Map<string, number>());
    for (const node of this.#handle.nodes.list()) {
      if (!hasAllKeys(node, constraints)) continue;
      for (let i = 0; i < constraints.length; i++) {
        const c = constraints[i];
        if (!nodeIncluded(c, pod, node)) continue;
        const v = node.labels[c.topologyKey];
        counts[i].set(v, (counts[i].get(v) ?? 0) + countMatching(node, c, pod.namespace));
      }
    }
    state.write(filterKey, new FilterState(constraints, counts));
    return success();
  }

  filter(state: CycleState, pod: PodInfo, node: NodeInfo): Status {
    const s = state.read(filterKey);
    if (!s) return success();
    for (let i = 0; i < s.constraints.length; i++) {
      const c = s.constraints[i];
      const v = node.labels[c.topologyKey];
      if (v === undefined) return unresolvable(ERR_REASON_NODE_LABEL_NOT_MATCH);
      const skew = (s.counts[i].get(v) ?? 0) + (c.selfMatch ? 1 : 0) - s.minMatch(i);
      if (skew > c.maxSkew) return unschedulable(ERR_REASON_CONSTRAINTS_NOT_MATCH);
    }
    return success();
  }

  addPod(state: CycleState, pod: PodInfo, added: PodInfo, node: NodeInfo): Status {
    this.#adjust(state, pod, added, node, 1);
    return success();
  }

  removePod(state: CycleState, pod: PodInfo, removed: PodInfo, node: NodeInfo): Status {
    this.#adjust(state, pod, removed, node, -1);
    return success();
  }

  #adjust(state: CycleState, pod: PodInfo, other: PodInfo, node: NodeInfo, delta: 1 | -1): void {
    const s = state.read(filterKey);
    if (!s || other.namespace !== pod.namespace || !hasAllKeys(node, s.constraints)) return;
    for (let i = 0; i < s.constraints.length; i++) {
      const c = s.constraints[i];
      if (!nodeIncluded(c, pod, node) || !c.matches(other)) continue;
      const v = node.labels[c.topologyKey];
      s.counts[i].set(v, (s.counts[i].get(v) ?? 0) + delta);
    }
  }

  preScore(state: CycleState, pod: PodInfo, nodes: readonly NodeInfo[]): Status {
    if (nodes.length === 0) return skip();
    const explicit = (pod.pod.spec?.topologySpreadConstraints ?? []).length > 0;
    let constraints: Constraint[];
    try {
      constraints = explicit ? explicitConstraints(pod.pod, 'ScheduleAnyway') : defaultConstraints(pod);
    } catch (err) {
      return errorStatus(err);
    }
    if (constraints.length === 0) return skip();
    // Only explicit constraints require nodes to carry every topology key; the defaults let nodes
    // without a zone label still be spread by hostname.
    const requireAll = explicit;
    const ignored = new Set<string>();
    const pairCounts = constraints.map(() => new Map<string, number>());
    const sizes = constraints.map(() => 0);
    for (const node of nodes) {
      if (requireAll && !hasAllKeys(node, constraints)) {
        ignored.add(node.name);
        continue;
      }
      for (let i = 0; i < constraints.length; i++) {
        const c = constraints[i];
        if (c.topologyKey === HOSTNAME_LABEL) continue;
        const v = node.labels[c.topologyKey];
        // A domain only counts when a candidate node has the label (Score ignores label-less nodes).
        if (v === undefined || pairCounts[i].has(v)) continue;
        pairCounts[i].set(v, 0);
        sizes[i]++;
      }
    }
    const lister = this.#handle.nodes;
    const byOwner = constraints[0].ownerUid ? lister.podsByOwner(constraints[0].ownerUid) : undefined;
    if (constraints[0].ownerUid && pairCounts.some((m) => m.size > 0)) {
      // Owner-based default: visit only the nodes that hold peers.
      for (const [nodeName, cnt] of byOwner ?? []) {
        const node = lister.get(nodeName);
        if (!node) continue;
        for (let i = 0; i < constraints.length; i++) {
          const c = constraints[i];
          const v = node.labels[c.topologyKey];
          if (v === undefined || !pairCounts[i].has(v) || !nodeIncluded(c, pod, node)) continue;
          pairCounts[i].set(v, pairCounts[i].get(v)! + cnt);
        }
      }
    } else if (pairCounts.some((m) => m.size > 0)) {
      for (const node of lister.list()) {
        if (requireAll && !hasAllKeys(node, constraints)) continue;
        for (let i = 0; i < constraints.length; i++) {
          const c = constraints[i];
          const v = node.labels[c.topologyKey];
          if (v === undefined || !pairCounts[i].has(v) || !nodeIncluded(c, pod, node)) continue;
          pairCounts[i].set(v, pairCounts[i].get(v)! + countMatching(node, c, pod.namespace));
        }
      }
    }
    const weights = constraints.map((c, i) => Math.log((c.topologyKey === HOSTNAME_LABEL ? nodes.length - ignored.size : sizes[i]) + 2));
    state.write(scoreKey, { constraints, byOwner, ignored, pairCounts, weights });
    return success();
  }

  score(state: CycleState, pod: PodInfo, node: NodeInfo): number {
    const s = state.read(scoreKey);
    if (!s || s.ignored.has(node.name)) return 0;
    let score = 0;
    for (let i = 0; i < s.constraints.length; i++) {
      const c = s.constraints[i];
      const v = node.labels[c.topologyKey];
      if (v === undefined) continue;
      let cnt: number;
      if (c.topologyKey !== HOSTNAME_LABEL) cnt = s.pairCounts[i].get(v) ?? 0;
      else if (c.ownerUid) cnt = s.byOwner?.get(node.name) ?? 0;
      else cnt = countMatching(node, c, pod.namespace);
      score += cnt * s.weights[i] + (c.maxSkew - 1);
    }
    return Math.round(score);
  }

  /** Fewer matching pods is better: MAX * (max + min - score) / max; ignored nodes get 0. */
  normalizeScore(state: CycleState, _pod: PodInfo, nodes: readonly NodeInfo[], scores: Float64Array): Status {
    const s = state.read(scoreKey);
    if (!s) return success();
    const ignored = s.ignored.size > 0 ? (i: number) => s.ignored.has(nodes[i].name) : () => false;
    let min = Infinity;
    let max = 0;
    for (let i = 0; i < scores.length; i++) {
      if (ignored(i)) continue;
      if (scores[i] < min) min = scores[i];
      if (scores[i] > max) max = scores[i];
    }
    for (let i = 0; i < scores.length; i++) {
      if (ignored(i)) scores[i] = 0;
      else if (max === 0) scores[i] = MAX_NODE_SCORE;
      else scores[i] = Math.trunc((MAX_NODE_SCORE * (max + min - scores[i])) / max);
    }
    return success();
  }
}

export const factory = (h: Handle): PodTopologySpread => new PodTopologySpread(h);
