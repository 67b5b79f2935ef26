// The audit policy (audit.k8s.io/v1 Policy): which requests are recorded, at which level, with which
// stages left out. Parsing and evaluation are pure; kube-apiserver's --audit-policy-file is read once
// at start (cmd/ wires it), and evaluate() is called once per request, concurrently.
//
// Matches k8s.io/apiserver pkg/audit/policy (reader.go, checker.go) and pkg/apis/audit/validation:
// the first rule that matches decides; no rule matching means level None.

import { parse as parseYaml } from 'yaml';
import { FieldPath, fieldErrorMessage, invalid, notSupported, required, type FieldError } from '../../api/field.ts';
import { isDNS1123Subdomain } from '../../api/validation/names.ts';

export const AUDIT_LEVELS = ['None', 'Metadata', 'Request', 'RequestResponse'] as const;
export type AuditLevel = (typeof AUDIT_LEVELS)[number];
export const AUDIT_STAGES = ['RequestReceived', 'ResponseStarted', 'ResponseComplete', 'Panic'] as const;
export type AuditStage = (typeof AUDIT_STAGES)[number];

export interface GroupResources {
  /** "" is the core group; "*" every group. */
  group: string;
  /** "pods", "pods/log", "*\/scale", "pods/*", "*"; empty = every resource of the group. */
  resources: string[];
  resourceNames: string[];
}

export interface PolicyRule {
  level: AuditLevel;
  users: string[];
  userGroups: string[];
  verbs: string[];
  resources: GroupResources[];
  namespaces: string[];
  nonResourceURLs: string[];
  /** Already the union with the policy's own omitStages (as NewPolicyRuleEvaluator makes it). */
  omitStages: AuditStage[];
  omitManagedFields?: boolean;
}

export interface AuditPolicy {
  omitStages: AuditStage[];
  omitManagedFields: boolean;
  rules: PolicyRule[];
}

/** What the policy decides for one request. */
export interface RequestAuditConfig {
  level: AuditLevel;
  omitStages: AuditStage[];
  omitManagedFields: boolean;
}

/** The request as the policy sees it: authorization attributes; no user for a failed authentication. */
export interface PolicyAttributes {
  user?: { name: string; groups: readonly string[] };
  verb: string;
  isResourceRequest: boolean;
  apiGroup: string;
  resource: string;
  subresource: string;
  namespace: string;
  name: string;
  path: string;
}

export type ParsedPolicy = { ok: true; policy: AuditPolicy; warnings: string[] } | { ok: false; error: string };

/** True when `level` records at least as much as `min` (None < Metadata < Request < RequestResponse). */
export function levelAtLeast(level: AuditLevel, min: AuditLevel): boolean {
  return AUDIT_LEVELS.indexOf(level) >= AUDIT_LEVELS.indexOf(min);
}

/** Parses a policy document (YAML or JSON). Unknown fields are warnings, as kube falls back to lenient decoding. */
export function parsePolicy(text: string): ParsedPolicy {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    return { ok: false, error: `failed decoding: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}` };
  }
  if (!isObject(doc)) return { ok: false, error: `failed decoding: the policy must be an object, got ${describe(doc)}` };
  if (typeof doc.kind !== 'string' || doc.kind === '') return { ok: false, error: `failed decoding: Object 'Kind' is missing in policy` };
  if (doc.apiVersion !== 'audit.k8s.io/v1' || doc.kind !== 'Policy') {
    return { ok: false, error: `unknown group version field ${JSON.stringify(`${String(doc.apiVersion ?? '')}, Kind=${doc.kind}`)} in policy (want apiVersion audit.k8s.io/v1, kind Policy)` };
  }
  const d = new Decoder();
  d.known(doc, new FieldPath(), ['apiVersion', 'kind', 'metadata', 'omitStages', 'omitManagedFields', 'rules']);
  const omitStages = d.strings(doc.omitStages, new FieldPath('omitStages')) as AuditStage[];
  const omitManagedFields = d.bool(doc.omitManagedFields, new FieldPath('omitManagedFields')) ?? false;
  const rulesPath = new FieldPath('rules');
  const rawRules = d.array(doc.rules, rulesPath);
  const rules: PolicyRule[] = rawRules.map((r, i) => d.rule(r, rulesPath.index(i)));
  if (d.typeError) return { ok: false, error: `failed decoding: ${d.typeError}` };
  const errs = validatePolicy(omitStages, rules);
  if (errs.length) {
    const parts = errs.map((e) => `${e.field}: ${fieldErrorMessage(e)}`);
    return { ok: false, error: parts.length === 1 ? parts[0]! : `[${parts.join(', ')}]` };
  }
  if (rules.length === 0) return { ok: false, error: 'loaded illegal policy with 0 rules' };
  for (const rule of rules) rule.omitStages = [...new Set([...omitStages, ...rule.omitStages])];
  const warnings = d.unknown.length ? [`Audit policy contains errors, falling back to lenient decoding: strict decoding error: ${d.unknown.map((f) => `unknown field ${JSON.stringify(f)}`).join(', ')}`] : [];
  return { ok: true, policy: { omitStages, omitManagedFields, rules }, warnings };
}

