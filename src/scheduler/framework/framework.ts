// One scheduling profile: its plugins, built from the registry in the configured order and sorted into
// the extension points they implement, and the code that runs each extension point. The framework is the
// plugins' Handle (they call back into it for preemption dry runs).
//
// Called by the scheduling cycle (cycle.ts), one cycle at a time; runBind may run concurrently.

import type { Labels } from '../../api/labels.ts';
import type { PersistentVolumeClaim } from '../../api/types.ts';
import type { CycleState } from './cycle-state.ts';
import {
  isBind, isFilter, isNormalizeScore, isPostFilter, isPreBind, isPreFilter, isPreFilterExtensions, isPreScore, isReserve, isScore,
} from './interfaces.ts';
import type {
  BindPlugin, FilterPlugin, Handle, NodeInfoLister, NormalizeScorePlugin, Plugin, PluginFactory, PodEvictor,
  PostFilterPlugin, PostFilterResult, PreBindPlugin, PreFilterExtensions, PreFilterPlugin, PreScorePlugin, ReservePlugin, ScorePlugin,
  VolumeLister, VolumeWriter,
} from './interfaces.ts';
import type { NodeInfo } from './node-info.ts';
import type { PodInfo } from './pod-info.ts';
import { errorStatus, skip, success, unschedulable, withPlugin } from './status.ts';
import type { Status } from './status.ts';

export interface PluginConfig {
  name: string;
  /** Score weight (default 1). */
  weight?: number;
  args?: Record<string, unknown>;
}

/** Failure to build a profile: an unknown plugin name or a duplicate. */
export class ProfileError extends Error {
  readonly code = 'ERR_SCHEDULER_PROFILE';
  constructor(message: string) {
    super(message);
    this.name = 'ProfileError';
  }
}

export interface FrameworkOptions {
  registry: Readonly<Record<string, PluginFactory>>;
  plugins: readonly PluginConfig[];
  nodes: NodeInfoLister;
  namespaceLabels?: (namespace: string) => Labels;
  persistentVolumeClaim?: (namespace: string, name: string) => PersistentVolumeClaim | undefined;
  evictor?: PodEvictor;
  bindPod?: (pod: PodInfo, nodeName: string) => Promise<void>;
  volumes?: VolumeLister;
  volumeWriter?: VolumeWriter;
}

const NO_VOLUMES: VolumeLister = { persistentVolume: () => undefined, persistentVolumes: () => [], storageClass: () => undefined };

export class Framework implements Handle {
  readonly nodes: NodeInfoLister;
  readonly evictor: PodEvictor | undefined;
  readonly bindPod: ((pod: PodInfo, nodeName: string) => Promise<void>) | undefined;
  readonly volumes: VolumeLister;
  readonly volumeWriter: VolumeWriter | undefined;
  readonly #namespaceLabels: (namespace: string) => Labels;
  readonly #claims: (namespace: string, name: string) => PersistentVolumeClaim | undefined;
  readonly plugins: readonly Plugin[];
  readonly preFilterPlugins: readonly PreFilterPlugin[];
  readonly preFilterExtensions: readonly PreFilterExtensions[];
  readonly filterPlugins: readonly FilterPlugin[];
  readonly postFilterPlugins: readonly PostFilterPlugin[];
  readonly preScorePlugins: readonly PreScorePlugin[];
  readonly scorePlugins: readonly ScorePlugin[];
  readonly reservePlugins: readonly ReservePlugin[];
  readonly preBindPlugins: readonly PreBindPlugin[];
  readonly bindPlugins: readonly BindPlugin[];
  readonly #weights = new Map<string, number>();

