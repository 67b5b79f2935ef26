// Kubernetes' RBAC rule semantics, shared by the authorizer, escalation checks and the ClusterRole
// aggregation controller: a request against one rule (rbac/v1 evaluation_helpers), whether one set
// of rules covers another (component-helpers' policy comparator), and the compact rule text the
// escalation message prints.

import type { PolicyRule } from './types.ts';

/** The parts of a request a rule is matched against (authorizer attributes). */
export interface RuleRequest {
  verb: string;
  isResourceRequest: boolean;
  apiGroup: string;
  resource: string;
  subresource: string;
  name: string;
  path: string;
}

function verbMatches(rule: PolicyRule, verb: string): boolean {
  return (rule.verbs ?? []).some((v) => v === '*' || v === verb);
}

function apiGroupMatches(rule: PolicyRule, group: string): boolean {
  return (rule.apiGroups ?? []).some((g) => g === '*' || g === group);
}

function resourceMatches(rule: PolicyRule, combined: string, subresource: string): boolean {
  for (const r of rule.resources ?? []) {
    if (r === '*' || r === combined) return true;
    // "*/scale" matches the scale subresource of every resource.
    if (subresource && r.length === subresource.length + 2 && r.startsWith('*/') && r.endsWith(subresource)) return true;
  }
  return false;
}

function resourceNameMatches(rule: PolicyRule, name: string): boolean {
  const names = rule.resourceNames ?? [];
  return names.length === 0 || names.includes(name);
}

function nonResourceURLMatches(rule: PolicyRule, path: string): boolean {
  for (const u of rule.nonResourceURLs ?? []) {
    if (u === '*' || u === path) return true;
    if (u.endsWith('*') && path.startsWith(u.replace(/\*+$/, ''))) return true;
  }
  return false;
}

/** RuleAllows: whether one rule allows the request. */
export function ruleAllows(req: RuleRequest, rule: PolicyRule): boolean {
  if (req.isResourceRequest) {
    const combined = req.subresource ? `${req.resource}/${req.subresource}` : req.resource;
    return verbMatches(rule, req.verb) && apiGroupMatches(rule, req.apiGroup) && resourceMatches(rule, combined, req.subresource) && resourceNameMatches(rule, req.name);
  }
  return verbMatches(rule, req.verb) && nonResourceURLMatches(rule, req.path);
}

/** BreakdownRule: one rule per group × resource × verb (× resource name), and per URL × verb. */
export function breakdownRule(rule: PolicyRule): PolicyRule[] {
  const out: PolicyRule[] = [];
  for (const group of rule.apiGroups ?? []) {
    for (const resource of rule.resources ?? []) {
      for (const verb of rule.verbs ?? []) {
        const names = rule.resourceNames ?? [];
        if (names.length) for (const n of names) out.push({ apiGroups: [group], resources: [resource], verbs: [verb], resourceNames: [n] });
        else out.push({ apiGroups: [group], resources: [resource], verbs: [verb] });
      }
    }
  }
  for (const url of rule.nonResourceURLs ?? []) for (const verb of rule.verbs ?? []) out.push({ nonResourceURLs: [url], verbs: [verb] });
  return out;
}

function hasAll(set: readonly string[], want: readonly string[]): boolean {
  return want.every((w) => set.includes(w));
}

function resourceCoversAll(set: readonly string[], covers: readonly string[]): boolean {
  if (set.includes('*') || hasAll(set, covers)) return true;
  for (const p of covers) {
    if (set.includes(p)) continue;
    const slash = p.indexOf('/');
    if (slash < 0) return false;
    if (!set.includes(`*/${p.slice(slash + 1)}`)) return false;
  }
  return true;
}

function nonResourceURLCovers(owner: string, sub: string): boolean {
  return owner === sub || (owner.endsWith('*') && sub.startsWith(owner.replace(/\*+$/, '')));
}

function ruleCovers(owner: PolicyRule, sub: PolicyRule): boolean {
  const ov = owner.verbs ?? [];
  const og = owner.apiGroups ?? [];
  const on = owner.resourceNames ?? [];
  const sn = sub.resourceNames ?? [];
  const verbs = ov.includes('*') || hasAll(ov, sub.verbs ?? []);
  const groups = og.includes('*') || hasAll(og, sub.apiGroups ?? []);
  const resources = resourceCoversAll(owner.resources ?? [], sub.resources ?? []);
  const urls = (sub.nonResourceURLs ?? []).every((p) => (owner.nonResourceURLs ?? []).some((o) => nonResourceURLCovers(o, p)));
  const names = sn.length === 0 ? on.length === 0 : on.length === 0 || hasAll(on, sn);
  return verbs && groups && resources && names && urls;
}

/** Covers: whether `owner` allows everything `servant` does, and the broken-down rules it does not. */
export function covers(owner: readonly PolicyRule[], servant: readonly PolicyRule[]): { covered: boolean; missing: PolicyRule[] } {
  const missing: PolicyRule[] = [];
  for (const s of servant) for (const sub of breakdownRule(s)) if (!owner.some((o) => ruleCovers(o, sub))) missing.push(sub);
  return { covered: missing.length === 0, missing };
}

/** CompactRules: simple one-group one-resource rules differing only by verb become one rule. */
export function compactRules(rules: readonly PolicyRule[]): PolicyRule[] {
  const out: PolicyRule[] = [];
  const simple = new Map<string, PolicyRule>();
  for (const r of rules) {
    const isSimple = !(r.resourceNames ?? []).length && !(r.nonResourceURLs ?? []).length && (r.apiGroups ?? []).length === 1 && (r.resources ?? []).length === 1;
    if (!isSimple) {
      out.push(r);
      continue;
    }
    const key = `${r.apiGroups![0]}\u0000${r.resources![0]}`;
    const have = simple.get(key);
    if (have) have.verbs = [...(have.verbs ?? []), ...(r.verbs ?? [])];
    else simple.set(key, { apiGroups: [...r.apiGroups!], resources: [...r.resources!], verbs: [...(r.verbs ?? [])] });
  }
  return [...out, ...simple.values()];
}

/** Go's %q of a []string: ["a" "b"]. */
export function goQuotedList(list: readonly string[]): string {
  return `[${list.map((s) => JSON.stringify(s)).join(' ')}]`;
}

/** CompactString: `{APIGroups:[""], Resources:["pods"], Verbs:["get"]}`. */
export function compactString(r: PolicyRule): string {
  const parts: string[] = [];
  if ((r.apiGroups ?? []).length) parts.push(`APIGroups:${goQuotedList(r.apiGroups!)}`);
  if ((r.resources ?? []).length) parts.push(`Resources:${goQuotedList(r.resources!)}`);
  if ((r.nonResourceURLs ?? []).length) parts.push(`NonResourceURLs:${goQuotedList(r.nonResourceURLs!)}`);
  if ((r.resourceNames ?? []).length) parts.push(`ResourceNames:${goQuotedList(r.resourceNames!)}`);
  if ((r.verbs ?? []).length) parts.push(`Verbs:${goQuotedList(r.verbs!)}`);
  return `{${parts.join(', ')}}`;
}

/** The user name of a service account (serviceaccount.MakeUsername). */
export function serviceAccountUsername(namespace: string, name: string): string {
  return `system:serviceaccount:${namespace}:${name}`;
}
