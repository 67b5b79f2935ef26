// InterPodAffinity: required pod affinity / anti-affinity (the pod's own terms, and existing pods'
// anti-affinity towards it) filter nodes by topology domain (kubernetes.io/hostname or any node label);
// preferred terms, both ways, and existing pods' required affinity (hardPodAffinityWeight 1) score them.

import type { CycleState } from '../../framework/cycle-state.ts';
import { stateKey } from '../../framework/cycle-state.ts';
import type {
  FilterPlugin, Handle, NormalizeScorePlugin, PreFilterExtensions, PreFilterPlugin, PreScorePlugin, ScorePlugin,
} from '../../framework/interfaces.ts';
import { MAX_NODE_SCORE } from '../../framework/interfaces.ts';
import type { NodeInfo } from '../../framework/node-info.ts';
import { termMatches } from '../../framework/pod-info.ts';
import type { AffinityTerm, PodInfo, WeightedAffinityTerm } from '../../framework/pod-info.ts';
import { errorStatus, skip, success, unresolvable, unschedulable } from '../../framework/status.ts';
import type { Status } from '../../framework/status.ts';
import type { Labels } from '../../../api/labels.ts';

export const NAME = 'InterPodAffinity';
export const ERR_REASON_EXISTING_ANTI_AFFINITY = "node(s) didn't satisfy existing pods anti-affinity rules";
export const ERR_REASON_AFFINITY = "node(s) didn't match pod affinity rules";
export const ERR_REASON_ANTI_AFFINITY = "node(s) didn't match pod anti-affinity rules";
const HARD_POD_AFFINITY_WEIGHT = 1;

const pair = (key: string, value: string): string => `${key}\u0000${value}`;

/** Counts per topology pair; zero entries are removed (an empty map means "no pod matched anywhere"). */
class Counts extends Map<string, number> {
  bump(key: string, delta: number): void {
    const v = (this.get(key) ?? 0) + delta;
    if (v === 0) this.delete(key);
    else this.set(key, v);
  }
}

function matchesAll(terms: readonly AffinityTerm[], pod: PodInfo, nsLabels: Labels): boolean {
  if (terms.length === 0) return false;
  for (const t of terms) if (!termMatches(t, pod, nsLabels)) return false;
  return true;
}

class FilterState {
  readonly existingAnti: Counts;
  readonly affinity: Counts;
  readonly anti: Counts;
  constructor(existingAnti = new Counts(), affinity = new Counts(), anti = new Counts()) {
    this.existingAnti = existingAnti;
    this.affinity = affinity;
    this.anti = anti;
  }
  clone(): FilterState {
    return new FilterState(new Counts(this.existingAnti), new Counts(this.affinity), new Counts(this.anti));
  }
}

interface ScoreState {
  /** topologyKey → value → score */
  topology: Map<string, Map<string, number>>;
}

const filterKey = stateKey<FilterState>(`${NAME}/filter`);
const scoreKey = stateKey<ScoreState>(`${NAME}/score`);

export class InterPodAffinity implements PreFilterPlugin, FilterPlugin, PreFilterExtensions, PreScorePlugin, ScorePlugin, NormalizeScorePlugin {
  readonly name = NAME;
  readonly #handle: Handle;
  constructor(handle: Handle) {
    this.#handle = handle;
  }

  preFilter(state: CycleState, pod: PodInfo): Status {
    if (pod.parseError) return errorStatus(new Error(`parsing pod: ${pod.parseError}`));
    const withAnti = this.#handle.nodes.havePodsWithRequiredAntiAffinity();
    if (withAnti.length === 0 && pod.requiredAffinityTerms.length === 0 && pod.requiredAntiAffinityTerms.length === 0) return skip();
    const s = new FilterState();
    const podNsLabels = this.#handle.namespaceLabels(pod.namespace);
    for (const node of withAnti) {
      for (const existing of node.pods.values()) {
        for (const t of existing.requiredAntiAffinityTerms) {
          const v = node.labels[t.topologyKey];
          if (v !== undefined && termMatches(t, pod, podNsLabels)) s.existingAnti.bump(pair(t.topologyKey, v), 1);
        }
      }
    }
    if (pod.requiredAffinityTerms.length > 0 || pod.requiredAntiAffinityTerms.length > 0) {
      for (const node of this.#handle.nodes.list()) this.#countIncomingTerms(s, pod, node, node.pods.values(), 1);
    }
    state.write(filterKey, s);
    return success();
  }

  #countIncomingTerms(s: FilterState, pod: PodInfo, node: NodeInfo, others: Iterable<PodInfo>, delta: number): void {
    for (const other of others) {
      const nsLabels = this.#handle.namespaceLabels(other.namespace);
      if (pod.requiredAffinityTerms.length > 0 && matchesAll(pod.requiredAffinityTerms, other, nsLabels)) {
        for (const t of pod.requiredAffinityTerms) {
          const v = node.labels[t.topologyKey];
          if (v !== undefined) s.affinity.bump(pair(t.topologyKey, v), delta);
        }
      }
      for (const t of pod.requiredAntiAffinityTerms) {
        const v = node.labels[t.topologyKey];
        if (v !== undefined && termMatches(t, other, nsLabels)) s.anti.bump(pair(t.topologyKey, v), delta);
      }
    }
  }