/** kube's LoadPolicyFromFile: the same errors, naming the file. */
export function policyFromFile(fileName: string, text: string): ParsedPolicy {
  const p = parsePolicy(text);
  return p.ok ? p : { ok: false, error: `${p.error}: from file ${fileName}` };
}

/** The first matching rule's level and stages; none matching = None with the policy's defaults. */
export function evaluatePolicy(policy: AuditPolicy, a: PolicyAttributes): RequestAuditConfig {
  for (const rule of policy.rules) {
    if (ruleMatches(rule, a)) return { level: rule.level, omitStages: rule.omitStages, omitManagedFields: rule.omitManagedFields ?? policy.omitManagedFields };
  }
  return { level: 'None', omitStages: policy.omitStages, omitManagedFields: policy.omitManagedFields };
}

function ruleMatches(r: PolicyRule, a: PolicyAttributes): boolean {
  if (r.users.length && (!a.user || !r.users.includes(a.user.name))) return false;
  if (r.userGroups.length && (!a.user || !a.user.groups.some((g) => r.userGroups.includes(g)))) return false;
  if (r.verbs.length && !r.verbs.includes(a.verb)) return false;
  if (r.namespaces.length || r.resources.length) return resourceMatches(r, a);
  if (r.nonResourceURLs.length) return !a.isResourceRequest && r.nonResourceURLs.some((spec) => pathMatches(a.path, spec));
  return true;
}

function pathMatches(path: string, spec: string): boolean {
  if (spec === '*' || spec === path) return true;
  return spec.endsWith('*') && path.startsWith(spec.replace(/\*+$/, ''));
}

function resourceMatches(r: PolicyRule, a: PolicyAttributes): boolean {
  if (!a.isResourceRequest) return false;
  // Cluster-scoped resources have the namespace "".
  if (r.namespaces.length && !r.namespaces.includes(a.namespace)) return false;
  if (!r.resources.length) return true;
  const combined = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  for (const gr of r.resources) {
    if (gr.group !== a.apiGroup && gr.group !== '*') continue;
    if (!gr.resources.length) return true;
    if (gr.resourceNames.length && !gr.resourceNames.includes(a.name)) continue;
    for (const res of gr.resources) {
      if (res === combined || res === '*') return true;
      if (a.subresource && res.startsWith('*/') && a.subresource === res.slice(2)) return true;
      if (res.endsWith('/*') && a.resource === res.slice(0, -2)) return true;
    }
  }
  return false;
}

function validatePolicy(omitStages: string[], rules: PolicyRule[]): FieldError[] {
  const errs = validateOmitStages(omitStages, new FieldPath('omitStages'));
  rules.forEach((rule, i) => {
    const p = new FieldPath('rules').index(i);
    if ((rule.level as string) === '') errs.push(required(p.child('level')));
    else if (!AUDIT_LEVELS.includes(rule.level)) errs.push(notSupported(p.child('level'), rule.level, [...AUDIT_LEVELS]));
    rule.nonResourceURLs.forEach((url, j) => {
      if (url === '*') return;
      if (!url.startsWith('/')) errs.push(invalid(p.child('nonResourceURLs').index(j), url, "non-resource URL rules must begin with a '/' character"));
      if (url !== '' && url.slice(0, -1).includes('*')) errs.push(invalid(p.child('nonResourceURLs').index(j), url, "non-resource URL wildcards '*' must be the final character of the rule"));
    });
    for (const gr of rule.resources) {
      if (gr.group !== '' && gr.group !== '*') {
        const msgs = isDNS1123Subdomain(gr.group);
        if (msgs.length) errs.push(invalid(p.child('resources', 'group'), gr.group, msgs.join(',')));
      }
      if (gr.resourceNames.length && !gr.resources.length) errs.push(invalid(p.child('resources', 'resourceNames'), gr.resourceNames, 'using resourceNames requires at least one resource'));
    }
    errs.push(...validateOmitStages(rule.omitStages, p.child('omitStages')));
    if (rule.nonResourceURLs.length && (rule.resources.length || rule.namespaces.length)) {
      errs.push(invalid(p.child('nonResourceURLs'), rule.nonResourceURLs, 'rules cannot apply to both regular resources and non-resource URLs'));
    }
  });
  return errs;
}

