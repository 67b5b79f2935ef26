// What a DaemonSet sync decides, as pure functions over the cached nodes and pods
// (pkg/controller/daemon's podsShouldBeOnNode, rollingUpdate, updatedDesiredNodeCounts and
// updateDaemonSetStatus). The controller turns the plans into creates, deletes and a status write.

import type { DaemonSet, DaemonSetStatus, Node, Pod } from '../../api/types.ts';
import { scaledValue } from '../../api/validation/workloads.ts';
import { CONTROLLER_REVISION_HASH_LABEL } from '../history/history.ts';
import { isPodAvailable, isPodReady } from '../podcontrol/pods.ts';
import { nodeShouldRunDaemonPod, type NodeFit } from './eligibility.ts';

/** extensions' DaemonSetTemplateGenerationKey: the pod label with the template generation it was made from. */
export const POD_TEMPLATE_GENERATION_LABEL = 'pod-template-generation';

/** Pods by the node they run on or are meant for (targetNodeName). */
export type NodePods = Map<string, Pod[]>;

/** IsPodUpdated: the pod carries the current revision's hash, or the current template generation. */
export function isPodUpdated(pod: Pod, hash: string, generation: number | undefined): boolean {
  const labels = pod.metadata?.labels ?? {};
  return (hash !== '' && labels[CONTROLLER_REVISION_HASH_LABEL] === hash) || (generation !== undefined && labels[POD_TEMPLATE_GENERATION_LABEL] === String(generation));
}

function created(p: Pod): number {
  const t = p.metadata?.creationTimestamp ? Date.parse(p.metadata.creationTimestamp) : Number.NaN;
  return Number.isNaN(t) ? 0 : t;
}

/** podByCreationTimestampAndPhase: scheduled first, then oldest, then by name. */
export function oldestFirst(pods: readonly Pod[]): Pod[] {
  return [...pods].sort((a, b) => {
    const sa = a.spec?.nodeName ? 0 : 1;
    const sb = b.spec?.nodeName ? 0 : 1;
    return sa - sb || created(a) - created(b) || (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? '');
  });
}

/** SurgeCount and UnavailableCount of a RollingUpdate DaemonSet over `desired` nodes (percentages rounded up). */
export function surgeAndUnavailable(ds: DaemonSet, desired: number): { maxSurge: number; maxUnavailable: number } {
  const ru = ds.spec?.updateStrategy?.type === 'RollingUpdate' ? ds.spec.updateStrategy.rollingUpdate : undefined;
  if (!ru) return { maxSurge: 0, maxUnavailable: 0 };
  return { maxSurge: scaledValue(ru.maxSurge, desired, true), maxUnavailable: scaledValue(ru.maxUnavailable, desired, true) };
}

/** AllowsSurge: a RollingUpdate whose maxSurge is not zero. */
export function allowsSurge(ds: DaemonSet): boolean {
  return surgeAndUnavailable(ds, 1).maxSurge > 0;
}

export interface ManagePlan {
  /** Nodes that need a daemon pod made. */
  create: string[];
  delete: Pod[];
  /** Failed and succeeded daemon pods found (for the controller's events). */
  finished: Array<{ pod: Pod; node: string; failed: boolean }>;
  /** The soonest a failed pod's back-off ends, when one held a deletion back. */
  retryAfterMs?: number;
}

export interface ManageInput {
  ds: DaemonSet;
  nodes: readonly Node[];
  nodePods: NodePods;
  hash: string;
  now: number;
  /**
   * Whether a failed pod on `node` may be deleted now; undefined allows it (and starts the node's
   * back-off), a number is the back-off left in ms (kube's failedPodsBackoff, against kubelets that
   * keep rejecting the pod).
   */
  failedPodBackoff(node: string): number | undefined;
}

