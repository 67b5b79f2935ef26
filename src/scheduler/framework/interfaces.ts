// The extension points of a scheduling cycle, one small interface each (the Kubernetes scheduler
// framework's shape). A plugin implements the ones it needs and declares them
// (`class NodeResourcesFit implements PreFilterPlugin, FilterPlugin, ScorePlugin`).
//
// Calling contract: the scheduler runs one cycle at a time, synchronously, from PreFilter to Reserve, on
// the live cache (nothing changes under a cycle: it never awaits). Only PreBind and Bind are
// asynchronous (the binding cycle) and run concurrently for different pods. Plugins keep no per-pod state outside CycleState. Expected outcomes
// ("does not fit") are Status values; a thrown error is a bug and fails the attempt with an Error status.

import type { Labels } from '../../api/labels.ts';
import type { PersistentVolume, PersistentVolumeClaim, StorageClass } from '../../api/types.ts';
import type { CycleState } from './cycle-state.ts';
import type { NodeInfo } from './node-info.ts';
import type { PodInfo } from './pod-info.ts';
import type { Status } from './status.ts';

export interface Plugin {
  readonly name: string;
}

/** Once per cycle, before any node: compute what Filter needs, or reject the pod outright, or Skip. */
export interface PreFilterPlugin extends Plugin {
  preFilter(state: CycleState, pod: PodInfo): Status;
}

/**
 * What-if updates of a PreFilter's state when a pod is added to or removed from a node (preemption dry
 * runs remove victims). Plugins whose PreFilter state counts other pods implement it.
 */
export interface PreFilterExtensions extends Plugin {
  addPod(state: CycleState, pod: PodInfo, added: PodInfo, node: NodeInfo): Status;
  removePod(state: CycleState, pod: PodInfo, removed: PodInfo, node: NodeInfo): Status;
}

/** Per node: does the pod fit? Called for many nodes in one cycle. */
export interface FilterPlugin extends Plugin {
  filter(state: CycleState, pod: PodInfo, node: NodeInfo): Status;
}

export interface PostFilterResult {
  status: Status;
  /** Preemption made room on this node; the pod will be retried once the victims are gone. */
  nominatedNodeName?: string;
}

/** Only when no node fits: try to make the pod schedulable later (preemption). */
export interface PostFilterPlugin extends Plugin {
  postFilter(state: CycleState, pod: PodInfo, statuses: ReadonlyMap<string, Status>): PostFilterResult;
}

/** Once per cycle, with the feasible nodes, before scoring. Skip = this plugin's Score is not run. */
export interface PreScorePlugin extends Plugin {
  preScore(state: CycleState, pod: PodInfo, nodes: readonly NodeInfo[]): Status;
}

/** Per feasible node: a score, usually 0..100 (MAX_NODE_SCORE). Scoring cannot fail. */
export interface ScorePlugin extends Plugin {
  score(state: CycleState, pod: PodInfo, node: NodeInfo): number;
}

/**
 * After all nodes are scored by one plugin: rescale its scores in place to 0..100. `scores[i]` is the
 * score of `nodes[i]` (flat arrays rather than Kubernetes' name/score pairs: no allocation per node).
 */
export interface NormalizeScorePlugin extends Plugin {
  normalizeScore(state: CycleState, pod: PodInfo, nodes: readonly NodeInfo[], scores: Float64Array): Status;
}

/** After a node is chosen, before binding: claim what the pod will use; undone on failure. */
export interface ReservePlugin extends Plugin {
  reserve(state: CycleState, pod: PodInfo, nodeName: string): Status;
  unreserve(state: CycleState, pod: PodInfo, nodeName: string): void;
}

/**
 * In the binding cycle, before Bind: make what the pod needs on its node exist (VolumeBinding binds or
 * provisions its claims and waits for them). A failure unreserves the pod and retries it.
 */
export interface PreBindPlugin extends Plugin {
  preBind(state: CycleState, pod: PodInfo, nodeName: string): Promise<Status>;
}

/** Writes the decision to the API. Runs asynchronously, concurrently for different pods. */
export interface BindPlugin extends Plugin {
  bind(state: CycleState, pod: PodInfo, nodeName: string): Promise<Status>;
}

export const MAX_NODE_SCORE = 100;

/** The read-only view of the scheduler cache that plugins get. */
export interface NodeInfoLister {
  /** Nodes known through the API (the order the cycle iterates). */
  list(): readonly NodeInfo[];
  get(name: string): NodeInfo | undefined;
  /** Nodes with at least one pod that has pod (anti-)affinity. */
  havePodsWithAffinity(): readonly NodeInfo[];
  /** Nodes with at least one pod that has required anti-affinity. */
  havePodsWithRequiredAntiAffinity(): readonly NodeInfo[];
  /**
   * Pods (not terminating) of one controller owner, counted per node name (an index the cache keeps, so
   * default spreading does not scan every pod of the cluster for every pod it schedules).
   */
  podsByOwner(ownerUid: string): ReadonlyMap<string, number> | undefined;
}

