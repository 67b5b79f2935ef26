// Validation of storage.k8s.io/v1 StorageClasses as Kubernetes 1.32 validates them (ValidateStorageClass,
// ValidateStorageClassUpdate, ValidateTopologySelectorTerm). Pure and stateless.

import { semanticDeepEqual } from '../equality.ts';
import { duplicate, FieldPath, forbiddenField, invalid, notSupported, required, type FieldError } from '../field.ts';
import type { StorageClass } from '../types.ts';
import { validateImmutableField, validateLabelName, validateObjectMeta, validateObjectMetaUpdate } from './meta.ts';
import { isQualifiedName, nameIsDNSSubdomain } from './names.ts';
import { isRecord, list } from './pod/helpers.ts';

export const STORAGE_CLASS_RECLAIM_POLICIES = ['Delete', 'Retain'];
export const VOLUME_BINDING_MODES = ['Immediate', 'WaitForFirstConsumer'];
const MAX_PARAMETERS = 512;
const MAX_PARAMETERS_SIZE = 256 * 1024;

function validateProvisioner(provisioner: string): FieldError[] {
  const p = new FieldPath('provisioner');
  if (!provisioner) return [required(p, '')];
  // Kubernetes checks the lower-cased name and reports it so.
  const lower = provisioner.toLowerCase();
  return isQualifiedName(lower).map((msg) => invalid(p, lower, msg));
}

function validateParameters(params: Record<string, string> | undefined): FieldError[] {
  const p = new FieldPath('parameters');
  const entries = Object.entries(params ?? {});
  if (entries.length > MAX_PARAMETERS) return [{ type: 'FieldValueTooLong', field: String(p), badValue: 'Provisioner Parameters exceeded max allowed', detail: `may not be more than ${MAX_PARAMETERS} bytes` }];
  const errs: FieldError[] = [];
  let size = 0;
  for (const [k, v] of entries) {
    if (k.length < 1) errs.push(invalid(p, k, 'field can not be empty.'));
    size += Buffer.byteLength(k) + Buffer.byteLength(String(v ?? ''));
  }
  if (size > MAX_PARAMETERS_SIZE) errs.push({ type: 'FieldValueTooLong', field: String(p), badValue: '', detail: `may not be more than ${MAX_PARAMETERS_SIZE} bytes` });
  return errs;
}

/** ValidateTopologySelectorTerm: each key once, each with a set of values; returns the term as key → values. */
function validateTopologySelectorTerm(term: unknown, path: FieldPath): { exprs: Map<string, Set<string>>; errs: FieldError[] } {
  const errs: FieldError[] = [];
  const exprs = new Map<string, Set<string>>();
  const exprPath = path.child('matchLabelExpressions');
  const reqs = isRecord(term) ? list(term.matchLabelExpressions as unknown[]) : [];
  reqs.forEach((raw, i) => {
    const rq = isRecord(raw) ? raw : {};
    const p = exprPath.index(i);
    const key = typeof rq.key === 'string' ? rq.key : '';
    const values = list(rq.values as unknown[]).map(String);
    const set = new Set<string>();
    if (values.length === 0) errs.push(required(p.child('values'), ''));
    values.forEach((v, j) => {
      if (set.has(v)) errs.push(duplicate(p.child('values').index(j), v));
      set.add(v);
    });
    errs.push(...validateLabelName(key, p.child('key')));
    if (exprs.has(key)) errs.push(duplicate(p.child('key'), key));
    exprs.set(key, set);
  });
  return { exprs, errs };
}

function sameTerm(a: Map<string, Set<string>>, b: Map<string, Set<string>>): boolean {
  const plain = (m: Map<string, Set<string>>) => Object.fromEntries([...m].map(([k, v]) => [k, [...v].sort()]));
  return semanticDeepEqual(plain(a), plain(b));
}

/**
 * validateAllowedTopologies. Kubernetes compares each term with the ones before it in a list that
 * starts with as many empty terms as there are terms (its slice is made with a length, then appended
 * to), so a term without expressions is always reported as a duplicate; kept.
 */
function validateAllowedTopologies(terms: unknown[] | undefined): FieldError[] {
  const path = new FieldPath('allowedTopologies');
  const all = list(terms);
  if (all.length === 0) return [];
  const errs: FieldError[] = [];
  const seen: Map<string, Set<string>>[] = all.map(() => new Map());
  all.forEach((term, i) => {
    const { exprs, errs: termErrs } = validateTopologySelectorTerm(term, path.index(i));
    errs.push(...termErrs);
    for (const t of seen) if (sameTerm(exprs, t)) errs.push(duplicate(path.index(i).child('matchLabelExpressions'), ''));
    seen.push(exprs);
  });
  return errs;
}

export function validateStorageClass(sc: StorageClass): FieldError[] {
  const errs = validateObjectMeta(sc.metadata, { namespaced: false, nameFn: nameIsDNSSubdomain });
  errs.push(...validateProvisioner(sc.provisioner ?? ''));
  errs.push(...validateParameters(sc.parameters));
  if (sc.reclaimPolicy && !STORAGE_CLASS_RECLAIM_POLICIES.includes(sc.reclaimPolicy)) {
    errs.push(notSupported(new FieldPath('reclaimPolicy'), sc.reclaimPolicy, STORAGE_CLASS_RECLAIM_POLICIES));
  }
  const mode = sc.volumeBindingMode;
  if (mode == null) errs.push(required(new FieldPath('volumeBindingMode'), ''));
  else if (!VOLUME_BINDING_MODES.includes(mode)) errs.push(notSupported(new FieldPath('volumeBindingMode'), mode, VOLUME_BINDING_MODES));
  errs.push(...validateAllowedTopologies(sc.allowedTopologies as unknown[] | undefined));
  return errs;
}

/** ValidateStorageClassUpdate: what provisions volumes is fixed; annotations, expansion, options and topologies may change. */
export function validateStorageClassUpdate(sc: StorageClass, old: StorageClass): FieldError[] {
  const errs = [...validateStorageClass(sc), ...validateObjectMetaUpdate(sc.metadata, old.metadata)];
  // Kubernetes compares with reflect.DeepEqual, where a stored nil map differs from a sent {}; both
  // mean "no parameters" here, as a stored {} and a missing map are indistinguishable to clients.
  if (JSON.stringify(sortedMap(sc.parameters)) !== JSON.stringify(sortedMap(old.parameters))) {
    errs.push(forbiddenField(new FieldPath('parameters'), 'updates to parameters are forbidden.'));
  }
  if ((sc.provisioner ?? '') !== (old.provisioner ?? '')) errs.push(forbiddenField(new FieldPath('provisioner'), 'updates to provisioner are forbidden.'));
  if ((sc.reclaimPolicy ?? '') !== (old.reclaimPolicy ?? '')) errs.push(forbiddenField(new FieldPath('reclaimPolicy'), 'updates to reclaimPolicy are forbidden.'));
  errs.push(...validateImmutableField(sc.volumeBindingMode, old.volumeBindingMode, new FieldPath('volumeBindingMode')));
  return errs;
}

function sortedMap(m: Record<string, string> | undefined): [string, string][] {
  return Object.entries(m ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}
