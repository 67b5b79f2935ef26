// The built-in local-path storage (k3s ships rancher's local-path-provisioner for the same job): a
// claim's volume is a directory under its node's storage root, made by the node agent when the first
// pod mounts it (a hostPath PV of type DirectoryOrCreate, pinned to the node by node affinity) and
// removed by that agent when the volume is released under the Delete policy.
//
// What the pieces agree on lives here: the provisioner's name, the annotation by which each node's
// agent publishes its storage root, where a claim's directory goes, and how much of a node's storage
// the provisioned volumes already take (the scheduler filters nodes with it; the provisioner refuses
// to over-commit with it).

import { tryParseQuantity, value as quantityValue } from '../quantity.ts';
import type { Node, PersistentVolume, PersistentVolumeClaim } from '../types.ts';
import { ANN_DYNAMICALLY_PROVISIONED, capacityBytes } from './binding.ts';

export const LOCAL_PATH_PROVISIONER = 'tinykube.io/local-path';
export const LOCAL_PATH_CLASS = 'local-path';
/** On a Node, set by its agent: the directory local-path volumes of that node live under. */
export const ANN_LOCAL_PATH_ROOT = 'local-path.tinykube.io/storage-root';
export const HOSTNAME_LABEL = 'kubernetes.io/hostname';

/** The node's storage root, or undefined when its agent publishes none. */
export function localPathRoot(node: Node): string | undefined {
  const root = node.metadata?.annotations?.[ANN_LOCAL_PATH_ROOT];
  return root && root.startsWith('/') ? root : undefined;
}

/** The directory of a claim's volume: `<root>/pvc-<uid>_<namespace>_<name>`, as rancher's provisioner names it. */
export function claimDirectory(root: string, pvc: PersistentVolumeClaim): string {
  return `${root.replace(/\/+$/, '')}/pvc-${pvc.metadata?.uid ?? ''}_${pvc.metadata?.namespace ?? ''}_${pvc.metadata?.name ?? ''}`;
}

/** The node a local-path volume is pinned to (its node affinity's hostname), or undefined. */
export function localPathNode(pv: PersistentVolume): string | undefined {
  if (pv.metadata?.annotations?.[ANN_DYNAMICALLY_PROVISIONED] !== LOCAL_PATH_PROVISIONER) return undefined;
  for (const t of pv.spec?.nodeAffinity?.required?.nodeSelectorTerms ?? []) {
    for (const r of t.matchExpressions ?? []) {
      if (r.key === HOSTNAME_LABEL && r.operator === 'In' && r.values?.length === 1) return r.values[0];
    }
  }
  return undefined;
}

export function hostnameOf(node: Node): string {
  return node.metadata?.labels?.[HOSTNAME_LABEL] ?? node.metadata?.name ?? '';
}

/** Bytes of the node's storage (its ephemeral-storage capacity) not yet given to local-path volumes. */
export function localPathFreeBytes(node: Node, volumes: Iterable<PersistentVolume>): number {
  const q = tryParseQuantity(node.status?.capacity?.['ephemeral-storage']);
  if (!q) return 0;
  const host = hostnameOf(node);
  let used = 0;
  for (const pv of volumes) if (localPathNode(pv) === host) used += capacityBytes(pv);
  return quantityValue(q) - used;
}

/** Why no local-path volume can serve the claim wherever it goes (its shape, not room), or undefined. */
export function localPathUnsupported(pvc: PersistentVolumeClaim): string | undefined {
  // A directory on one node: one node's pods at a time (rancher's provisioner says the same).
  if ((pvc.spec?.accessModes ?? []).some((m) => m !== 'ReadWriteOnce' && m !== 'ReadWriteOncePod')) return 'the local-path provisioner only supports ReadWriteOnce and ReadWriteOncePod access modes';
  if (pvc.spec?.volumeMode === 'Block') return 'the local-path provisioner provides volumeMode Filesystem only, not Block';
  if (pvc.spec?.dataSource || pvc.spec?.dataSourceRef) return 'the local-path provisioner cannot populate a volume from a data source';
  return undefined;
}