/** Removes pods chosen as preemption victims (a DELETE through the API). Called from PostFilter; does not wait. */
export interface PodEvictor {
  evict(victim: PodInfo, preemptor: PodInfo, nodeName: string): void;
}

/** The scheduler's caches of volumes and classes (VolumeBinding). */
export interface VolumeLister {
  persistentVolume(name: string): PersistentVolume | undefined;
  persistentVolumes(): readonly PersistentVolume[];
  storageClass(name: string): StorageClass | undefined;
}

/** VolumeBinding's writes in PreBind (the API), and its wait for the PV controller. */
export interface VolumeWriter {
  /** Pre-binds a static volume to the claim (claimRef + bound-by-controller), as kube-scheduler does. */
  bindVolume(pv: PersistentVolume, claim: PersistentVolumeClaim): Promise<void>;
  /**
   * Names the node on a WaitForFirstConsumer claim (volume.kubernetes.io/selected-node) for its
   * provisioner; resolves to the claim's resourceVersion after the write.
   */
  selectNode(claim: PersistentVolumeClaim, nodeName: string): Promise<string | undefined>;
  /**
   * Resolves at the next change of a claim in the scheduler's cache, or after ms (the scheduler's
   * clock) at the latest; PreBind looks at its claims again each time.
   */
  claimChange(ms: number): Promise<void>;
  /** The scheduler's clock (PreBind's bind timeout). */
  now(): number;
}

/** What plugins get at construction: the cluster view and a few framework services. */
export interface Handle {
  readonly nodes: NodeInfoLister;
  /** Labels of a namespace (for namespaceSelector in affinity terms); undefined when unknown. */
  namespaceLabels(namespace: string): Labels;
  /** A claim from the scheduler's informer (VolumeBinding); undefined when there is none. */
  persistentVolumeClaim(namespace: string, name: string): PersistentVolumeClaim | undefined;
  /** Volumes and classes from the scheduler's informers (empty in plugin tests that give none). */
  readonly volumes: VolumeLister;
  /** Where VolumeBinding writes in PreBind; undefined when the scheduler runs without an API. */
  readonly volumeWriter: VolumeWriter | undefined;
  /** Runs the Filter plugins of this profile on one node (preemption dry runs). */
  runFilterPlugins(state: CycleState, pod: PodInfo, node: NodeInfo): Status;
  /** Runs the PreFilterExtensions' removePod of this profile (preemption dry runs). */
  runPreFilterRemovePod(state: CycleState, pod: PodInfo, removed: PodInfo, node: NodeInfo): Status;
  /** Runs the PreFilterExtensions' addPod of this profile (preemption dry runs). */
  runPreFilterAddPod(state: CycleState, pod: PodInfo, added: PodInfo, node: NodeInfo): Status;
  readonly evictor: PodEvictor | undefined;
  readonly bindPod: ((pod: PodInfo, nodeName: string) => Promise<void>) | undefined;
}

export type PluginFactory = (handle: Handle, args?: Record<string, unknown>) => Plugin;

// Type guards: which extension points a plugin object implements.
export const isPreFilter = (p: Plugin): p is PreFilterPlugin => typeof (p as PreFilterPlugin).preFilter === 'function';
export const isPreFilterExtensions = (p: Plugin): p is PreFilterExtensions => typeof (p as PreFilterExtensions).removePod === 'function' && typeof (p as PreFilterExtensions).addPod === 'function';
export const isFilter = (p: Plugin): p is FilterPlugin => typeof (p as FilterPlugin).filter === 'function';
export const isPostFilter = (p: Plugin): p is PostFilterPlugin => typeof (p as PostFilterPlugin).postFilter === 'function';
export const isPreScore = (p: Plugin): p is PreScorePlugin => typeof (p as PreScorePlugin).preScore === 'function';
export const isScore = (p: Plugin): p is ScorePlugin => typeof (p as ScorePlugin).score === 'function';
export const isNormalizeScore = (p: Plugin): p is NormalizeScorePlugin => typeof (p as NormalizeScorePlugin).normalizeScore === 'function';
export const isReserve = (p: Plugin): p is ReservePlugin => typeof (p as ReservePlugin).reserve === 'function';
export const isPreBind = (p: Plugin): p is PreBindPlugin => typeof (p as PreBindPlugin).preBind === 'function';
export const isBind = (p: Plugin): p is BindPlugin => typeof (p as BindPlugin).bind === 'function';
