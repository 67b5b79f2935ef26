// PersistentVolumeClaim rows (printPersistentVolumeClaim): a claim shows its volume, capacity and access
// modes only once bound; the class comes from the beta annotation first, as GetPersistentVolumeClaimClass.

import { formatQuantity, parseWireQuantity } from '../../../api/quantity.ts';
import type { KubeObject, PersistentVolumeClaim } from '../../../api/types.ts';
import { ageColumn, column, nameColumn } from '../../printing/columns.ts';
import { timestampSince } from '../../printing/duration.ts';
import type { PrintedRow, TablePrinter } from '../../printing/types.ts';

const ACCESS_MODE_ABBREVIATIONS: [string, string][] = [
  ['ReadWriteOnce', 'RWO'], ['ReadOnlyMany', 'ROX'], ['ReadWriteMany', 'RWX'], ['ReadWriteOncePod', 'RWOP'],
];

/** GetAccessModesAsString: each mode once, in kubectl's fixed order, comma-separated. */
export function accessModesAsString(modes: readonly string[] | undefined): string {
  const set = new Set(modes ?? []);
  return ACCESS_MODE_ABBREVIATIONS.filter(([m]) => set.has(m)).map(([, short]) => short).join(',');
}

/** GetPersistentVolumeClaimClass. */
export function claimClass(pvc: PersistentVolumeClaim): string {
  const ann = pvc.metadata?.annotations?.['volume.beta.kubernetes.io/storage-class'];
  if (ann !== undefined) return ann;
  return pvc.spec?.storageClassName ?? '';
}

function quantityString(raw: unknown): string {
  try {
    return formatQuantity(parseWireQuantity(raw ?? '0'));
  } catch {
    return String(raw);
  }
}

export function printPersistentVolumeClaim(pvc: PersistentVolumeClaim, now: number): PrintedRow {
  const phase = pvc.metadata?.deletionTimestamp ? 'Terminating' : (pvc.status?.phase ?? '');
  const volumeName = pvc.spec?.volumeName ?? '';
  let capacity = '';
  let accessModes = '';
  if (volumeName) {
    accessModes = accessModesAsString(pvc.status?.accessModes);
    capacity = quantityString((pvc.status?.capacity as Record<string, unknown> | undefined)?.storage);
  }
  const attributesClass = pvc.spec?.volumeAttributesClassName || '<unset>';
  return {
    cells: [
      pvc.metadata?.name ?? '', phase, volumeName, capacity, accessModes, claimClass(pvc), attributesClass,
      timestampSince(pvc.metadata?.creationTimestamp, now), pvc.spec?.volumeMode ?? '<unset>',
    ],
  };
}

export const persistentVolumeClaimPrinter: TablePrinter = {
  columns: [
    nameColumn(),
    column('Status', 'phase represents the current phase of PersistentVolumeClaim.'),
    column('Volume', 'volumeName is the binding reference to the PersistentVolume backing this claim.'),
    column('Capacity', 'capacity represents the actual resources of the underlying volume.'),
    column('Access Modes', 'accessModes contains the actual access modes the volume backing the PVC has. More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#access-modes-1'),
    column('StorageClass', 'StorageClass of the pv'),
    column('VolumeAttributesClass', 'volumeAttributesClassName may be used to set the VolumeAttributesClass used by this claim. If specified, the CSI driver will create or update the volume with the attributes defined in the corresponding VolumeAttributesClass. This has a different purpose than storageClassName, it can be changed after the claim is created. An empty string or nil value indicates that no VolumeAttributesClass will be applied to the claim. If the claim enters an Infeasible error state, this field can be reset to its previous value (including nil) to cancel the modification. If the resource referred to by volumeAttributesClass does not exist, this PersistentVolumeClaim will be set to a Pending state, as reflected by the modifyVolumeStatus field, until such as a resource exists. More info: https://kubernetes.io/docs/concepts/storage/volume-attributes-classes/'),
    ageColumn(),
    column('VolumeMode', 'volumeMode defines what type of volume is required by the claim. Value of Filesystem is implied when not included in claim spec.', { priority: 1 }),
  ],
  print: (obj: KubeObject, now: number) => printPersistentVolumeClaim(obj as PersistentVolumeClaim, now),
};