/** manage's plan: podsShouldBeOnNode for every node, and unscheduled pods meant for nodes that are gone. */
export function managePlan(m: ManageInput): ManagePlan {
  const plan: ManagePlan = { create: [], delete: [], finished: [] };
  const surge = allowsSurge(m.ds);
  const minReady = m.ds.spec?.minReadySeconds ?? 0;
  for (const node of m.nodes) {
    const name = node.metadata?.name ?? '';
    const fit: NodeFit = nodeShouldRunDaemonPod(node, m.ds);
    const pods = m.nodePods.get(name);
    if (fit.shouldRun && !pods) {
      plan.create.push(name);
      continue;
    }
    if (!pods) continue;
    if (!fit.shouldContinueRunning) {
      for (const p of pods) if (!p.metadata?.deletionTimestamp) plan.delete.push(p);
      continue;
    }
    const running: Pod[] = [];
    for (const p of pods) {
      if (p.metadata?.deletionTimestamp) continue;
      const phase = p.status?.phase;
      if (phase === 'Failed') {
        const wait = m.failedPodBackoff(name);
        if (wait !== undefined) {
          plan.retryAfterMs = Math.min(plan.retryAfterMs ?? wait, wait);
          continue;
        }
        plan.finished.push({ pod: p, node: name, failed: true });
        plan.delete.push(p);
      } else if (phase === 'Succeeded') {
        plan.finished.push({ pod: p, node: name, failed: false });
        plan.delete.push(p);
      } else {
        running.push(p);
      }
    }
    if (!surge) {
      // One pod per node: all but the oldest go.
      if (running.length > 1) plan.delete.push(...oldestFirst(running).slice(1));
      continue;
    }
    if (running.length <= 1) {
      if (running.length === 0 && fit.shouldRun) plan.create.push(name);
      continue;
    }
    // Surging: an old and a new pod may share the node while the new one is not yet available.
    let oldestNew: Pod | undefined;
    let oldestOld: Pod | undefined;
    for (const p of oldestFirst(running)) {
      if (p.metadata?.labels?.[CONTROLLER_REVISION_HASH_LABEL] === m.hash) {
        if (!oldestNew) {
          oldestNew = p;
          continue;
        }
      } else if (!oldestOld) {
        oldestOld = p;
        continue;
      }
      plan.delete.push(p);
    }
    if (oldestNew && oldestOld && (!isPodReady(oldestOld) || isPodAvailable(oldestNew, minReady, m.now))) plan.delete.push(oldestOld);
  }
  // Unscheduled pods meant for nodes that no longer exist would never be scheduled nor collected.
  const known = new Set(m.nodes.map((n) => n.metadata?.name ?? ''));
  for (const [node, pods] of m.nodePods) {
    if (known.has(node)) continue;
    for (const p of pods) if (!p.spec?.nodeName && !p.metadata?.deletionTimestamp) plan.delete.push(p);
  }
  return plan;
}

/** findUpdatedPodsOnNode: the node's one new and one old pod; ok is false with more of either. */
function updatedPodsOnNode(pods: readonly Pod[], hash: string, generation: number | undefined): { newPod?: Pod; oldPod?: Pod; ok: boolean } {
  let newPod: Pod | undefined;
  let oldPod: Pod | undefined;
  for (const p of pods) {
    if (p.metadata?.deletionTimestamp) continue;
    if (isPodUpdated(p, hash, generation)) {
      if (newPod) return { ok: false };
      newPod = p;
    } else {
      if (oldPod) return { ok: false };
      oldPod = p;
    }
  }
  return { newPod, oldPod, ok: true };
}

export interface RollingInput {
  ds: DaemonSet;
  nodes: readonly Node[];
  nodePods: NodePods;
  hash: string;
  generation: number | undefined;
  now: number;
}

export interface RollingPlan {
  create: string[];
  delete: Pod[];
  maxSurge: number;
  maxUnavailable: number;
  desired: number;
}

/**
 * rollingUpdate's plan. Without surge: delete old pods while fewer than maxUnavailable nodes are
 * unavailable (old pods that are not available are replaced at once), and let the manage loop make
 * the new ones. With surge: make a new pod beside up to maxSurge available old ones (at once beside
 * unavailable ones), and delete an old pod once its node's new pod is available.
 */
