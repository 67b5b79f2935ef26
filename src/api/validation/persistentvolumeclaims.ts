// Validation of core/v1 PersistentVolumeClaims as Kubernetes 1.32 validates them
// (ValidatePersistentVolumeClaim, ValidatePersistentVolumeClaimSpec, ValidatePersistentVolumeClaimUpdate,
// ValidatePersistentVolumeClaimStatusUpdate). Pure and stateless; called by the claim strategy.

import { semanticDeepEqual } from '../equality.ts';
import { FieldPath, forbiddenField, invalid, notSupported, required, type FieldError } from '../field.ts';
import { cmpQuantity, formatQuantity, parseWireQuantity, QuantityError } from '../quantity.ts';
import type { Mutable, PersistentVolumeClaim, PersistentVolumeClaimSpec } from '../types.ts';
import { validateImmutableField, validateLabelSelector, validateObjectMeta, validateObjectMetaUpdate } from './meta.ts';
import { isDNS1123Subdomain, nameIsDNSSubdomain } from './names.ts';
import { validateResourceQuantityValue } from './pod/resources.ts';

/** The access modes a claim may ask for, in Kubernetes' sorted order (its NotSupported lists them so). */
export const SUPPORTED_ACCESS_MODES = ['ReadOnlyMany', 'ReadWriteMany', 'ReadWriteOnce', 'ReadWriteOncePod'];

/** Access modes of a claim or a volume: each supported, and ReadWriteOncePod alone. */
export function accessModeErrors(modes: readonly string[], path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  let rwop = false;
  let other = false;
  for (const mode of modes) {
    const supported = SUPPORTED_ACCESS_MODES.includes(mode);
    if (!supported) errs.push(notSupported(path, mode, SUPPORTED_ACCESS_MODES));
    if (mode === 'ReadWriteOncePod') rwop = true;
    else if (supported) other = true;
  }
  if (rwop && other) errs.push(forbiddenField(path, 'may not use ReadWriteOncePod with other access modes'));
  return errs;
}
export const SUPPORTED_VOLUME_MODES = ['Block', 'Filesystem'];

/** The storage class annotation that predates spec.storageClassName; still immutable once set. */
const BETA_STORAGE_CLASS_ANNOTATION = 'volume.beta.kubernetes.io/storage-class';

const specPath = new FieldPath('spec');

function quantity(raw: unknown): ReturnType<typeof parseWireQuantity> | undefined {
  try {
    return parseWireQuantity(raw);
  } catch (err) {
    if (err instanceof QuantityError) return undefined;
    throw err;
  }
}

/** ValidatePersistentVolumeClaimSpec; also used for StatefulSet claim templates' specs. */
export function validatePersistentVolumeClaimSpec(spec: PersistentVolumeClaimSpec | undefined, path: FieldPath = specPath): FieldError[] {
  const s = spec ?? {};
  const errs: FieldError[] = [];
  const modes = Array.isArray(s.accessModes) ? s.accessModes : [];
  if (modes.length === 0) errs.push(required(path.child('accessModes'), 'at least 1 access mode is required'));
  if (s.selector) errs.push(...validateLabelSelector(s.selector, { allowInvalidLabelValueInSelector: false }, path.child('selector')));
  errs.push(...accessModeErrors(modes, path.child('accessModes')));

  const storagePath = path.child('resources').key('storage');
  const requests = s.resources?.requests;
  const raw: unknown = requests && typeof requests === 'object' ? (requests as Record<string, unknown>).storage : undefined;
  if (raw === undefined) {
    errs.push(required(storagePath, ''));
  } else {
    const q = quantity(raw);
    // ValidatePositiveQuantityValue first; only a positive size goes on to the resource checks.
    if (q && q.nanos <= 0n) errs.push(invalid(storagePath, formatQuantity(q), 'must be greater than zero'));
    else errs.push(...validateResourceQuantityValue('storage', raw, storagePath).errs);
  }

  if (s.storageClassName) {
    for (const msg of isDNS1123Subdomain(s.storageClassName)) errs.push(invalid(path.child('storageClassName'), s.storageClassName, msg));
  }
  if (s.volumeMode != null && !SUPPORTED_VOLUME_MODES.includes(s.volumeMode)) errs.push(notSupported(path.child('volumeMode'), s.volumeMode, SUPPORTED_VOLUME_MODES));
  for (const [name, ref] of [['dataSource', s.dataSource], ['dataSourceRef', s.dataSourceRef]] as const) {
    if (!ref) continue;
    const p = path.child(name);
    if (!ref.name) errs.push(required(p.child('name'), ''));
    if (!ref.kind) errs.push(required(p.child('kind'), ''));
    if (!ref.apiGroup && ref.kind !== 'PersistentVolumeClaim') errs.push(invalid(p, ref.kind ?? '', "must be 'PersistentVolumeClaim' when referencing the default apiGroup"));
    else if (ref.apiGroup) for (const msg of isDNS1123Subdomain(ref.apiGroup)) errs.push(invalid(p.child('apiGroup'), ref.apiGroup, msg));
  }
  if (s.volumeAttributesClassName) {
    for (const msg of isDNS1123Subdomain(s.volumeAttributesClassName)) errs.push(invalid(path.child('volumeAttributesClassName'), s.volumeAttributesClassName, msg));
  }
  return errs;
}

