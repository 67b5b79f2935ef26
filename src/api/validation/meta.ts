// ObjectMeta validation on create and update, labels, annotations, owner references, finalizers
// and label selectors — apimachinery's api/validation and apis/meta/v1/validation, plus the core
// group's finalizer-name rule. Order of checks and wording follow Kubernetes 1.32, because kubectl
// prints the causes in the order the server lists them.

import { FieldPath, forbiddenField, invalid, required, tooLong, type FieldError } from '../field.ts';
import { semanticDeepEqual } from '../equality.ts';
import type { LabelSelector, ObjectMeta, OwnerReference } from '../types.ts';
import { byteLength, isQualifiedName, isValidLabelValue, nameIsDNSLabel, type NameValidator } from './names.ts';

export const TOTAL_ANNOTATION_SIZE_LIMIT_BYTES = 256 * 1024;
export const FIELD_IMMUTABLE_MESSAGE = 'field is immutable';
export const IS_NEGATIVE_MESSAGE = 'must be greater than or equal to 0';

/** Finalizers Kubernetes itself understands without a domain prefix. */
const standardFinalizers = new Set(['kubernetes', 'orphan', 'foregroundDeletion']);

export interface ObjectMetaRules {
  /** Namespaced resources require metadata.namespace; cluster-scoped ones forbid it. */
  namespaced: boolean;
  /** The resource's name rule (pods: DNS subdomain, namespaces: DNS label...). */
  nameFn: NameValidator;
  /**
   * Core-group objects also require finalizers without '/' to be standard names ("kubernetes",
   * "orphan", "foregroundDeletion"). Default true; coordination.k8s.io objects pass false.
   */
  kubeFinalizers?: boolean;
}

const metadataPath = new FieldPath('metadata');

export function validateNonnegativeField(value: number, path: FieldPath): FieldError[] {
  return value < 0 ? [invalid(path, value, IS_NEGATIVE_MESSAGE)] : [];
}

export function validateImmutableField(newVal: unknown, oldVal: unknown, path: FieldPath): FieldError[] {
  return semanticDeepEqual(newVal, oldVal) ? [] : [invalid(path, newVal ?? null, FIELD_IMMUTABLE_MESSAGE)];
}

/** A label key (also taint keys, topology keys, node selector keys). */
export function validateLabelName(name: string, path: FieldPath): FieldError[] {
  return isQualifiedName(name).map((msg) => invalid(path, name, msg));
}

export function validateLabels(labels: Record<string, string> | undefined | null, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  if (!labels || typeof labels !== 'object') return errs;
  for (const [k, v] of Object.entries(labels)) {
    errs.push(...validateLabelName(k, path));
    const value = typeof v === 'string' ? v : v === null ? '' : String(v);
    for (const msg of isValidLabelValue(value)) errs.push(invalid(path, value, msg));
  }
  return errs;
}

export function validateAnnotations(annotations: Record<string, string> | undefined | null, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  if (!annotations || typeof annotations !== 'object') return errs;
  let total = 0;
  for (const [k, v] of Object.entries(annotations)) {
    // The rule is a qualified name except that case does not matter.
    for (const msg of isQualifiedName(k.toLowerCase())) errs.push(invalid(path, k, msg));
    total += byteLength(k) + byteLength(typeof v === 'string' ? v : v === null ? '' : String(v));
  }
  if (total > TOTAL_ANNOTATION_SIZE_LIMIT_BYTES) errs.push(tooLong(path, '', TOTAL_ANNOTATION_SIZE_LIMIT_BYTES));
  return errs;
}

/** Group and version of an apiVersion string, or undefined when it has more than one '/'. */
export function parseGroupVersion(apiVersion: string): { group: string; version: string } | undefined {
  const slashes = apiVersion.split('/').length - 1;
  if (slashes === 0) return { group: '', version: apiVersion };
  if (slashes === 1) {
    const i = apiVersion.indexOf('/');
    return { group: apiVersion.slice(0, i), version: apiVersion.slice(i + 1) };
  }
  return undefined;
}

export function validateOwnerReferences(refs: OwnerReference[] | undefined, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  if (!Array.isArray(refs)) return errs;
  let firstController = '';
  for (const r of refs) {
    const ref: OwnerReference = r ?? ({} as OwnerReference);
    const gv = parseGroupVersion(ref.apiVersion ?? '') ?? { group: '', version: '' };
    const kind = ref.kind ?? '';
    if (gv.version.length === 0) errs.push(invalid(path.child('apiVersion'), ref.apiVersion ?? '', 'version must not be empty'));
    if (kind.length === 0) errs.push(invalid(path.child('kind'), kind, 'kind must not be empty'));
    if (!ref.name) errs.push(invalid(path.child('name'), ref.name ?? '', 'name must not be empty'));
    if (!ref.uid) errs.push(invalid(path.child('uid'), ref.uid ?? '', 'uid must not be empty'));
    if (gv.group === '' && gv.version === 'v1' && kind === 'Event') {
      errs.push(invalid(path, ref, '/v1, Kind=Event is disallowed from being an owner'));
    }
    if (ref.controller === true) {
      const current = `${kind}/${ref.name ?? ''}`;
      if (firstController !== '') {
        errs.push(
          invalid(path, refs, `Only one reference can have Controller set to true. Found "true" in references for ${firstController} and ${current}`),
        );
      } else {
        firstController = current;
      }
    }
  }
  return errs;
}

