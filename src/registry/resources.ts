// The resources tinykube serves: one Strategy each, registered in one table. The HTTP layer and
// discovery read `resourceTable`; nothing else switches on resource names.

import type { FieldError } from '../api/field.ts';
import { validateObjectMeta, validateObjectMetaUpdate } from '../api/validation/meta.ts';
import * as v from '../api/validation/others.ts';
import { isDNS1123Label, isDNS1123Subdomain, type NameValidator } from '../api/validation/names.ts';
import type { ConfigMap, Event, KubeObject, Lease, Namespace, Node, Pod, PriorityClass, Secret, ServiceAccount } from '../api/types.ts';
import { eventFieldLabels, eventFields, namespaceFieldLabels, namespaceFields, nodeFieldLabels, nodeFields, podFieldLabels, podFields, secretFieldLabels, secretFields } from '../api/fields.ts';
import type { ResourceInfo, Strategy } from './strategy.ts';
import * as podRules from './pods.ts';

const crud = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

const subdomain: NameValidator = (name) => isDNS1123Subdomain(name);
const label: NameValidator = (name) => isDNS1123Label(name);

/** A strategy with no defaults and no update rules beyond ObjectMeta's. */
function simple(info: ResourceInfo, extra: Partial<Strategy> = {}, nameFn: NameValidator = subdomain): Strategy {
  const metaRules = { namespaced: info.namespaced, nameFn, kubeFinalizers: info.group === '' };
  return {
    info,
    defaults() {},
    prepareForCreate() {},
    validate: (o: KubeObject): FieldError[] => validateObjectMeta(o.metadata, metaRules),
    prepareForUpdate() {},
    validateUpdate: (o: KubeObject, old: KubeObject): FieldError[] => validateObjectMetaUpdate(o.metadata, old.metadata, metaRules),
    ...extra,
  };
}

// prepareForUpdate gets `old` read-only (see Store.guaranteedUpdate); the parts an update must keep
// are moved from it, not copied: nothing writes to them afterwards.

/** Keep what a main-resource update must not touch (status), as Kubernetes' strategies do. */
function keepStatus(obj: KubeObject, old: KubeObject): void {
  if (old.status === undefined) delete obj.status;
  else obj.status = old.status;
}

/** Every top-level part of `obj` but its metadata, type and `keep` becomes `old`'s (what a subresource may not change). */
function restFromOld(obj: KubeObject, old: KubeObject, keep?: string): void {
  const own = (k: string) => k !== keep && k !== 'metadata' && k !== 'apiVersion' && k !== 'kind';
  for (const k of Object.keys(obj)) if (own(k)) delete obj[k];
  for (const k of Object.keys(old)) if (own(k)) obj[k] = old[k];
}

/** A status update changes only status. */
function statusOnly(obj: KubeObject, old: KubeObject): void {
  restFromOld(obj, old, 'status');
}

export const podStrategy: Strategy = {
  info: {
    group: '', version: 'v1', resource: 'pods', singular: 'pod', kind: 'Pod', listKind: 'PodList', namespaced: true,
    shortNames: ['po'], categories: ['all'], verbs: crud,
    subresources: ['attach', 'binding', 'eviction', 'exec', 'log', 'portforward', 'proxy', 'status'],
  },
  defaults: (o) => podRules.defaults(o as Pod),
  prepareForCreate: (o) => podRules.prepareForCreate(o as Pod),
  validate: (o) => podRules.validate(o as Pod),
  prepareForUpdate: (o, old) => podRules.prepareForUpdate(o as Pod, old as Pod),
  validateUpdate: (o, old) => podRules.validateUpdate(o as Pod, old as Pod),
  fieldsOf: (o) => podFields(o as Pod),
  fieldLabels: podFieldLabels,
  status: {
    prepareForUpdate: statusOnly,
    validateUpdate: (o, old) => podRules.validateStatusUpdate(o as Pod, old as Pod),
  },
  subresources: {
    // The binding handler sets spec.nodeName and the PodScheduled condition; nothing else may change.
    binding: {
      prepareForUpdate(o, old) {
        const nodeName = (o.spec as { nodeName?: string }).nodeName;
        const status = o.status;
        restFromOld(o, old);
        o.spec = { ...(old.spec as object), nodeName };
        o.status = status;
      },
      validateUpdate: () => [],
    },
  },
};

export const namespaceStrategy: Strategy = simple(
  {
    group: '', version: 'v1', resource: 'namespaces', singular: 'namespace', kind: 'Namespace', listKind: 'NamespaceList',
    namespaced: false, shortNames: ['ns'], verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'], subresources: ['finalize', 'status'],
  },
  {
    defaults(o) {
      const spec = ((o.spec as Record<string, unknown> | undefined) ??= {}) as { finalizers?: string[] };
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
      (o as { spec?: unknown }).spec = old.spec;
    },
    validate: (o) => v.validateNamespace(o as unknown as Namespace),
    validateUpdate: (o, old) => v.validateNamespaceUpdate(o as unknown as Namespace, old as unknown as Namespace),
    fieldsOf: (o) => namespaceFields(o as Namespace),
    fieldLabels: namespaceFieldLabels,
    status: { prepareForUpdate: statusOnly, validateUpdate: (o, old) => v.validateNamespaceStatusUpdate(o as unknown as Namespace, old as unknown as Namespace) },
    subresources: {
      finalize: {
        // Only spec.finalizers may change through finalize.
        prepareForUpdate(o, old) {
          const finalizers = (o.spec as { finalizers?: string[] } | undefined)?.finalizers ?? [];
          restFromOld(o, old);
          o.spec = { ...((old.spec as object | undefined) ?? {}), finalizers };
        },
        validateUpdate: (o, old) => v.validateNamespaceFinalizeUpdate(o as unknown as Namespace, old as unknown as Namespace),
      },
    },
  },
  label,
);