export function rollingUpdatePlan(r: RollingInput): RollingPlan {
  const minReady = r.ds.spec?.minReadySeconds ?? 0;
  const available = (p: Pod) => isPodAvailable(p, minReady, r.now);
  const fits = new Map<string, NodeFit>();
  const byNode = new Map<string, Pod[]>(r.nodePods);
  let desired = 0;
  for (const node of r.nodes) {
    const name = node.metadata?.name ?? '';
    const fit = nodeShouldRunDaemonPod(node, r.ds);
    fits.set(name, fit);
    if (!fit.shouldRun) continue;
    desired++;
    if (!byNode.has(name)) byNode.set(name, []);
  }
  let { maxSurge, maxUnavailable } = surgeAndUnavailable(r.ds, desired);
  // An impossible configuration (both zero) falls back to one unavailable node, as kube does.
  if (desired > 0 && maxSurge === 0 && maxUnavailable === 0) maxUnavailable = 1;
  const plan: RollingPlan = { create: [], delete: [], maxSurge, maxUnavailable, desired };

  if (maxSurge === 0) {
    let unavailable = 0;
    const replace: Pod[] = [];
    const candidates: Pod[] = [];
    for (const pods of byNode.values()) {
      const { newPod, oldPod, ok } = updatedPodsOnNode(pods, r.hash, r.generation);
      if (!ok || (!newPod && !oldPod) || (newPod && oldPod)) {
        // The manage loop sorts these nodes out; until then they count as unavailable.
        unavailable++;
      } else if (newPod) {
        if (!available(newPod)) unavailable++;
      } else if (oldPod && !available(oldPod)) {
        replace.push(oldPod);
        unavailable++;
      } else if (oldPod && unavailable < maxUnavailable) {
        candidates.push(oldPod);
      }
    }
    const room = Math.min(Math.max(0, maxUnavailable - unavailable), candidates.length);
    plan.delete = [...replace, ...candidates.slice(0, room)];
    return plan;
  }

  const allowedNew: string[] = [];
  const candidateNew: string[] = [];
  const shouldNotRun: Pod[] = [];
  let surged = 0;
  let availableCount = 0;
  for (const [node, pods] of byNode) {
    const { newPod, oldPod, ok } = updatedPodsOnNode(pods, r.hash, r.generation);
    if (!ok) {
      surged++;
      continue;
    }
    if (oldPod ? available(oldPod) : newPod ? available(newPod) : false) availableCount++;
    if (!oldPod) continue;
    if (!newPod) {
      const shouldRun = fits.get(node)?.shouldRun ?? false;
      if (!available(oldPod)) {
        if (!shouldRun) plan.delete.push(oldPod);
        else allowedNew.push(node);
      } else if (!shouldRun) {
        shouldNotRun.push(oldPod);
      } else if (surged < maxSurge) {
        candidateNew.push(node);
      }
      continue;
    }
    if (!available(newPod)) {
      surged++;
      continue;
    }
    plan.delete.push(oldPod);
  }
  // Pods on nodes that stopped fitting go only as pods elsewhere become available (100% availability).
  const deletable = Math.min(Math.max(0, availableCount - desired), shouldNotRun.length);
  plan.delete.push(...shouldNotRun.slice(0, deletable));
  const room = Math.min(Math.max(0, maxSurge - surged), candidateNew.length);
  plan.create = [...allowedNew, ...candidateNew.slice(0, room)];
  return plan;
}

/** updateDaemonSetStatus's counts (observedGeneration and collisionCount are the caller's). */
export function statusCounts(ds: DaemonSet, nodes: readonly Node[], nodePods: NodePods, hash: string, generation: number | undefined, now: number): Omit<DaemonSetStatus, 'observedGeneration' | 'collisionCount' | 'conditions'> {
  const minReady = ds.spec?.minReadySeconds ?? 0;
  let desired = 0;
  let current = 0;
  let misscheduled = 0;
  let ready = 0;
  let updated = 0;
  let availableCount = 0;
  for (const node of nodes) {
    const pods = nodePods.get(node.metadata?.name ?? '') ?? [];
    const { shouldRun } = nodeShouldRunDaemonPod(node, ds);
    if (!shouldRun) {
      if (pods.length > 0) misscheduled++;
      continue;
    }
    desired++;
    if (pods.length === 0) continue;
    current++;
    const pod = oldestFirst(pods)[0];
    if (isPodReady(pod)) {
      ready++;
      if (isPodAvailable(pod, minReady, now)) availableCount++;
    }
    if (isPodUpdated(pod, hash, generation)) updated++;
  }
  return {
    currentNumberScheduled: current,
    numberMisscheduled: misscheduled,
    desiredNumberScheduled: desired,
    numberReady: ready,
    updatedNumberScheduled: updated,
    numberAvailable: availableCount,
    numberUnavailable: desired - availableCount,
  };
}