export function validateFinalizerName(name: string, path: FieldPath): FieldError[] {
  return isQualifiedName(name).map((msg) => invalid(path, name, msg));
}

/** The core group's stricter rule: a name without '/' must be one Kubernetes defines. */
export function validateKubeFinalizerName(name: string, path: FieldPath): FieldError[] {
  const errs = validateFinalizerName(name, path);
  if (!name.includes('/') && !standardFinalizers.has(name)) {
    errs.push(invalid(path, name, 'name is neither a standard finalizer name nor is it fully qualified'));
  }
  return errs;
}

export function validateFinalizers(finalizers: string[] | undefined, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  if (!Array.isArray(finalizers)) return errs;
  for (const f of finalizers) errs.push(...validateFinalizerName(f ?? '', path));
  if (finalizers.includes('orphan') && finalizers.includes('foregroundDeletion')) {
    errs.push(invalid(path, finalizers, 'finalizer orphan and foregroundDeletion cannot be both set'));
  }
  return errs;
}

export function validateManagedFields(entries: ObjectMeta['managedFields'], path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  if (!Array.isArray(entries)) return errs;
  entries.forEach((entry, i) => {
    const e = entry ?? {};
    const p = path.index(i);
    if (e.operation !== 'Apply' && e.operation !== 'Update') errs.push(invalid(p.child('operation'), e.operation ?? '', 'must be `Apply` or `Update`'));
    if (e.fieldsType && e.fieldsType !== 'FieldsV1') errs.push(invalid(p.child('fieldsType'), e.fieldsType, 'must be `FieldsV1`'));
    const manager = e.manager ?? '';
    if (manager.length > 128) errs.push(tooLong(p.child('manager'), '', 128));
    if (/[\p{C}]/u.test(manager)) errs.push(invalid(p.child('manager'), manager, 'must only contain printable characters'));
    if ((e.subresource ?? '').length > 256) errs.push(tooLong(p.child('subresource'), e.subresource, 256));
  });
  return errs;
}

function validateMetaCommon(meta: ObjectMeta, rules: ObjectMetaRules, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const ns = meta.namespace ?? '';
  if (rules.namespaced) {
    if (ns.length === 0) errs.push(required(path.child('namespace')));
    else for (const msg of nameIsDNSLabel(ns, false)) errs.push(invalid(path.child('namespace'), ns, msg));
  } else if (ns.length !== 0) {
    errs.push(forbiddenField(path.child('namespace'), 'not allowed on this type'));
  }
  errs.push(...validateNonnegativeField(meta.generation ?? 0, path.child('generation')));
  errs.push(...validateLabels(meta.labels, path.child('labels')));
  errs.push(...validateAnnotations(meta.annotations, path.child('annotations')));
  errs.push(...validateOwnerReferences(meta.ownerReferences, path.child('ownerReferences')));
  errs.push(...validateFinalizers(meta.finalizers, path.child('finalizers')));
  errs.push(...validateManagedFields(meta.managedFields, path.child('managedFields')));
  return errs;
}

function kubeFinalizerErrors(meta: ObjectMeta, rules: ObjectMetaRules, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  if (rules.kubeFinalizers === false || !Array.isArray(meta.finalizers)) return errs;
  meta.finalizers.forEach((f, i) => errs.push(...validateKubeFinalizerName(f ?? '', path.child('finalizers').index(i))));
  return errs;
}

/**
 * ObjectMeta of a new object. Name generation must already have happened (the store fills `name`
 * from `generateName` before validating), so a missing name means neither was given.
 */
export function validateObjectMeta(meta: ObjectMeta | undefined, rules: ObjectMetaRules, path: FieldPath = metadataPath): FieldError[] {
  const m = meta ?? {};
  const errs: FieldError[] = [];
  if (m.generateName) {
    for (const msg of rules.nameFn(m.generateName, true)) errs.push(invalid(path.child('generateName'), m.generateName, msg));
  }
  if (!m.name) errs.push(required(path.child('name'), 'name or generateName is required'));
  else for (const msg of rules.nameFn(m.name, false)) errs.push(invalid(path.child('name'), m.name, msg));
  errs.push(...validateMetaCommon(m, rules, path));
  errs.push(...kubeFinalizerErrors(m, rules, path));
  return errs;
}

