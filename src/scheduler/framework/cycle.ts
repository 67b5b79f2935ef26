// The scheduling algorithm of one attempt (schedulePod in Kubernetes' schedule_one.go): PreFilter, Filter
// over nodes until enough feasible ones are found (percentageOfNodesToScore), PostFilter when none fits,
// PreScore/Score/NormalizeScore over the feasible ones, and a random pick among the best.
//
// Pure and synchronous: it reads the cache through the framework's NodeInfoLister and changes nothing
// but the rotating start index. Called by the scheduler loop, one pod at a time.

import { CycleState } from './cycle-state.ts';
import type { FitError } from './fit-error.ts';
import { fitErrorMessage, NO_NODES_MESSAGE } from './fit-error.ts';
import type { Framework } from './framework.ts';
import type { NodeInfo } from './node-info.ts';
import type { PodInfo } from './pod-info.ts';
import { isRejected, message } from './status.ts';
import type { Status } from './status.ts';

export const MIN_FEASIBLE_NODES_TO_FIND = 100;
export const MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND = 5;

/**
 * numFeasibleNodesToFind: small clusters are searched fully; otherwise stop after `percentage`% of the
 * nodes are found feasible (adaptive when 0: 50% minus 1% per 125 nodes, at least 5%), never fewer than 100.
 */
export function numFeasibleNodesToFind(percentageOfNodesToScore: number, numAllNodes: number): number {
  if (numAllNodes < MIN_FEASIBLE_NODES_TO_FIND) return numAllNodes;
  let percentage = percentageOfNodesToScore;
  if (percentage <= 0) {
    percentage = 50 - Math.trunc(numAllNodes / 125);
    if (percentage < MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND) percentage = MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND;
  }
  const n = Math.trunc((numAllNodes * percentage) / 100);
  return n < MIN_FEASIBLE_NODES_TO_FIND ? MIN_FEASIBLE_NODES_TO_FIND : n;
}

export type ScheduleOutcome =
  | { kind: 'scheduled'; nodeName: string; state: CycleState; evaluatedNodes: number; feasibleNodes: number }
  | {
      kind: 'unschedulable';
      /** The FailedScheduling message and PodScheduled condition message. */
      message: string;
      fit: FitError | undefined;
      /** All statuses were UnschedulableAndUnresolvable, or no node exists. */
      unresolvable: boolean;
      nominatedNodeName?: string;
    }
  | { kind: 'error'; status: Status };

export interface CycleOptions {
  /** 0 = adaptive, as Kubernetes' default. */
  percentageOfNodesToScore?: number;
  random?: () => number;
}

export class SchedulingAlgorithm {
  readonly #fw: Framework;
  readonly #percentage: number;
  readonly #random: () => number;
  /** Where the next Filter pass starts, so successive pods look at different nodes first (as Kubernetes rotates). */
  nextStartNodeIndex = 0;

  constructor(fw: Framework, o: CycleOptions = {}) {
    this.#fw = fw;
    this.#percentage = o.percentageOfNodesToScore ?? 0;
    this.#random = o.random ?? Math.random;
  }

  schedule(pod: PodInfo): ScheduleOutcome {
    const fw = this.#fw;
    const nodes = fw.nodes.list();
    if (nodes.length === 0) return { kind: 'unschedulable', message: NO_NODES_MESSAGE, fit: undefined, unresolvable: true };
    const state = new CycleState();
    const found = this.#findNodesThatFit(state, pod, nodes);
    if ('status' in found) return { kind: 'error', status: found.status };
    const { feasible, statuses, preFilterStatus, evaluated } = found;
    if (feasible.length === 0) {
      const fit: FitError = { numAllNodes: nodes.length, nodeStatuses: statuses };
      if (preFilterStatus) fit.preFilterMsg = message(preFilterStatus);
      const post = fw.runPostFilterPlugins(state, pod, statuses);
      if (post.status.code === 'Error') return { kind: 'error', status: post.status };
      if (post.status.code !== 'Skip' && post.status.reasons.length > 0) fit.postFilterMsg = message(post.status);
      let unresolvable = true;
      for (const s of statuses.values()) if (s.code !== 'UnschedulableAndUnresolvable') unresolvable = false;
      return { kind: 'unschedulable', message: fitErrorMessage(fit), fit, unresolvable, nominatedNodeName: post.nominatedNodeName };
    }
    if (feasible.length === 1) {
      return { kind: 'scheduled', nodeName: feasible[0].name, state, evaluatedNodes: evaluated, feasibleNodes: 1 };
    }
    const pre = fw.runPreScorePlugins(state, pod, feasible);
    if (pre.code !== 'Success') return { kind: 'error', status: pre };
    const totals = fw.runScorePlugins(state, pod, feasible);
    if (!Array.isArray(totals)) return { kind: 'error', status: totals };
    return { kind: 'scheduled', nodeName: feasible[this.#selectHost(totals)].name, state, evaluatedNodes: evaluated, feasibleNodes: feasible.length };
  }

  #findNodesThatFit(
    state: CycleState,
    pod: PodInfo,
    nodes: readonly NodeInfo[],
  ): { feasible: NodeInfo[]; statuses: Map<string, Status>; preFilterStatus?: Status; evaluated: number } | { status: Status } {
    const fw = this.#fw;
    const statuses = new Map<string, Status>();
    const pre = fw.runPreFilterPlugins(state, pod);
    if (pre.code !== 'Success') {
      if (!isRejected(pre)) return { status: pre };
      // Every node gets the PreFilter's status, so preemption and the per-node detail see it.
      for (const n of nodes) statuses.set(n.name, pre);
      return { feasible: [], statuses, preFilterStatus: pre, evaluated: 0 };
    }
    // A pod nominated by an earlier preemption tries its nominated node first (evaluateNominatedNode).
    const nominated = pod.pod.status?.nominatedNodeName;
    if (nominated) {
      const ni = fw.nodes.get(nominated);
      if (ni?.node && fw.runFilterPlugins(state, pod, ni).code === 'Success') return { feasible: [ni], statuses, evaluated: 1 };
    }
    const n = nodes.length;
    const want = numFeasibleNodesToFind(this.#percentage, n);
    const feasible: NodeInfo[] = [];
    const start = this.nextStartNodeIndex % n;
    let processed = 0;
    for (let i = 0; i < n; i++) {
      const ni = nodes[(start + i) % n];
      processed++;
      const s = fw.runFilterPlugins(state, pod, ni);
      if (s.code === 'Success') {
        feasible.push(ni);
        if (feasible.length >= want) break;
      } else if (isRejected(s)) {
        statuses.set(ni.name, s);
      } else {
        return { status: s };
      }
    }
    this.nextStartNodeIndex = (start + processed) % n;
    return { feasible, statuses, evaluated: processed };
  }

  /** Highest total wins; ties are broken uniformly at random (reservoir sampling, as selectHost). */
  #selectHost(totals: readonly number[]): number {
    let best = 0;
    let ties = 1;
    for (let i = 1; i < totals.length; i++) {
      if (totals[i] > totals[best]) {
        best = i;
        ties = 1;
      } else if (totals[i] === totals[best]) {
        ties++;
        if (Math.floor(this.#random() * ties) === 0) best = i;
      }
    }
    return best;
  }
}
