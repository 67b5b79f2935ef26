// Namespaces (core/v1): held by spec.finalizers until the namespace controller has emptied them,
// Terminating meanwhile; spec.finalizers change only through the finalize subresource.

import type { Namespace } from '../../../api/types.ts';
import * as v from '../../../api/validation/others.ts';
import { defineKind } from '../../kind.ts';
import { keepStatus, restFromOld, statusOnly } from '../../rules.ts';
import type { DeletionPolicy } from '../../store.ts';
import { namespaceFieldSelectors } from './fields.ts';
import { namespacePrinter } from './printer.ts';

const namespaceDeletion: DeletionPolicy = {
  gracePeriod: () => 0,
  holds: (obj) => (((obj.spec as { finalizers?: string[] } | undefined)?.finalizers?.length) ?? 0) > 0,
  onDeleting(obj) {
    obj.status = { ...((obj.status as object | undefined) ?? {}), phase: 'Terminating' };
  },
};

export const namespaces = defineKind<Namespace>({
  identity: { group: '', version: 'v1', resource: 'namespaces', singular: 'namespace', kind: 'Namespace', namespaced: false, shortNames: ['ns'], verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'] },
  strategy: {
    defaults(o) {
      const spec = (o.spec ??= {});
      spec.finalizers ??= ['kubernetes'];
      const name = o.metadata?.name;
      if (name) (o.metadata!.labels ??= {})['kubernetes.io/metadata.name'] = name;
    },
    prepareForCreate(o) {
      o.status = { phase: 'Active' };
    },
    prepareForUpdate(o, old) {
      keepStatus(o, old);
      // spec.finalizers change only through the finalize subresource.
      o.spec = old.spec;
    },
    validate: v.validateNamespace,
    validateUpdate: v.validateNamespaceUpdate,
  },
  printer: namespacePrinter,
  fields: namespaceFieldSelectors,
  subresources: {
    status: { verbs: ['get', 'patch', 'update'], openapi: true, update: { prepareForUpdate: statusOnly, validateUpdate: v.validateNamespaceStatusUpdate } },
    finalize: {
      verbs: ['update'],
      openapi: true,
      update: {
        // Only spec.finalizers may change through finalize.
        prepareForUpdate(o, old) {
          const finalizers = o.spec?.finalizers ?? [];
          restFromOld(o, old);
          o.spec = { ...(old.spec ?? {}), finalizers };
        },
        validateUpdate: v.validateNamespaceFinalizeUpdate,
      },
    },
  },
  deletion: namespaceDeletion,
  createOnUpdate: false,
  returnsDeletedObject: true,
});