export const nodeStrategy: Strategy = simple(
  {
    group: '', version: 'v1', resource: 'nodes', singular: 'node', kind: 'Node', listKind: 'NodeList', namespaced: false,
    shortNames: ['no'], verbs: crud, subresources: ['proxy', 'status'],
  },
  {
    prepareForUpdate: keepStatus,
    validate: (o) => v.validateNode(o as unknown as Node),
    validateUpdate: (o, old) => v.validateNodeUpdate(o as unknown as Node, old as unknown as Node),
    fieldsOf: (o) => nodeFields(o as Node),
    fieldLabels: nodeFieldLabels,
    status: { prepareForUpdate: statusOnly, validateUpdate: (o, old) => v.validateNodeUpdate(o as unknown as Node, old as unknown as Node) },
  },
);

export const eventStrategy: Strategy = simple(
  {
    group: '', version: 'v1', resource: 'events', singular: 'event', kind: 'Event', listKind: 'EventList', namespaced: true,
    shortNames: ['ev'], verbs: crud,
  },
  {
    validate: (o) => v.validateEvent(o as unknown as Event),
    validateUpdate: (o, old) => v.validateEventUpdate(o as unknown as Event, old as unknown as Event),
    fieldsOf: (o) => eventFields(o as unknown as Event),
    fieldLabels: eventFieldLabels,
  },
);

export const configMapStrategy: Strategy = simple(
  {
    group: '', version: 'v1', resource: 'configmaps', singular: 'configmap', kind: 'ConfigMap', listKind: 'ConfigMapList',
    namespaced: true, shortNames: ['cm'], verbs: crud,
  },
  { validate: (o) => v.validateConfigMap(o as unknown as ConfigMap), validateUpdate: (o, old) => v.validateConfigMapUpdate(o as unknown as ConfigMap, old as unknown as ConfigMap) },
);

export const secretStrategy: Strategy = simple(
  { group: '', version: 'v1', resource: 'secrets', singular: 'secret', kind: 'Secret', listKind: 'SecretList', namespaced: true, verbs: crud },
  {
    defaults(o) {
      o.type ??= 'Opaque';
    },
    validate: (o) => v.validateSecret(o as unknown as Secret),
    validateUpdate: (o, old) => v.validateSecretUpdate(o as unknown as Secret, old as unknown as Secret),
    fieldsOf: (o) => secretFields(o as unknown as Secret),
    fieldLabels: secretFieldLabels,
  },
);

export const serviceAccountStrategy: Strategy = simple(
  {
    group: '', version: 'v1', resource: 'serviceaccounts', singular: 'serviceaccount', kind: 'ServiceAccount', listKind: 'ServiceAccountList',
    namespaced: true, shortNames: ['sa'], verbs: crud,
  },
  { validate: (o) => v.validateServiceAccount(o as unknown as ServiceAccount), validateUpdate: (o, old) => v.validateServiceAccountUpdate(o as unknown as ServiceAccount, old as unknown as ServiceAccount) },
);

export const leaseStrategy: Strategy = simple(
  {
    group: 'coordination.k8s.io', version: 'v1', resource: 'leases', singular: 'lease', kind: 'Lease', listKind: 'LeaseList',
    namespaced: true, verbs: crud,
  },
  { validate: (o) => v.validateLease(o as unknown as Lease), validateUpdate: (o, old) => v.validateLeaseUpdate(o as unknown as Lease, old as unknown as Lease) },
);

export const priorityClassStrategy: Strategy = simple(
  {
    group: 'scheduling.k8s.io', version: 'v1', resource: 'priorityclasses', singular: 'priorityclass', kind: 'PriorityClass', listKind: 'PriorityClassList',
    namespaced: false, shortNames: ['pc'], verbs: crud,
  },
  {
    defaults(o) {
      const pc = o as unknown as PriorityClass;
      // value is a plain int32 upstream (always present, 0 when not sent).
      if (pc.value === undefined || pc.value === null) pc.value = 0;
      pc.preemptionPolicy ??= 'PreemptLowerPriority';
    },
    validate: (o) => v.validatePriorityClass(o as unknown as PriorityClass),
    validateUpdate: (o, old) => v.validatePriorityClassUpdate(o as unknown as PriorityClass, old as unknown as PriorityClass),
  },
);

/** Every served resource, in discovery order. */
export const resourceTable: Strategy[] = [
  podStrategy,
  namespaceStrategy,
  nodeStrategy,
  eventStrategy,
  configMapStrategy,
  secretStrategy,
  serviceAccountStrategy,
  leaseStrategy,
  priorityClassStrategy,
];
