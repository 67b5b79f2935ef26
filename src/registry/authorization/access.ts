// What the three access reviews of authorization.k8s.io/v1 share (SubjectAccessReview,
// LocalSubjectAccessReview, SelfSubjectAccessReview): their spec, its validation with
// kube-apiserver's messages (pkg/apis/authorization/validation), the authorizer attributes a spec
// asks about (pkg/registry/authorization/util) and the status an authorizer's decision becomes.

import { FieldPath, forbiddenField, GoValue, goStringMap, invalid, required, type FieldError } from '../../api/field.ts';
import type { KubeObject, ObjectMeta } from '../../api/types.ts';
import { validateLabelSelectorRequirement } from '../../api/validation/meta.ts';
import { parseFieldSelector } from '../../api/fields.ts';
import { newRequirement, parseLabelSelector, type LabelOperator } from '../../api/labels.ts';
import type { RequestUser } from '../kind.ts';
import type { AccessAttributes, AccessAuthorizer } from '../review.ts';

export interface SelectorRequirement {
  key?: string;
  operator?: string;
  values?: string[];
}

export interface SelectorAttributes {
  rawSelector?: string;
  requirements?: SelectorRequirement[];
}

export interface ResourceAttributes {
  namespace?: string;
  verb?: string;
  group?: string;
  version?: string;
  resource?: string;
  subresource?: string;
  name?: string;
  fieldSelector?: SelectorAttributes;
  labelSelector?: SelectorAttributes;
}

export interface NonResourceAttributes {
  path?: string;
  verb?: string;
}

/** SubjectAccessReviewSpec; a SelfSubjectAccessReview's spec is its first two fields. */
export interface AccessReviewSpec {
  resourceAttributes?: ResourceAttributes | null;
  nonResourceAttributes?: NonResourceAttributes | null;
  user?: string;
  groups?: string[];
  extra?: Record<string, string[]>;
  uid?: string;
}

export interface AccessReviewStatus {
  allowed: boolean;
  denied?: boolean;
  reason?: string;
  evaluationError?: string;
}

export interface AccessReview extends KubeObject {
  spec?: AccessReviewSpec;
  status?: AccessReviewStatus;
}

const SPEC = new FieldPath('spec');

/** ValidateSubjectAccessReviewSpec (withSubject) and ValidateSelfSubjectAccessReviewSpec. */
export function validateAccessReviewSpec(spec: AccessReviewSpec | undefined, withSubject: boolean): FieldError[] {
  const s = spec ?? {};
  const errs: FieldError[] = [];
  if (s.resourceAttributes && s.nonResourceAttributes) {
    errs.push(invalid(SPEC.child('nonResourceAttributes'), goNonResourceAttributes(s.nonResourceAttributes), 'cannot be specified in combination with resourceAttributes'));
  }
  if (!s.resourceAttributes && !s.nonResourceAttributes) {
    // kube passes the nil nonResourceAttributes as the value, which prints as "null".
    errs.push(invalid(SPEC.child('resourceAttributes'), 'null', 'exactly one of nonResourceAttributes or resourceAttributes must be specified'));
  }
  if (withSubject && !s.user && !(s.groups ?? []).length) {
    errs.push(invalid(SPEC.child('user'), s.user ?? '', 'at least one of user or group must be specified'));
  }
  if (s.resourceAttributes) {
    const at = SPEC.child('resourceAttributes');
    errs.push(...validateSelector(s.resourceAttributes.fieldSelector, at.child('fieldSelector'), false));
    errs.push(...validateSelector(s.resourceAttributes.labelSelector, at.child('labelSelector'), true));
  }
  return errs;
}

/** ValidateSubjectAccessReview / ValidateSelfSubjectAccessReview: the spec, and metadata must be empty. */
export function validateClusterAccessReview(o: AccessReview, withSubject: boolean): FieldError[] {
  const errs = validateAccessReviewSpec(o.spec, withSubject);
  if (!isEmptyMeta(o.metadata, false)) errs.push(invalid(new FieldPath('metadata'), goObjectMeta(o.metadata), 'must be empty'));
  return errs;
}

/** ValidateLocalSubjectAccessReview: metadata.namespace (the URL's) is the only metadata, and the namespace asked about. */
export function validateLocalAccessReview(o: AccessReview): FieldError[] {
  const errs = validateAccessReviewSpec(o.spec, true);
  const ns = o.metadata?.namespace ?? '';
  if (!isEmptyMeta(o.metadata, true)) errs.push(invalid(new FieldPath('metadata'), goObjectMeta(o.metadata), 'must be empty except for namespace'));
  const ra = o.spec?.resourceAttributes;
  if (ra && (ra.namespace ?? '') !== ns) errs.push(invalid(new FieldPath('spec.resourceAttributes.namespace'), ra.namespace ?? '', 'must match metadata.namespace'));
  if (o.spec?.nonResourceAttributes) errs.push(invalid(new FieldPath('spec.nonResourceAttributes'), goNonResourceAttributes(o.spec.nonResourceAttributes), 'disallowed on this kind of request'));
  return errs;
}