  filter(state: CycleState, pod: PodInfo, node: NodeInfo): Status {
    const s = state.read(filterKey);
    if (!s) return success();
    if (!this.#satisfiesAffinity(s, pod, node)) return unresolvable(ERR_REASON_AFFINITY);
    for (const t of pod.requiredAntiAffinityTerms) {
      const v = node.labels[t.topologyKey];
      if (v !== undefined && (s.anti.get(pair(t.topologyKey, v)) ?? 0) > 0) return unschedulable(ERR_REASON_ANTI_AFFINITY);
    }
    if (s.existingAnti.size > 0) {
      for (const [k, v] of Object.entries(node.labels)) {
        if ((s.existingAnti.get(pair(k, v)) ?? 0) > 0) return unschedulable(ERR_REASON_EXISTING_ANTI_AFFINITY);
      }
    }
    return success();
  }

  #satisfiesAffinity(s: FilterState, pod: PodInfo, node: NodeInfo): boolean {
    let podsExist = true;
    for (const t of pod.requiredAffinityTerms) {
      const v = node.labels[t.topologyKey];
      if (v === undefined) return false;
      if ((s.affinity.get(pair(t.topologyKey, v)) ?? 0) <= 0) podsExist = false;
    }
    if (podsExist) return true;
    // The first pod of a group with affinity to itself: nothing matches anywhere yet, and the pod matches
    // its own terms, so it may start the group (otherwise it would wait forever).
    return s.affinity.size === 0 && matchesAll(pod.requiredAffinityTerms, pod, this.#handle.namespaceLabels(pod.namespace));
  }

  addPod(state: CycleState, pod: PodInfo, added: PodInfo, node: NodeInfo): Status {
    this.#update(state, pod, added, node, 1);
    return success();
  }

  removePod(state: CycleState, pod: PodInfo, removed: PodInfo, node: NodeInfo): Status {
    this.#update(state, pod, removed, node, -1);
    return success();
  }

  #update(state: CycleState, pod: PodInfo, other: PodInfo, node: NodeInfo, delta: number): void {
    const s = state.read(filterKey);
    if (!s) return;
    const podNsLabels = this.#handle.namespaceLabels(pod.namespace);
    for (const t of other.requiredAntiAffinityTerms) {
      const v = node.labels[t.topologyKey];
      if (v !== undefined && termMatches(t, pod, podNsLabels)) s.existingAnti.bump(pair(t.topologyKey, v), delta);
    }
    this.#countIncomingTerms(s, pod, node, [other], delta);
  }

  preScore(state: CycleState, pod: PodInfo, nodes: readonly NodeInfo[]): Status {
    if (nodes.length === 0) return skip();
    const hasPreferred = pod.preferredAffinityTerms.length > 0 || pod.preferredAntiAffinityTerms.length > 0;
    // Unless the pod has preferred terms itself, only existing pods with affinity can contribute.
    const scan = hasPreferred ? this.#handle.nodes.list() : this.#handle.nodes.havePodsWithAffinity();
    const topology = new Map<string, Map<string, number>>();
    const add = (key: string, value: string, w: number): void => {
      let m = topology.get(key);
      if (!m) topology.set(key, (m = new Map()));
      m.set(value, (m.get(value) ?? 0) + w);
    };
    const process = (terms: readonly (AffinityTerm | WeightedAffinityTerm)[], target: PodInfo, nsLabels: Labels, node: NodeInfo, sign: number, fixed?: number): void => {
      for (const t of terms) {
        if (!termMatches(t, target, nsLabels)) continue;
        const v = node.labels[t.topologyKey];
        if (v !== undefined) add(t.topologyKey, v, sign * (fixed ?? (t as WeightedAffinityTerm).weight));
      }
    };
    const podNsLabels = this.#handle.namespaceLabels(pod.namespace);
    for (const node of scan) {
      if (Object.keys(node.labels).length === 0) continue;
      for (const existing of node.pods.values()) {
        const existingHasAffinity = existing.requiredAffinityTerms.length + existing.preferredAffinityTerms.length + existing.preferredAntiAffinityTerms.length + existing.requiredAntiAffinityTerms.length > 0;
        if (!hasPreferred && !existingHasAffinity) continue;
        const exNs = this.#handle.namespaceLabels(existing.namespace);
        process(pod.preferredAffinityTerms, existing, exNs, node, 1);
        process(pod.preferredAntiAffinityTerms, existing, exNs, node, -1);
        process(existing.requiredAffinityTerms, pod, podNsLabels, node, 1, HARD_POD_AFFINITY_WEIGHT);
        process(existing.preferredAffinityTerms, pod, podNsLabels, node, 1);
        process(existing.preferredAntiAffinityTerms, pod, podNsLabels, node, -1);
      }
    }
    if (topology.size === 0) return skip();
    state.write(scoreKey, { topology });
    return success();
  }

  score(state: CycleState, _pod: PodInfo, node: NodeInfo): number {
    const s = state.read(scoreKey);
    if (!s) return 0;
    let score = 0;
    for (const [key, values] of s.topology) {
      const v = node.labels[key];
      if (v !== undefined) score += values.get(v) ?? 0;
    }
    return score;
  }

  normalizeScore(state: CycleState, _pod: PodInfo, _nodes: readonly NodeInfo[], scores: Float64Array): Status {
    const s = state.read(scoreKey);
    if (!s || s.topology.size === 0) return success();
    let min = Infinity;
    let max = -Infinity;
    for (const v of scores) {
      if (v > max) max = v;
      if (v < min) min = v;
    }
    const diff = max - min;
    for (let i = 0; i < scores.length; i++) scores[i] = diff > 0 ? Math.trunc(MAX_NODE_SCORE * ((scores[i] - min) / diff)) : 0;
    return success();
  }
}

export const factory = (h: Handle): InterPodAffinity => new InterPodAffinity(h);
