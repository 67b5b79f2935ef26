// Runs plugins over a small in-memory cluster, for table-driven plugin tests. Test-only.

import type { Labels } from '../../api/labels.ts';
import type { Node, PersistentVolume, PersistentVolumeClaim, Pod, StorageClass } from '../../api/types.ts';
import { SchedulerCache } from '../framework/cache.ts';
import { CycleState } from '../framework/cycle-state.ts';
import { Framework } from '../framework/framework.ts';
import type { PluginConfig } from '../framework/framework.ts';
import type { PodEvictor, VolumeWriter } from '../framework/interfaces.ts';
import { newPodInfo } from '../framework/pod-info.ts';
import { registry } from '../plugins/registry.ts';

export interface Harness {
  cache: SchedulerCache;
  fw: Framework;
}

export function harness(plugins: ReadonlyArray<string | PluginConfig>, nodes: Node[], pods: Pod[] = [], o: { namespaceLabels?: Record<string, Labels>; evictor?: PodEvictor; claims?: PersistentVolumeClaim[]; volumes?: PersistentVolume[]; classes?: StorageClass[]; volumeWriter?: VolumeWriter } = {}): Harness {
  const cache = new SchedulerCache();
  for (const n of nodes) cache.addOrUpdateNode(n);
  for (const p of pods) cache.addOrUpdatePod(p);
  const fw = new Framework({
    registry,
    plugins: plugins.map((p) => (typeof p === 'string' ? { name: p } : p)),
    nodes: cache,
    namespaceLabels: (ns) => o.namespaceLabels?.[ns],
    persistentVolumeClaim: (ns, name) => o.claims?.find((c) => c.metadata?.namespace === ns && c.metadata?.name === name),
    evictor: o.evictor,
    volumeWriter: o.volumeWriter,
    volumes: {
      persistentVolume: (name) => o.volumes?.find((v) => v.metadata?.name === name),
      persistentVolumes: () => o.volumes ?? [],
      storageClass: (name) => o.classes?.find((c) => c.metadata?.name === name),
    },
  });
  return { cache, fw };
}

/** Node name → "ok", or "<code>: <reasons>" for the status that rejected it. */
export function filterAll(h: Harness, pod: Pod): Record<string, string> {
  const info = newPodInfo(pod);
  const state = new CycleState();
  const out: Record<string, string> = {};
  const pre = h.fw.runPreFilterPlugins(state, info);
  for (const n of h.cache.list()) {
    const s = pre.code === 'Success' ? h.fw.runFilterPlugins(state, info, n) : pre;
    out[n.name] = s.code === 'Success' ? 'ok' : `${s.code}: ${s.reasons.join(', ')}`;
  }
  return out;
}

/** Node name → weighted, normalised score total, over the nodes that pass Filter. */
export function scoreAll(h: Harness, pod: Pod): Record<string, number> {
  const info = newPodInfo(pod);
  const state = new CycleState();
  const pre = h.fw.runPreFilterPlugins(state, info);
  if (pre.code !== 'Success') throw new Error(`prefilter: ${pre.code} ${pre.reasons.join(', ')}`);
  const feasible = h.cache.list().filter((n) => h.fw.runFilterPlugins(state, info, n).code === 'Success');
  const ps = h.fw.runPreScorePlugins(state, info, feasible);
  if (ps.code !== 'Success') throw new Error(`prescore: ${ps.code}`);
  const totals = h.fw.runScorePlugins(state, info, feasible);
  if (!Array.isArray(totals)) throw new Error(`score: ${totals.code} ${totals.reasons.join(', ')}`);
  return Object.fromEntries(feasible.map((n, i) => [n.name, totals[i]]));
}
