// CustomResourceDefinitions (apiextensions.k8s.io/v1): kinds defined at run time. The API server's
// apiextensions controller (src/apiserver/apiextensions/) accepts their names, establishes them and
// serves their custom resources through the registry; deleting one first deletes its custom
// resources (the customresourcecleanup finalizer), then the definition.

import { setCustomResourceDefinitionDefaults, validateCustomResourceDefinition, validateCustomResourceDefinitionStatusUpdate, validateCustomResourceDefinitionUpdate, type CustomResourceDefinition } from '../../../api/apiextensions/index.ts';
import type { KubeObject } from '../../../api/types.ts';
import type { FieldError } from '../../../api/field.ts';
import { rfc3339 } from '../../../util/clock.ts';
import { defineKind } from '../../kind.ts';
import { column, nameColumn } from '../../printing/columns.ts';
import type { TablePrinter } from '../../printing/types.ts';
import { keepStatus, statusOnly } from '../../rules.ts';
import type { DeletionPolicy } from '../../store.ts';

/** Held by this finalizer until its custom resources are gone. */
export const CRD_CLEANUP_FINALIZER = 'customresourcecleanup.apiextensions.k8s.io';

const crdDeletion: DeletionPolicy = {
  gracePeriod: () => 0,
  // The first delete adds the cleanup finalizer (kube-apiserver's CRD REST Delete does the same);
  // from then on the finalizer holds it.
  holds: (obj) => !obj.metadata?.deletionTimestamp,
  onDeleting(obj) {
    const meta = obj.metadata!;
    if (!(meta.finalizers ?? []).includes(CRD_CLEANUP_FINALIZER)) meta.finalizers = [...(meta.finalizers ?? []), CRD_CLEANUP_FINALIZER];
    const crd = obj as unknown as CustomResourceDefinition;
    const status = (crd.status ??= {});
    const conds = (status.conditions ?? []).filter((c) => c.type !== 'Terminating');
    conds.push({ type: 'Terminating', status: 'True', lastTransitionTime: meta.deletionTimestamp ?? rfc3339(Date.now()), reason: 'InstanceDeletionPending', message: 'CustomResourceDefinition marked for deletion; CustomResource deletion will begin soon' });
    status.conditions = conds;
  },
};

/** A CRD without a spec (or names) object is refused before the rules that read them. */
function specMissing(crd: CustomResourceDefinition): FieldError[] | undefined {
  const spec = crd.spec as unknown;
  if (!spec || typeof spec !== 'object' || Array.isArray(spec)) return [{ type: 'FieldValueRequired', field: 'spec', badValue: '', detail: '' }];
  const names = crd.spec.names as unknown;
  if (!names || typeof names !== 'object' || Array.isArray(names)) return [{ type: 'FieldValueRequired', field: 'spec.names', badValue: '', detail: '' }];
  return undefined;
}

/** `kubectl get crd`: NAME and CREATED AT, as kube-apiserver's default table has them. */
const crdPrinter: TablePrinter = {
  columns: [
    nameColumn(),
    column('Created At', 'CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.  Populated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata', { type: 'date' }),
  ],
  print: (obj: KubeObject) => ({ cells: [obj.metadata?.name ?? '', obj.metadata?.creationTimestamp ?? ''] }),
};

export const customResourceDefinitions = defineKind<CustomResourceDefinition>({
  identity: {
    group: 'apiextensions.k8s.io', version: 'v1', resource: 'customresourcedefinitions', singular: 'customresourcedefinition', kind: 'CustomResourceDefinition',
    namespaced: false, shortNames: ['crd', 'crds'], categories: ['api-extensions'],
  },
  strategy: {
    defaults(crd) {
      // A body without spec is refused by validation; defaulting must not fail on it first.
      if (crd.spec && typeof crd.spec === 'object' && crd.spec.names && typeof crd.spec.names === 'object') setCustomResourceDefinitionDefaults(crd);
    },
    prepareForCreate(crd) {
      // Status is the apiextensions controller's; only storedVersions starts from the spec.
      const stored = crd.status?.storedVersions;
      crd.status = { storedVersions: stored ?? [] };
      if (crd.spec && typeof crd.spec === 'object' && crd.spec.names && typeof crd.spec.names === 'object') setCustomResourceDefinitionDefaults(crd);
    },
    validate: (crd) => specMissing(crd) ?? validateCustomResourceDefinition(crd),
    prepareForUpdate(crd, old) {
      keepStatus(crd, old);
      // A version newly made the storage version is added to storedVersions, as kube-apiserver does.
      const storage = crd.spec?.versions?.find((v) => v.storage)?.name;
      if (storage && crd.status && !(crd.status.storedVersions ?? []).includes(storage)) {
        crd.status = { ...crd.status, storedVersions: [...(crd.status.storedVersions ?? []), storage] };
      }
    },
    validateUpdate: (crd, old) => specMissing(crd) ?? validateCustomResourceDefinitionUpdate(crd, old),
  },
  printer: crdPrinter,
  subresources: {
    status: { verbs: ['get', 'patch', 'update'], openapi: true, update: { prepareForUpdate: statusOnly, validateUpdate: validateCustomResourceDefinitionStatusUpdate } },
  },
  deletion: crdDeletion,
  schema: { model: 'V1CustomResourceDefinition' },
});
