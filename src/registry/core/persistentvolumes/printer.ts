// PersistentVolume rows (printPersistentVolume): the claim as namespace/name, the class from the beta
// annotation first (GetPersistentVolumeClass), Terminating once deleted; -o wide adds the volume mode.

import { formatQuantity, parseWireQuantity } from '../../../api/quantity.ts';
import type { KubeObject, PersistentVolume } from '../../../api/types.ts';
import { ageColumn, column, nameColumn } from '../../printing/columns.ts';
import { timestampSince } from '../../printing/duration.ts';
import type { PrintedRow, TablePrinter } from '../../printing/types.ts';
import { accessModesAsString } from '../persistentvolumeclaims/printer.ts';

/** GetPersistentVolumeClass. */
export function volumeClass(pv: PersistentVolume): string {
  const ann = pv.metadata?.annotations?.['volume.beta.kubernetes.io/storage-class'];
  if (ann !== undefined) return ann;
  return pv.spec?.storageClassName ?? '';
}

function quantityString(raw: unknown): string {
  try {
    return formatQuantity(parseWireQuantity(raw ?? '0'));
  } catch {
    return String(raw);
  }
}

export function printPersistentVolume(pv: PersistentVolume, now: number): PrintedRow {
  const ref = pv.spec?.claimRef;
  const claim = ref ? `${ref.namespace ?? ''}/${ref.name ?? ''}` : '';
  const phase = pv.metadata?.deletionTimestamp ? 'Terminating' : (pv.status?.phase ?? '');
  const attributesClass = (pv.spec as { volumeAttributesClassName?: string } | undefined)?.volumeAttributesClassName ?? '<unset>';
  return {
    cells: [
      pv.metadata?.name ?? '',
      quantityString((pv.spec?.capacity as Record<string, unknown> | undefined)?.storage),
      accessModesAsString(pv.spec?.accessModes),
      pv.spec?.persistentVolumeReclaimPolicy ?? '',
      phase,
      claim,
      volumeClass(pv),
      attributesClass,
      pv.status?.reason ?? '',
      timestampSince(pv.metadata?.creationTimestamp, now),
      pv.spec?.volumeMode ?? '<unset>',
    ],
  };
}

export const persistentVolumePrinter: TablePrinter = {
  columns: [
    nameColumn(),
    column('Capacity', "capacity is the description of the persistent volume's resources and capacity. More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#capacity"),
    column('Access Modes', 'accessModes contains all ways the volume can be mounted. More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#access-modes'),
    column('Reclaim Policy', 'persistentVolumeReclaimPolicy defines what happens to a persistent volume when released from its claim. Valid options are Retain (default for manually created PersistentVolumes), Delete (default for dynamically provisioned PersistentVolumes), and Recycle (deprecated). Recycle must be supported by the volume plugin underlying this PersistentVolume. More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#reclaiming'),
    column('Status', 'phase indicates if a volume is available, bound to a claim, or released by a claim. More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#phase'),
    column('Claim', 'claimRef is part of a bi-directional binding between PersistentVolume and PersistentVolumeClaim. Expected to be non-nil when bound. claim.VolumeName is the authoritative bind between PV and PVC. More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#binding'),
    column('StorageClass', 'StorageClass of the pv'),
    column('VolumeAttributesClass', 'Name of VolumeAttributesClass to which this persistent volume belongs. Empty value is not allowed. When this field is not set, it indicates that this volume does not belong to any VolumeAttributesClass. This field is mutable and can be changed by the CSI driver after a volume has been updated successfully to a new class. For an unbound PersistentVolume, the volumeAttributesClassName will be matched with unbound PersistentVolumeClaims during the binding process.'),
    column('Reason', 'reason is a brief CamelCase string that describes any failure and is meant for machine parsing and tidy display in the CLI.'),
    ageColumn(),
    column('VolumeMode', 'volumeMode defines if a volume is intended to be used with a formatted filesystem or to remain in raw block state. Value of Filesystem is implied when not included in spec.', { priority: 1 }),
  ],
  print: (obj: KubeObject, now: number) => printPersistentVolume(obj as PersistentVolume, now),
};
