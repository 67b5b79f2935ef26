// Which PersistentVolume may serve which claim (component-helpers' storage/volume and the PV
// controller's index): class, size, access modes, volume mode, the claim's selector, a volume's node
// affinity. Shared by the PV controller (binding Immediate claims), the scheduler's VolumeBinding
// (WaitForFirstConsumer claims, per node) and the local-path provisioner.

import { fromLabelSelector, selectorMatches } from '../labels.ts';
import { tryParseQuantity, value as quantityValue } from '../quantity.ts';
import { nodeSelectorTermsMatch, type NodeLabels } from '../scheduling/node-affinity.ts';
import type { PersistentVolume, PersistentVolumeClaim, StorageClass } from '../types.ts';

/** On a claim: the PV controller finished binding it (set once, never removed). */
export const ANN_BIND_COMPLETED = 'pv.kubernetes.io/bind-completed';
/** On a claim (volumeName) or a volume (claimRef): the binding was made by a controller, not a user. */
export const ANN_BOUND_BY_CONTROLLER = 'pv.kubernetes.io/bound-by-controller';
/** On a volume: the provisioner that made it. */
export const ANN_DYNAMICALLY_PROVISIONED = 'pv.kubernetes.io/provisioned-by';
/** On a claim: the provisioner asked to make its volume (and the beta key older provisioners read). */
export const ANN_STORAGE_PROVISIONER = 'volume.kubernetes.io/storage-provisioner';
export const ANN_BETA_STORAGE_PROVISIONER = 'volume.beta.kubernetes.io/storage-provisioner';
/** On a claim: the node the scheduler chose for its first consumer (WaitForFirstConsumer). */
export const ANN_SELECTED_NODE = 'volume.kubernetes.io/selected-node';
/** On a class: it is the cluster's default. */
export const ANN_DEFAULT_STORAGE_CLASS = 'storageclass.kubernetes.io/is-default-class';
export const ANN_BETA_DEFAULT_STORAGE_CLASS = 'storageclass.beta.kubernetes.io/is-default-class';
export const PVC_PROTECTION_FINALIZER = 'kubernetes.io/pvc-protection';
export const PV_PROTECTION_FINALIZER = 'kubernetes.io/pv-protection';

/** GetPersistentVolumeClaimClass: the beta annotation first, then spec.storageClassName, else "". */
export function claimClass(pvc: PersistentVolumeClaim): string {
  return pvc.metadata?.annotations?.['volume.beta.kubernetes.io/storage-class'] ?? pvc.spec?.storageClassName ?? '';
}

/** GetPersistentVolumeClass: the beta annotation first, as for claims. */
export function volumeClass(pv: PersistentVolume): string {
  return pv.metadata?.annotations?.['volume.beta.kubernetes.io/storage-class'] ?? pv.spec?.storageClassName ?? '';
}

export function isDefaultClass(sc: StorageClass): boolean {
  const a = sc.metadata?.annotations ?? {};
  return a[ANN_DEFAULT_STORAGE_CLASS] === 'true' || a[ANN_BETA_DEFAULT_STORAGE_CLASS] === 'true';
}

/** GetDefaultClass: among the default classes, the newest; the first name between equally new ones (kube 1.28+). */
export function defaultClass(classes: Iterable<StorageClass>): StorageClass | undefined {
  let best: StorageClass | undefined;
  let bestTime = 0;
  for (const sc of classes) {
    if (!isDefaultClass(sc)) continue;
    const t = Date.parse(sc.metadata?.creationTimestamp ?? '') || 0;
    const name = sc.metadata?.name ?? '';
    if (!best || t > bestTime || (t === bestTime && name < (best.metadata?.name ?? ''))) {
      best = sc;
      bestTime = t;
    }
  }
  return best;
}

/** WaitForFirstConsumer: binding waits for the scheduler to pick the first pod's node. */
export function isDelayBinding(pvc: PersistentVolumeClaim, classOf: (name: string) => StorageClass | undefined): boolean {
  const name = claimClass(pvc);
  if (!name) return false;
  return classOf(name)?.volumeBindingMode === 'WaitForFirstConsumer';
}

/** The claim's storage request in bytes (0 when absent or not a quantity). */
export function requestedBytes(pvc: PersistentVolumeClaim): number {
  const q = tryParseQuantity(pvc.spec?.resources?.requests?.storage);
  return q ? quantityValue(q) : 0;
}

export function capacityBytes(pv: PersistentVolume): number {
  const q = tryParseQuantity(pv.spec?.capacity?.storage);
  return q ? quantityValue(q) : 0;
}

/** CheckAccessModes: every mode the claim asks for is one the volume offers. */
export function accessModesFit(pvc: PersistentVolumeClaim, pv: PersistentVolume): boolean {
  const offered = new Set(pv.spec?.accessModes ?? []);
  return (pvc.spec?.accessModes ?? []).every((m) => offered.has(m));
}

