// PersistentVolumeClaims (core/v1): a namespaced request for storage. The volume controller and
// provisioner that bind claims come with the storage issue; until then claims stay Pending and the
// scheduler's VolumeBinding filter keeps their pods unscheduled, as Kubernetes does with no volume.

import type { Mutable, PersistentVolumeClaim } from '../../../api/types.ts';
import { canonicalizeResourceList } from '../../../api/defaults/pod.ts';
import {
  validatePersistentVolumeClaim,
  validatePersistentVolumeClaimStatusUpdate,
  validatePersistentVolumeClaimUpdate,
} from '../../../api/validation/persistentvolumeclaims.ts';
import { defineKind } from '../../kind.ts';
import { keepStatus, statusOnly } from '../../rules.ts';
import { persistentVolumeClaimPrinter } from './printer.ts';

/** SetDefaults_PersistentVolumeClaimSpec: Filesystem volume mode; quantities canonical. */
export function defaultPersistentVolumeClaim(pvc: Mutable<PersistentVolumeClaim>): void {
  pvc.spec ??= {};
  const spec = pvc.spec as Mutable<NonNullable<PersistentVolumeClaim['spec']>>;
  spec.volumeMode ??= 'Filesystem';
  canonicalizeResourceList(spec.resources?.requests);
  canonicalizeResourceList(spec.resources?.limits);
}

export const persistentVolumeClaims = defineKind<PersistentVolumeClaim>({
  identity: { group: '', version: 'v1', resource: 'persistentvolumeclaims', singular: 'persistentvolumeclaim', kind: 'PersistentVolumeClaim', namespaced: true, shortNames: ['pvc'] },
  strategy: {
    defaults: defaultPersistentVolumeClaim,
    // pvcStrategy.PrepareForCreate: status is the server's; a new claim is Pending.
    prepareForCreate: (pvc) => {
      (pvc as Mutable<PersistentVolumeClaim>).status = { phase: 'Pending' };
    },
    validate: validatePersistentVolumeClaim,
    prepareForUpdate: keepStatus,
    validateUpdate: validatePersistentVolumeClaimUpdate,
  },
  printer: persistentVolumeClaimPrinter,
  subresources: {
    status: { verbs: ['get', 'patch', 'update'], openapi: true, update: { prepareForUpdate: statusOnly, validateUpdate: validatePersistentVolumeClaimStatusUpdate } },
  },
});
