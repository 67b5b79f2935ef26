// PersistentVolumes (core/v1): cluster-scoped storage, made by an administrator or a provisioner and
// bound to claims by the volume controller, which writes the phase through the status subresource.

import type { Mutable, PersistentVolume } from '../../../api/types.ts';
import { canonicalizeResourceList } from '../../../api/defaults/pod.ts';
import {
  validatePersistentVolume,
  validatePersistentVolumeStatusUpdate,
  validatePersistentVolumeUpdate,
} from '../../../api/validation/persistentvolumes.ts';
import { rfc3339 } from '../../../util/clock.ts';
import { defineKind } from '../../kind.ts';
import { keepStatus, statusOnly } from '../../rules.ts';
import { persistentVolumePrinter } from './printer.ts';

type Spec = Mutable<NonNullable<PersistentVolume['spec']>>;

/**
 * SetDefaults_PersistentVolume (Retain, Filesystem, a Pending phase) and the defaults of the volume
 * sources that have them (hostPath type, iscsi interface, rbd pool/user/keyring, azureDisk).
 */
export function defaultPersistentVolume(pv: Mutable<PersistentVolume>): void {
  pv.spec ??= {};
  const spec = pv.spec as Spec;
  spec.persistentVolumeReclaimPolicy ||= 'Retain';
  spec.volumeMode ??= 'Filesystem';
  canonicalizeResourceList(spec.capacity as Record<string, unknown> | undefined);
  if (spec.hostPath && spec.hostPath.type == null) spec.hostPath.type = '';
  if (spec.iscsi && !spec.iscsi.iscsiInterface) spec.iscsi.iscsiInterface = 'default';
  if (spec.rbd) {
    spec.rbd.pool ||= 'rbd';
    spec.rbd.user ||= 'admin';
    spec.rbd.keyring ||= '/etc/ceph/keyring';
  }
  if (spec.azureDisk) {
    spec.azureDisk.cachingMode ||= 'ReadWrite';
    spec.azureDisk.fsType ||= 'ext4';
    spec.azureDisk.readOnly ??= false;
    spec.azureDisk.kind ||= 'Shared';
  }
  pv.status ??= {};
  (pv.status as Mutable<NonNullable<PersistentVolume['status']>>).phase ||= 'Pending';
}

/**
 * The status strategy's PrepareForUpdate: a phase change the client did not time is stamped now; an
 * unchanged phase keeps its time. (The strategy has no clock of its own: the wall clock, as
 * kube-apiserver's NowFunc.)
 */
function prepareStatusUpdate(pv: PersistentVolume, old: PersistentVolume): void {
  statusOnly(pv, old);
  const status = (pv.status ??= {}) as Mutable<NonNullable<PersistentVolume['status']>>;
  const oldStatus = old.status ?? {};
  if (status.phase === oldStatus.phase && status.lastPhaseTransitionTime == null) {
    if (oldStatus.lastPhaseTransitionTime != null) status.lastPhaseTransitionTime = oldStatus.lastPhaseTransitionTime;
  } else if (status.phase !== oldStatus.phase && (status.lastPhaseTransitionTime == null || status.lastPhaseTransitionTime === oldStatus.lastPhaseTransitionTime)) {
    status.lastPhaseTransitionTime = rfc3339(Date.now());
  }
}

export const persistentVolumes = defineKind<PersistentVolume>({
  identity: { group: '', version: 'v1', resource: 'persistentvolumes', singular: 'persistentvolume', kind: 'PersistentVolume', namespaced: false, shortNames: ['pv'] },
  strategy: {
    defaults: defaultPersistentVolume,
    // persistentvolumeStrategy.PrepareForCreate: status is the server's; a new volume is Pending since now.
    prepareForCreate: (pv) => {
      (pv as Mutable<PersistentVolume>).status = { phase: 'Pending', lastPhaseTransitionTime: pv.metadata?.creationTimestamp };
    },
    validate: validatePersistentVolume,
    prepareForUpdate: keepStatus,
    validateUpdate: validatePersistentVolumeUpdate,
  },
  printer: persistentVolumePrinter,
  subresources: {
    status: { verbs: ['get', 'patch', 'update'], openapi: true, update: { prepareForUpdate: prepareStatusUpdate, validateUpdate: validatePersistentVolumeStatusUpdate } },
  },
  createOnUpdate: false,
  returnsDeletedObject: true,
});