export function validatePersistentVolumeClaim(pvc: PersistentVolumeClaim): FieldError[] {
  return [
    ...validateObjectMeta(pvc.metadata, { namespaced: true, nameFn: nameIsDNSSubdomain }),
    ...validatePersistentVolumeClaimSpec(pvc.spec),
  ];
}

/** The spec fields that differ, one `path: old -> new` line each, in place of Go's cmp.Diff text. */
function specDiff(oldSpec: object, newSpec: object): string {
  const a = oldSpec as Record<string, unknown>;
  const b = newSpec as Record<string, unknown>;
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  return keys
    .filter((k) => !semanticDeepEqual(a[k], b[k]))
    .map((k) => `  ${k}: ${JSON.stringify(a[k] ?? null)} -> ${JSON.stringify(b[k] ?? null)}`)
    .join('\n');
}

/**
 * ValidatePersistentVolumeClaimUpdate: a claim's spec is fixed at creation, except that volumeName may be
 * set once (the volume controller binds it), a bound claim's storage request may grow, and
 * volumeAttributesClassName may change.
 */
export function validatePersistentVolumeClaimUpdate(pvc: PersistentVolumeClaim, old: PersistentVolumeClaim): FieldError[] {
  const errs = [...validateObjectMetaUpdate(pvc.metadata, old.metadata), ...validatePersistentVolumeClaim(pvc)];
  const newSpec = structuredClone(pvc.spec ?? {}) as Mutable<PersistentVolumeClaimSpec>;
  const oldSpec = structuredClone(old.spec ?? {}) as Mutable<PersistentVolumeClaimSpec>;
  if (!oldSpec.volumeName) oldSpec.volumeName = newSpec.volumeName;

  const oldAnn = old.metadata?.annotations?.[BETA_STORAGE_CLASS_ANNOTATION];
  const newAnn = pvc.metadata?.annotations?.[BETA_STORAGE_CLASS_ANNOTATION];
  const upgradeFromAnnotation = oldAnn !== undefined && old.spec?.storageClassName == null && pvc.spec?.storageClassName === oldAnn && (newAnn === undefined || newAnn === oldAnn);
  if (upgradeFromAnnotation) {
    delete newSpec.storageClassName;
  } else {
    if (newAnn !== oldAnn) errs.push(invalid(new FieldPath('metadata').child('annotations').key(BETA_STORAGE_CLASS_ANNOTATION), newAnn ?? '', 'field is immutable'));
    // A nil class may be set later (the DefaultStorageClass retroactive assignment).
    if (pvc.spec?.storageClassName != null && old.spec?.storageClassName == null && (oldAnn === undefined || pvc.spec.storageClassName === oldAnn)) {
      newSpec.storageClassName = oldSpec.storageClassName;
    }
  }
  const newRequests = newSpec.resources?.requests as Record<string, unknown> | undefined;
  const oldRequests = old.spec?.resources?.requests as Record<string, unknown> | undefined;
  if (pvc.status?.phase === 'Bound' && newRequests) {
    if (oldRequests?.storage === undefined) delete newRequests.storage;
    else newRequests.storage = oldRequests.storage;
  }
  newSpec.volumeAttributesClassName = oldSpec.volumeAttributesClassName;
  if (newSpec.volumeAttributesClassName === undefined) delete newSpec.volumeAttributesClassName;
  if (!semanticDeepEqual(newSpec, oldSpec)) {
    errs.push(forbiddenField(specPath, `spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims\n${specDiff(oldSpec, newSpec)}`));
  }
  const oldSize = quantity(oldRequests?.storage ?? '0');
  const newSize = quantity((pvc.spec?.resources?.requests as Record<string, unknown> | undefined)?.storage ?? '0');
  if (oldSize && newSize && cmpQuantity(newSize, oldSize) < 0) {
    errs.push(forbiddenField(specPath.child('resources', 'requests', 'storage'), 'field can not be less than previous value'));
  }
  // Kubernetes reports this one at "volumeMode", without the spec prefix (its path quirk, kept).
  errs.push(...validateImmutableField(pvc.spec?.volumeMode, old.spec?.volumeMode, new FieldPath('volumeMode')));
  if (old.spec?.volumeAttributesClassName != null && !semanticDeepEqual(old.spec.volumeAttributesClassName, pvc.spec?.volumeAttributesClassName)) {
    const p = specPath.child('volumeAttributesClassName');
    if (pvc.spec?.volumeAttributesClassName == null) errs.push(forbiddenField(p, 'update from non-nil value to nil is forbidden'));
    else if (pvc.spec.volumeAttributesClassName === '') errs.push(forbiddenField(p, 'update from non-nil value to an empty string is forbidden'));
  }
  return errs;
}

/** ValidatePersistentVolumeClaimStatusUpdate: capacity and allocated resources are quantities ≥ 0. */
export function validatePersistentVolumeClaimStatusUpdate(pvc: PersistentVolumeClaim, old: PersistentVolumeClaim): FieldError[] {
  const errs = validateObjectMetaUpdate(pvc.metadata, old.metadata);
  const status = new FieldPath('status');
  if (pvc.spec?.accessModes?.length === 0) errs.push(required(specPath.child('accessModes'), 'at least 1 access mode is required'));
  for (const field of ['capacity', 'allocatedResources'] as const) {
    const list = pvc.status?.[field];
    if (!list || typeof list !== 'object') continue;
    for (const [name, raw] of Object.entries(list)) errs.push(...validateResourceQuantityValue(name, raw, status.child(field).key(name)).errs);
  }
  return errs;
}