/** CheckVolumeModeMismatches (an unset mode is Filesystem on both sides). */
export function volumeModeMismatch(pvc: PersistentVolumeClaim, pv: PersistentVolume): boolean {
  return (pvc.spec?.volumeMode ?? 'Filesystem') !== (pv.spec?.volumeMode ?? 'Filesystem');
}

/** A volume's required node affinity holds for the node (a volume without one fits every node). */
export function volumeFitsNode(pv: PersistentVolume, node: NodeLabels): boolean {
  const terms = pv.spec?.nodeAffinity?.required?.nodeSelectorTerms;
  if (!terms) return true;
  return nodeSelectorTermsMatch(terms, node);
}

/** IsVolumeBoundToClaim: the volume's claimRef names this claim (and, once set, its uid). */
export function volumeBoundToClaim(pv: PersistentVolume, pvc: PersistentVolumeClaim): boolean {
  const ref = pv.spec?.claimRef;
  if (!ref) return false;
  if (ref.name !== pvc.metadata?.name || ref.namespace !== pvc.metadata?.namespace) return false;
  return !ref.uid || ref.uid === pvc.metadata?.uid;
}

/** checkVolumeSatisfyClaim, with its messages (VolumeMismatch events quote them). */
export function volumeSatisfiesClaim(pv: PersistentVolume, pvc: PersistentVolumeClaim): string | undefined {
  if (pv.metadata?.deletionTimestamp) return `the volume is marked for deletion ${JSON.stringify(pv.metadata?.name ?? '')}`;
  if (capacityBytes(pv) < requestedBytes(pvc)) return 'requested PV is too small';
  if (volumeClass(pv) !== claimClass(pvc)) return 'storageClassName does not match';
  if (volumeModeMismatch(pvc, pv)) return 'incompatible volumeMode';
  if (!accessModesFit(pvc, pv)) return 'incompatible accessMode';
  return undefined;
}

export interface MatchOptions {
  /** WaitForFirstConsumer class: volumes not pre-bound to the claim are only matched with a node. */
  delayBinding: boolean;
  /** The node the claim's pod goes to (the scheduler's question); its affinity must hold. */
  node?: NodeLabels;
}

/** How many distinct access modes a volume offers (the PV controller's index searches the fewest first). */
function modeCount(pv: PersistentVolume): number {
  return new Set(pv.spec?.accessModes ?? []).size;
}

/**
 * FindMatchingVolume, as the PV controller (no node) and the scheduler (a node) use it. A volume
 * pre-bound to the claim (its claimRef) wins whatever the claim's selector says, if it is big enough,
 * of the claim's volume mode and access modes and not being deleted; with a node that its affinity
 * excludes, nothing matches. Otherwise: the smallest Available volume of the claim's class that fits
 * it, its selector and (with a node) the node's labels. The PV controller searches its volumes by
 * access-mode sets, fewest modes first, and across classes for a pre-bound volume; the scheduler lists
 * the claim's class only. A WaitForFirstConsumer claim (delayBinding) without a node takes only a
 * pre-bound volume.
 */
export function findMatchingVolume(pvc: PersistentVolumeClaim, volumes: Iterable<PersistentVolume>, o: MatchOptions): PersistentVolume | undefined {
  const want = requestedBytes(pvc);
  const cls = claimClass(pvc);
  const selector = pvc.spec?.selector ? fromLabelSelector(pvc.spec.selector) : undefined;
  let best: PersistentVolume | undefined;
  const better = (pv: PersistentVolume, than: PersistentVolume): boolean => {
    if (!o.node && modeCount(pv) !== modeCount(than)) return modeCount(pv) < modeCount(than);
    return capacityBytes(pv) < capacityBytes(than);
  };
  for (const pv of volumes) {
    // The scheduler looks at the claim's class only (its cache lists volumes by class).
    if (o.node && volumeClass(pv) !== cls) continue;
    if (pv.spec?.claimRef && !volumeBoundToClaim(pv, pvc)) continue;
    if (capacityBytes(pv) < want) continue;
    if (volumeModeMismatch(pvc, pv)) continue;
    if (pv.metadata?.deletionTimestamp) continue;
    if (!accessModesFit(pvc, pv)) continue;
    const fitsNode = !o.node || volumeFitsNode(pv, o.node);
    if (volumeBoundToClaim(pv, pvc)) return fitsNode ? pv : undefined;
    if (o.delayBinding && !o.node) continue;
    if (pv.status?.phase !== 'Available') continue;
    if (selector && !selectorMatches(selector, pv.metadata?.labels)) continue;
    if (volumeClass(pv) !== cls || !fitsNode) continue;
    if (!best || better(pv, best)) best = pv;
  }
  return best;
}