function validateOmitStages(stages: string[], p: FieldPath): FieldError[] {
  const out: FieldError[] = [];
  stages.forEach((s, i) => {
    if (!(AUDIT_STAGES as readonly string[]).includes(s)) out.push(invalid(p.index(i), s, `allowed stages are ${AUDIT_STAGES.join(',')}`));
  });
  return out;
}

/** Reads the typed fields, collecting the first type error (as Go's decoder stops at one) and unknown fields. */
class Decoder {
  typeError = '';
  unknown: string[] = [];

  known(obj: Record<string, unknown>, p: FieldPath, fields: string[]): void {
    for (const k of Object.keys(obj)) if (!fields.includes(k)) this.unknown.push(String(p) ? `${String(p)}.${k}` : k);
  }

  fail(p: FieldPath, v: unknown, goType: string): void {
    this.typeError ||= `json: cannot unmarshal ${describe(v)} into Go struct field ${String(p)} of type ${goType}`;
  }

  array(v: unknown, p: FieldPath): unknown[] {
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) {
      this.fail(p, v, 'array');
      return [];
    }
    return v;
  }

  strings(v: unknown, p: FieldPath): string[] {
    return this.array(v, p).flatMap((s, i) => {
      if (typeof s === 'string') return [s];
      this.fail(p.index(i), s, 'string');
      return [];
    });
  }

  string(v: unknown, p: FieldPath): string {
    if (v === undefined || v === null) return '';
    if (typeof v === 'string') return v;
    this.fail(p, v, 'string');
    return '';
  }

  bool(v: unknown, p: FieldPath): boolean | undefined {
    if (v === undefined || v === null) return undefined;
    if (typeof v === 'boolean') return v;
    this.fail(p, v, 'bool');
    return undefined;
  }

  rule(v: unknown, p: FieldPath): PolicyRule {
    const r = isObject(v) ? v : (this.fail(p, v, 'v1.PolicyRule'), {});
    this.known(r, p, ['level', 'users', 'userGroups', 'verbs', 'resources', 'namespaces', 'nonResourceURLs', 'omitStages', 'omitManagedFields']);
    const resources = this.array(r.resources, p.child('resources')).map((g, i) => {
      const gp = p.child('resources').index(i);
      const o = isObject(g) ? g : (this.fail(gp, g, 'v1.GroupResources'), {});
      this.known(o, gp, ['group', 'resources', 'resourceNames']);
      return { group: this.string(o.group, gp.child('group')), resources: this.strings(o.resources, gp.child('resources')), resourceNames: this.strings(o.resourceNames, gp.child('resourceNames')) };
    });
    return {
      level: this.string(r.level, p.child('level')) as AuditLevel,
      users: this.strings(r.users, p.child('users')),
      userGroups: this.strings(r.userGroups, p.child('userGroups')),
      verbs: this.strings(r.verbs, p.child('verbs')),
      resources,
      namespaces: this.strings(r.namespaces, p.child('namespaces')),
      nonResourceURLs: this.strings(r.nonResourceURLs, p.child('nonResourceURLs')),
      omitStages: this.strings(r.omitStages, p.child('omitStages')) as AuditStage[],
      omitManagedFields: this.bool(r.omitManagedFields, p.child('omitManagedFields')),
    };
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Go's JSON type word for a value, as its decoder names it in errors. */
function describe(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'object') return 'object';
  return typeof v;
}
