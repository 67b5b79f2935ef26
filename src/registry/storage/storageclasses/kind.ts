// StorageClasses (storage.k8s.io/v1): how claims of a class are provisioned. The one annotated
// storageclass.kubernetes.io/is-default-class "true" is what the DefaultStorageClass admission gives
// claims that name no class.

import type { Mutable, StorageClass } from '../../../api/types.ts';
import { validateStorageClass, validateStorageClassUpdate } from '../../../api/validation/storageclasses.ts';
import { defineKind } from '../../kind.ts';
import { storageClassPrinter } from './printer.ts';

/** SetDefaults_StorageClass. */
export function defaultStorageClass(sc: Mutable<StorageClass>): void {
  sc.reclaimPolicy ??= 'Delete';
  sc.volumeBindingMode ??= 'Immediate';
}

export const storageClasses = defineKind<StorageClass>({
  identity: { group: 'storage.k8s.io', version: 'v1', resource: 'storageclasses', singular: 'storageclass', kind: 'StorageClass', namespaced: false, shortNames: ['sc'] },
  strategy: {
    defaults: defaultStorageClass,
    validate: validateStorageClass,
    validateUpdate: validateStorageClassUpdate,
  },
  printer: storageClassPrinter,
  createOnUpdate: false,
  returnsDeletedObject: true,
});
