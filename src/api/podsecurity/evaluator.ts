// Evaluates a pod (or a pod template) against a level at a policy version, and aggregates the
// results into kube's messages (policy.checkRegistry, policy.AggregateCheckResults).

import type { ObjectMeta, PodSpec } from '../types.ts';
import { CHECKS, type Check, type CheckResult, type VersionedCheck } from './checks.ts';
import type { LevelVersion, Version } from './policy.ts';

/** The newest minor a check names: "latest", and every version past it, evaluate as this one. */
export const MAX_POLICY_MINOR = Math.max(...CHECKS.flatMap((c) => c.versions.map((v) => v.minimumMinor)));

export interface AggregateResult {
  allowed: boolean;
  forbiddenReasons: string[];
  forbiddenDetails: string[];
}

function versionFor(check: Check, minor: number): VersionedCheck | undefined {
  let chosen: VersionedCheck | undefined;
  for (const v of check.versions) if (v.minimumMinor <= minor) chosen = v;
  return chosen;
}

// kube orders checks by id (bytewise), baseline ones first, so messages list violations stably.
const byId = (a: Check, b: Check) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
const BASELINE = CHECKS.filter((c) => c.level === 'baseline').sort(byId);
const RESTRICTED = CHECKS.filter((c) => c.level === 'restricted').sort(byId);

/** The checks that apply to a level at a version; at restricted, a restricted check replaces the baseline checks it overrides. */
export function checksFor(lv: LevelVersion): VersionedCheck[] {
  if (lv.level === 'privileged') return [];
  const minor = policyMinor(lv.version);
  const restricted = lv.level === 'restricted' ? RESTRICTED.map((c) => versionFor(c, minor)).filter((v) => v !== undefined) : [];
  const overridden = new Set(restricted.flatMap((v) => v.overrides ?? []));
  const baseline = BASELINE.filter((c) => !overridden.has(c.id)).map((c) => versionFor(c, minor)).filter((v) => v !== undefined);
  return [...baseline, ...restricted];
}

function policyMinor(v: Version): number {
  return v.latest ? MAX_POLICY_MINOR : Math.min(v.minor, MAX_POLICY_MINOR);
}

export function evaluatePod(lv: LevelVersion, meta: ObjectMeta | undefined, spec: PodSpec | undefined): CheckResult[] {
  const m = meta ?? {};
  const s = spec ?? { containers: [] };
  return checksFor(lv).map((c) => c.checkPod(m, s));
}

export function aggregate(results: readonly CheckResult[]): AggregateResult {
  const forbiddenReasons: string[] = [];
  const forbiddenDetails: string[] = [];
  for (const r of results) {
    if (r.allowed) continue;
    forbiddenReasons.push(r.forbiddenReason || 'unknown forbidden reason');
    forbiddenDetails.push(r.forbiddenDetail ?? '');
  }
  return { allowed: forbiddenReasons.length === 0, forbiddenReasons, forbiddenDetails };
}

/** "host namespaces, privileged": what a namespace-wide check prints per pod. */
export function forbiddenReason(a: AggregateResult): string {
  return a.forbiddenReasons.join(', ');
}

/** "host namespaces (hostNetwork), privileged (container "c" must not set ...)": what one object's check prints. */
export function forbiddenDetail(a: AggregateResult): string {
  return a.forbiddenReasons.map((r, i) => (a.forbiddenDetails[i] ? `${r} (${a.forbiddenDetails[i]})` : r)).join(', ');
}

export function evaluate(lv: LevelVersion, meta: ObjectMeta | undefined, spec: PodSpec | undefined): AggregateResult {
  return aggregate(evaluatePod(lv, meta, spec));
}
