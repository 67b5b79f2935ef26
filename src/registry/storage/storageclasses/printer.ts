// StorageClass rows (printStorageClass): the default class's name carries " (default)", and unset
// policy and binding mode show their defaults.

import type { KubeObject, StorageClass } from '../../../api/types.ts';
import { isDefaultClass } from '../../../api/volumes/binding.ts';
import { ageColumn, column, nameColumn } from '../../printing/columns.ts';
import { timestampSince } from '../../printing/duration.ts';
import type { PrintedRow, TablePrinter } from '../../printing/types.ts';

export function printStorageClass(sc: StorageClass, now: number): PrintedRow {
  const name = (sc.metadata?.name ?? '') + (isDefaultClass(sc) ? ' (default)' : '');
  return {
    cells: [
      name,
      sc.provisioner ?? '',
      sc.reclaimPolicy ?? 'Delete',
      sc.volumeBindingMode ?? 'Immediate',
      sc.allowVolumeExpansion ?? false,
      timestampSince(sc.metadata?.creationTimestamp, now),
    ],
  };
}

export const storageClassPrinter: TablePrinter = {
  columns: [
    nameColumn(),
    column('Provisioner', 'provisioner indicates the type of the provisioner.'),
    column('ReclaimPolicy', 'reclaimPolicy controls the reclaimPolicy for dynamically provisioned PersistentVolumes of this storage class. Defaults to Delete.'),
    column('VolumeBindingMode', 'volumeBindingMode indicates how PersistentVolumeClaims should be provisioned and bound.  When unset, VolumeBindingImmediate is used. This field is only honored by servers that enable the VolumeScheduling feature.'),
    column('AllowVolumeExpansion', 'allowVolumeExpansion shows whether the storage class allow volume expand.'),
    ageColumn(),
  ],
  print: (obj: KubeObject, now: number) => printStorageClass(obj as StorageClass, now),
};