  constructor(o: FrameworkOptions) {
    this.nodes = o.nodes;
    this.evictor = o.evictor;
    this.bindPod = o.bindPod;
    this.volumes = o.volumes ?? NO_VOLUMES;
    this.volumeWriter = o.volumeWriter;
    this.#namespaceLabels = o.namespaceLabels ?? (() => undefined);
    this.#claims = o.persistentVolumeClaim ?? (() => undefined);
    const plugins: Plugin[] = [];
    for (const cfg of o.plugins) {
      const factory = Object.hasOwn(o.registry, cfg.name) ? o.registry[cfg.name] : undefined;
      if (!factory) throw new ProfileError(`plugin ${JSON.stringify(cfg.name)} is not registered`);
      if (this.#weights.has(cfg.name)) throw new ProfileError(`plugin ${JSON.stringify(cfg.name)} is configured twice`);
      this.#weights.set(cfg.name, cfg.weight ?? 1);
      plugins.push(factory(this, cfg.args));
    }
    this.plugins = plugins;
    this.preFilterPlugins = plugins.filter(isPreFilter);
    this.preFilterExtensions = plugins.filter(isPreFilterExtensions);
    this.filterPlugins = plugins.filter(isFilter);
    this.postFilterPlugins = plugins.filter(isPostFilter);
    this.preScorePlugins = plugins.filter(isPreScore);
    this.scorePlugins = plugins.filter(isScore);
    this.reservePlugins = plugins.filter(isReserve);
    this.preBindPlugins = plugins.filter(isPreBind);
    this.bindPlugins = plugins.filter(isBind);
  }

  namespaceLabels(namespace: string): Labels {
    return this.#namespaceLabels(namespace);
  }

  persistentVolumeClaim(namespace: string, name: string): PersistentVolumeClaim | undefined {
    return this.#claims(namespace, name);
  }

  weight(plugin: string): number {
    return this.#weights.get(plugin) ?? 1;
  }

  /** Skip marks the plugin's Filter as not needed; the first rejection or error ends the run. */
  runPreFilterPlugins(state: CycleState, pod: PodInfo): Status {
    for (const pl of this.preFilterPlugins) {
      const s = guard(() => pl.preFilter(state, pod));
      if (s.code === 'Success') continue;
      if (s.code === 'Skip') {
        state.skipFilterPlugins.add(pl.name);
        continue;
      }
      return withPlugin(s, pl.name);
    }
    return success();
  }

  /** The first plugin that rejects the node decides its status (Kubernetes stops there too). */
  runFilterPlugins(state: CycleState, pod: PodInfo, node: NodeInfo): Status {
    // Computed once per cycle: this runs for hundreds of nodes per pod.
    let active = state.activeFilters as readonly FilterPlugin[] | undefined;
    if (!active) {
      active = this.filterPlugins.filter((pl) => !state.skipFilterPlugins.has(pl.name));
      state.activeFilters = active;
    }
    for (let i = 0; i < active.length; i++) {
      const pl = active[i];
      let s: Status;
      try {
        s = pl.filter(state, pod, node);
      } catch (err) {
        s = errorStatus(err);
      }
      if (s.code !== 'Success') return withPlugin(s, pl.name);
    }
    return success();
  }

  runPreFilterRemovePod(state: CycleState, pod: PodInfo, removed: PodInfo, node: NodeInfo): Status {
    for (const pl of this.preFilterExtensions) {
      if (state.skipFilterPlugins.has(pl.name)) continue;
      const s = guard(() => pl.removePod(state, pod, removed, node));
      if (s.code !== 'Success') return withPlugin(s, pl.name);
    }
    return success();
  }

  runPreFilterAddPod(state: CycleState, pod: PodInfo, added: PodInfo, node: NodeInfo): Status {
    for (const pl of this.preFilterExtensions) {
      if (state.skipFilterPlugins.has(pl.name)) continue;
      const s = guard(() => pl.addPod(state, pod, added, node));
      if (s.code !== 'Success') return withPlugin(s, pl.name);
    }
    return success();
  }

  /** RunPostFilterPlugins: the first success or unresolvable answer wins; otherwise the reasons are joined. */
  runPostFilterPlugins(state: CycleState, pod: PodInfo, statuses: ReadonlyMap<string, Status>): PostFilterResult {
    const reasons: string[] = [];
    for (const pl of this.postFilterPlugins) {
      let r: PostFilterResult;
      try {
        r = pl.postFilter(state, pod, statuses);
      } catch (err) {
        return { status: withPlugin(errorStatus(err), pl.name) };
      }
      if (r.status.code === 'Success' || r.status.code === 'UnschedulableAndUnresolvable' || r.status.code === 'Error') {
        return { ...r, status: withPlugin(r.status, pl.name) };
      }
      reasons.push(...r.status.reasons);
    }
    return { status: this.postFilterPlugins.length === 0 ? skip() : unschedulable(...reasons) };
  }

  runPreScorePlugins(state: CycleState, pod: PodInfo, nodes: readonly NodeInfo[]): Status {
    for (const pl of this.preScorePlugins) {
      const s = guard(() => pl.preScore(state, pod, nodes));
      if (s.code === 'Success') continue;
      if (s.code === 'Skip') {
        state.skipScorePlugins.add(pl.name);
        continue;
      }
      return withPlugin(s, pl.name);
    }
    return success();
  }

  /** Weighted, normalised totals, index-aligned with `nodes`. */
  runScorePlugins(state: CycleState, pod: PodInfo, nodes: readonly NodeInfo[]): number[] | Status {
    const totals = new Array<number>(nodes.length).fill(0);
    const scores = new Float64Array(nodes.length);
    for (const pl of this.scorePlugins) {
      if (state.skipScorePlugins.has(pl.name)) continue;
      try {
        for (let i = 0; i < nodes.length; i++) scores[i] = pl.score(state, pod, nodes[i]);
      } catch (err) {
        return withPlugin(errorStatus(err), pl.name);
      }
      if (isNormalizeScore(pl)) {
        const s = guard(() => (pl as ScorePlugin & NormalizeScorePlugin).normalizeScore(state, pod, nodes, scores));
        if (s.code !== 'Success') return withPlugin(s, pl.name);
      }
      const w = this.weight(pl.name);
      for (let i = 0; i < nodes.length; i++) totals[i] += scores[i] * w;
    }
    return totals;
  }

  runReservePlugins(state: CycleState, pod: PodInfo, nodeName: string): Status {
    for (const pl of this.reservePlugins) {
      const s = guard(() => pl.reserve(state, pod, nodeName));
      if (s.code !== 'Success') return withPlugin(s, pl.name);
    }
    return success();
  }

  /** Undone in reverse order, as Kubernetes does. */
  runUnreservePlugins(state: CycleState, pod: PodInfo, nodeName: string): void {
    for (let i = this.reservePlugins.length - 1; i >= 0; i--) {
      try {
        this.reservePlugins[i].unreserve(state, pod, nodeName);
      } catch {
        // Unreserve is best effort: the pod is requeued whatever a plugin failed to undo.
      }
    }
  }

  /** Every PreBind plugin in order; the first that does not succeed (or Skip) ends the run. */
  async runPreBindPlugins(state: CycleState, pod: PodInfo, nodeName: string): Promise<Status> {
    for (const pl of this.preBindPlugins) {
      let s: Status;
      try {
        s = await pl.preBind(state, pod, nodeName);
      } catch (err) {
        s = errorStatus(err);
      }
      if (s.code === 'Success' || s.code === 'Skip') continue;
      return withPlugin(s, pl.name);
    }
    return success();
  }

  /** The first bind plugin that does not Skip binds the pod. */
  async runBindPlugins(state: CycleState, pod: PodInfo, nodeName: string): Promise<Status> {
    for (const pl of this.bindPlugins) {
      let s: Status;
      try {
        s = await pl.bind(state, pod, nodeName);
      } catch (err) {
        s = errorStatus(err);
      }
      if (s.code === 'Skip') continue;
      return withPlugin(s, pl.name);
    }
    return errorStatus(new Error('no bind plugin bound the pod'));
  }
}

function guard(fn: () => Status): Status {
  try {
    return fn();
  } catch (err) {
    return errorStatus(err);
  }
}