// Requirements may name operators this server does not know (kube allows them, for newer clients).
function validateSelector(sel: SelectorAttributes | undefined, path: FieldPath, labels: boolean): FieldError[] {
  if (!sel) return [];
  const errs: FieldError[] = [];
  const reqs = sel.requirements ?? [];
  if (sel.rawSelector && reqs.length) errs.push(invalid(path.child('rawSelector'), sel.rawSelector, 'may not specified at the same time as requirements'));
  if (!sel.rawSelector && !reqs.length) errs.push(required(path.child('requirements'), `when ${String(path)} is specified, requirements or rawSelector is required`));
  reqs.forEach((r, i) => {
    const at = path.child('requirements').index(i);
    if (labels) errs.push(...validateLabelSelectorRequirement(r, {}, at).filter((e) => e.field !== String(at.child('operator'))));
    else errs.push(...validateFieldSelectorRequirement(r, at));
  });
  return errs;
}

// metav1validation.ValidateFieldSelectorRequirement, unknown operators allowed.
function validateFieldSelectorRequirement(r: SelectorRequirement, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  if (!r.key) errs.push(required(path.child('key'), 'must be specified'));
  const values = r.values ?? [];
  if ((r.operator === 'In' || r.operator === 'NotIn') && !values.length) errs.push(required(path.child('values'), "must be specified when `operator` is 'In' or 'NotIn'"));
  if ((r.operator === 'Exists' || r.operator === 'DoesNotExist') && values.length) errs.push(forbiddenField(path.child('values'), "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
  return errs;
}

/** The user a SubjectAccessReview asks about. */
export function subjectOf(spec: AccessReviewSpec): RequestUser {
  const user: RequestUser = { name: spec.user ?? '', groups: [...(spec.groups ?? [])] };
  if (spec.uid) user.uid = spec.uid;
  if (spec.extra) user.extra = spec.extra;
  return user;
}

/** ResourceAttributesFrom / NonResourceAttributesFrom: an unset version means every version ("*"). */
export function attributesOf(user: RequestUser, spec: AccessReviewSpec): AccessAttributes {
  const ra = spec.resourceAttributes;
  if (ra) {
    return {
      user, verb: ra.verb ?? '', isResourceRequest: true, apiGroup: ra.group ?? '', apiVersion: ra.version || '*',
      resource: ra.resource ?? '', subresource: ra.subresource ?? '', namespace: ra.namespace ?? '', name: ra.name ?? '', path: '',
    };
  }
  const nra = spec.nonResourceAttributes ?? {};
  return { user, verb: nra.verb ?? '', isResourceRequest: false, apiGroup: '', apiVersion: '', resource: '', subresource: '', namespace: '', name: '', path: nra.path ?? '' };
}

/**
 * The authorizer's decision as a review status (kube's BuildEvaluationError): an authorizer that fails
 * gives its error, and selectors that do not parse are said to be ignored, in whole or in part.
 */
export async function reviewStatus(authorizer: AccessAuthorizer, a: AccessAttributes, spec: AccessReviewSpec = {}): Promise<AccessReviewStatus> {
  const errors: string[] = [];
  let status: AccessReviewStatus;
  try {
    const d = await authorizer.authorize(a);
    status = { allowed: d.decision === 'allow' };
    if (d.decision === 'deny') status.denied = true;
    if (d.reason) status.reason = d.reason;
  } catch (err) {
    status = { allowed: false };
    errors.push(err instanceof Error ? err.message : String(err));
  }
  const ra = spec.resourceAttributes;
  if (ra) {
    for (const [which, sel, parse] of [['fieldSelector', ra.fieldSelector, fieldRequirementParses], ['labelSelector', ra.labelSelector, labelRequirementParses]] as const) {
      const outcome = selectorOutcome(sel, which === 'fieldSelector' ? parseFieldSelector : parseLabelSelector, parse);
      if (outcome !== 'ok') errors.push(`spec.resourceAttributes.${which} ${outcome} due to parse error`);
    }
  }
  if (errors.length) status.evaluationError = errors.join('; ');
  return status;
}

// ResourceAttributesFrom: a raw selector that does not parse is ignored; requirements that do not
// convert are dropped, the others kept ("partially ignored").
function selectorOutcome(sel: SelectorAttributes | undefined, parseRaw: (raw: string) => unknown, parses: (r: SelectorRequirement) => boolean): 'ok' | 'ignored' | 'partially ignored' {
  if (!sel) return 'ok';
  const reqs = sel.requirements ?? [];
  if (reqs.length) {
    const good = reqs.filter(parses).length;
    return good === reqs.length ? 'ok' : good ? 'partially ignored' : 'ignored';
  }
  if (!sel.rawSelector) return 'ok';
  try {
    parseRaw(sel.rawSelector);
    return 'ok';
  } catch {
    return 'ignored';
  }
}

// fieldSelectorAsSelector: one value, and only In or NotIn.
function fieldRequirementParses(r: SelectorRequirement): boolean {
  return (r.operator === 'In' || r.operator === 'NotIn') && (r.values ?? []).length === 1;
}

// labelSelectorAsSelector: a known operator, and labels.NewRequirement's checks.
function labelRequirementParses(r: SelectorRequirement): boolean {
  if (!['In', 'NotIn', 'Exists', 'DoesNotExist'].includes(r.operator ?? '')) return false;
  const op = ({ In: 'in', NotIn: 'notin', Exists: 'exists', DoesNotExist: '!' } as Record<string, LabelOperator>)[r.operator!]!;
  try {
    newRequirement(r.key ?? '', op, r.values ?? []);
    return true;
  } catch {
    return false;
  }
}

/** The review as kube-apiserver answers it: what was sent, with its status (metadata's creationTimestamp is null). */
export function answered(o: AccessReview, status: AccessReviewStatus): AccessReview {
  return { ...o, metadata: { ...o.metadata, creationTimestamp: null } as unknown as ObjectMeta, spec: o.spec ?? {}, status };
}

// Semantic.DeepEqual(ObjectMeta{}, meta) with managedFields cleared: nil and empty maps and lists are alike.
function isEmptyMeta(meta: ObjectMeta | undefined, exceptNamespace: boolean): boolean {
  for (const [k, v] of Object.entries(meta ?? {})) {
    if (k === 'managedFields' || (exceptNamespace && k === 'namespace')) continue;
    if (v === undefined || v === null || v === '' || v === 0) continue;
    if (Array.isArray(v) && v.length === 0) continue;
    if (typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 0) continue;
    return false;
  }
  return true;
}

const goStr = (s: unknown) => JSON.stringify(typeof s === 'string' ? s : '');

// %#v of the internal authorization.NonResourceAttributes kube prints as the bad value.
function goNonResourceAttributes(n: NonResourceAttributes): GoValue {
  return new GoValue(`authorization.NonResourceAttributes{Path:${goStr(n.path)}, Verb:${goStr(n.verb)}}`);
}

// %#v of a v1.ObjectMeta, as kube prints the metadata of a review that should have none.
function goObjectMeta(m: ObjectMeta | undefined): GoValue {
  const meta = m ?? {};
  const time = (t: unknown) => {
    if (typeof t !== 'string' || !t) return 'time.Date(1, time.January, 1, 0, 0, 0, 0, time.UTC)';
    const d = new Date(t);
    const month = d.toLocaleString('en-US', { month: 'long', timeZone: 'UTC' });
    return `time.Date(${d.getUTCFullYear()}, time.${month}, ${d.getUTCDate()}, ${d.getUTCHours()}, ${d.getUTCMinutes()}, ${d.getUTCSeconds()}, 0, time.UTC)`;
  };
  const strings = (v: unknown) => (Array.isArray(v) && v.length ? `[]string{${v.map(goStr).join(', ')}}` : '[]string(nil)');
  const map = (v: unknown) => (v && typeof v === 'object' && Object.keys(v).length ? goStringMap(v as Record<string, string>).text : 'map[string]string(nil)');
  const deletion = meta.deletionTimestamp ? time(meta.deletionTimestamp) : '<nil>';
  return new GoValue(
    `v1.ObjectMeta{Name:${goStr(meta.name)}, GenerateName:${goStr(meta.generateName)}, Namespace:${goStr(meta.namespace)}, SelfLink:${goStr(meta.selfLink)}, UID:${goStr(meta.uid)}, ` +
      `ResourceVersion:${goStr(meta.resourceVersion)}, Generation:${meta.generation ?? 0}, CreationTimestamp:${time(meta.creationTimestamp)}, DeletionTimestamp:${deletion}, ` +
      `DeletionGracePeriodSeconds:(*int64)(nil), Labels:${map(meta.labels)}, Annotations:${map(meta.annotations)}, OwnerReferences:[]v1.OwnerReference(nil), ` +
      `Finalizers:${strings(meta.finalizers)}, ManagedFields:[]v1.ManagedFieldsEntry(nil)}`,
  );
}