/** ObjectMeta of an update: identity fields are immutable, resourceVersion is required. */
export function validateObjectMetaUpdate(
  meta: ObjectMeta | undefined,
  old: ObjectMeta | undefined,
  rules: Pick<ObjectMetaRules, 'kubeFinalizers'> = {},
  path: FieldPath = metadataPath,
): FieldError[] {
  const n = meta ?? {};
  const o = old ?? {};
  const errs: FieldError[] = [];
  if (o.deletionTimestamp) {
    const before = new Set(o.finalizers ?? []);
    const extra = [...new Set(n.finalizers ?? [])].filter((f) => !before.has(f)).sort();
    if (extra.length) {
      errs.push(
        forbiddenField(
          path.child('finalizers'),
          `no new finalizers can be added if the object is being deleted, found new finalizers []string{${extra.map((f) => JSON.stringify(f)).join(', ')}}`,
        ),
      );
    }
  }
  if (!n.resourceVersion) errs.push(invalid(path.child('resourceVersion'), n.resourceVersion ?? '', 'must be specified for an update'));
  if ((n.generation ?? 0) < (o.generation ?? 0)) errs.push(invalid(path.child('generation'), n.generation ?? 0, 'must not be decremented'));
  errs.push(...validateImmutableField(n.name, o.name, path.child('name')));
  errs.push(...validateImmutableField(n.namespace, o.namespace, path.child('namespace')));
  errs.push(...validateImmutableField(n.uid, o.uid, path.child('uid')));
  errs.push(...validateImmutableField(n.creationTimestamp, o.creationTimestamp, path.child('creationTimestamp')));
  errs.push(...validateImmutableField(n.deletionTimestamp, o.deletionTimestamp, path.child('deletionTimestamp')));
  errs.push(...validateImmutableField(n.deletionGracePeriodSeconds, o.deletionGracePeriodSeconds, path.child('deletionGracePeriodSeconds')));
  errs.push(...validateLabels(n.labels, path.child('labels')));
  errs.push(...validateAnnotations(n.annotations, path.child('annotations')));
  errs.push(...validateOwnerReferences(n.ownerReferences, path.child('ownerReferences')));
  errs.push(...validateManagedFields(n.managedFields, path.child('managedFields')));
  errs.push(...kubeFinalizerErrors(n, { namespaced: false, nameFn: () => [], ...rules }, path));
  return errs;
}

/**
 * What the generic store does to an update's metadata before validation (rest.BeforeUpdate):
 * generation cannot be set by clients, a missing uid is taken from the stored object, and the
 * creation and deletion timestamps cannot be changed by an update.
 */
export function prepareObjectMetaForUpdate(meta: ObjectMeta, old: ObjectMeta): void {
  if (old.generation !== undefined) meta.generation = old.generation;
  else delete meta.generation;
  if (!meta.uid && old.uid) meta.uid = old.uid;
  if (old.creationTimestamp) meta.creationTimestamp = old.creationTimestamp;
  if (old.deletionTimestamp) meta.deletionTimestamp = old.deletionTimestamp;
  if (old.deletionGracePeriodSeconds !== undefined && meta.deletionGracePeriodSeconds === undefined) {
    meta.deletionGracePeriodSeconds = old.deletionGracePeriodSeconds;
  }
}

export interface LabelSelectorValidationOptions {
  /** Skip label value checks in matchExpressions (pod affinity kept this for old objects). */
  allowInvalidLabelValueInSelector?: boolean;
}

export function validateLabelSelectorRequirement(
  req: { key?: string; operator?: string; values?: string[] },
  opts: LabelSelectorValidationOptions,
  path: FieldPath,
): FieldError[] {
  const errs: FieldError[] = [];
  const values = Array.isArray(req.values) ? req.values.map((v) => (typeof v === 'string' ? v : '')) : [];
  switch (req.operator) {
    case 'In':
    case 'NotIn':
      if (values.length === 0) errs.push(required(path.child('values'), "must be specified when `operator` is 'In' or 'NotIn'"));
      break;
    case 'Exists':
    case 'DoesNotExist':
      if (values.length > 0) errs.push(forbiddenField(path.child('values'), "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
      break;
    default:
      errs.push(invalid(path.child('operator'), req.operator ?? '', 'not a valid selector operator'));
  }
  errs.push(...validateLabelName(req.key ?? '', path.child('key')));
  if (!opts.allowInvalidLabelValueInSelector) {
    values.forEach((v, i) => {
      for (const msg of isValidLabelValue(v)) errs.push(invalid(path.child('values').index(i), v, msg));
    });
  }
  return errs;
}

/** metav1.LabelSelector as used by affinity terms and topology spread constraints. */
export function validateLabelSelector(ls: LabelSelector | undefined | null, opts: LabelSelectorValidationOptions, path: FieldPath): FieldError[] {
  if (!ls) return [];
  const errs = validateLabels(ls.matchLabels, path.child('matchLabels'));
  (ls.matchExpressions ?? []).forEach((expr, i) => errs.push(...validateLabelSelectorRequirement(expr ?? {}, opts, path.child('matchExpressions').index(i))));
  return errs;
}
