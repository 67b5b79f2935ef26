// PodSecurity: the Pod Security Standards, as kube-apiserver's plugin applies them
// (k8s.io/pod-security-admission/admission). A namespace's labels choose a level and policy version
// per mode: `enforce` refuses a pod that violates it (403 with kube's message), `warn` admits it with
// a Warning the client prints, `audit` admits it with the `pod-security.kubernetes.io/audit-violations`
// annotation on the request's audit event. Pod controllers and templates (Deployment, Job, ...) are
// only warned about and audited, never refused: their pods are refused when they are made. Namespace
// labels are validated, and raising a namespace's enforce level warns about the pods already there
// that would violate it. Exemptions (users, runtime classes, namespaces) come from the configuration.
//
// The checks themselves are pure and live in src/api/podsecurity/.

import type { KubeObject, Namespace, ObjectMeta, Pod, PodSpec, PodTemplateSpec } from '../../api/types.ts';
import { fieldErrorMessage, invalidError, type FieldError } from '../../api/field.ts';
import { evaluate, forbiddenDetail, forbiddenReason, type AggregateResult } from '../../api/podsecurity/evaluator.ts';
import { compareLevels, levelVersionString, policyToEvaluate, PRIVILEGED_POLICY, sameLevelVersion, versionString, type LevelVersion, type Policy } from '../../api/podsecurity/policy.ts';
import type { Registry } from '../../registry/registry.ts';
import type { Store } from '../../registry/store.ts';
import { forbidden, StatusError } from '../../util/status.ts';
import { WatchedCache } from './cache.ts';
import type { AdmissionAttributes, AdmissionPlugin } from './types.ts';

/** PodSecurityConfiguration (pod-security.admission.config.k8s.io): the policy of unlabelled namespaces and who is exempt. */
export interface PodSecurityConfiguration {
  defaults: Policy;
  exemptions: {
    /** Requests by these users are not checked. */
    usernames: readonly string[];
    /** Pods (and templates) with these runtimeClassNames are not checked. */
    runtimeClasses: readonly string[];
    /** Nothing in these namespaces is checked. */
    namespaces: readonly string[];
  };
}

/** kube-apiserver's default: every namespace privileged unless labelled, nobody exempt. */
export const DEFAULT_POD_SECURITY_CONFIGURATION: PodSecurityConfiguration = {
  defaults: PRIVILEGED_POLICY,
  exemptions: { usernames: [], runtimeClasses: [], namespaces: [] },
};

/** Audit annotations are recorded under the plugin's prefix (podsecurity's AuditAnnotationPrefix). */
const AUDIT_PREFIX = 'pod-security.kubernetes.io/';

// Checks against one namespace's pods when its enforce level rises stop after this many (kube's default).
const NAMESPACE_MAX_PODS_TO_CHECK = 3000;

/** Pod subresources that cannot change what the checks read. Every other one (ephemeralcontainers, resize) is checked. */
const IGNORED_POD_SUBRESOURCES = new Set(['exec', 'attach', 'binding', 'eviction', 'log', 'portforward', 'proxy', 'status']);

type Template = { metadata?: ObjectMeta; spec?: PodSpec } | undefined | null;

/** Where each pod controller keeps its pod template (DefaultPodSpecExtractor), by group/resource. */
const POD_TEMPLATES: Record<string, (o: KubeObject) => Template> = {
  '/replicationcontrollers': (o) => spec(o)?.template as PodTemplateSpec | undefined,
  '/podtemplates': (o) => o.template as PodTemplateSpec | undefined,
  'apps/replicasets': (o) => spec(o)?.template as PodTemplateSpec | undefined,
  'apps/deployments': (o) => spec(o)?.template as PodTemplateSpec | undefined,
  'apps/statefulsets': (o) => spec(o)?.template as PodTemplateSpec | undefined,
  'apps/daemonsets': (o) => spec(o)?.template as PodTemplateSpec | undefined,
  'batch/jobs': (o) => spec(o)?.template as PodTemplateSpec | undefined,
  'batch/cronjobs': (o) => ((spec(o)?.jobTemplate as { spec?: { template?: PodTemplateSpec } } | undefined)?.spec?.template),
};

function spec(o: KubeObject): Record<string, unknown> | undefined {
  return o.spec && typeof o.spec === 'object' ? (o.spec as Record<string, unknown>) : undefined;
}

/** What one evaluation decided: a refusal (enforce only), warnings, and audit annotations (unprefixed keys). */
export interface PodSecurityDecision {
  refusal?: string;
  warnings: string[];
  auditAnnotations: Record<string, string>;
}

/**
 * A pod's or template's evaluation against a namespace's policy (Admission.EvaluatePod): enforce (when
 * asked) refuses, audit annotates, warn warns unless the request is refused anyway. Results are reused
 * between modes with the same level and version.
 */
export function evaluatePodSecurity(policy: Policy, policyErrors: readonly FieldError[], meta: ObjectMeta | undefined, podSpec: PodSpec | undefined, enforce: boolean): PodSecurityDecision {
  const decision: PodSecurityDecision = { warnings: [], auditAnnotations: {} };
  if (policyErrors.length) decision.auditAnnotations['error'] = `Failed to parse policy: ${aggregateMessage(policyErrors)}`;
  const cache: { lv: LevelVersion; result: AggregateResult }[] = [];
  const resultFor = (lv: LevelVersion): AggregateResult => {
    const hit = cache.find((c) => sameLevelVersion(c.lv, lv));
    if (hit) return hit.result;
    const result = evaluate(lv, meta, podSpec);
    cache.push({ lv, result });
    return result;
  };
  if (enforce) {
    decision.auditAnnotations['enforce-policy'] = levelVersionString(policy.enforce);
    const r = resultFor(policy.enforce);
    if (!r.allowed) decision.refusal = `violates PodSecurity ${JSON.stringify(levelVersionString(policy.enforce))}: ${forbiddenDetail(r)}`;
  }
  const audit = resultFor(policy.audit);
  if (!audit.allowed) decision.auditAnnotations['audit-violations'] = `would violate PodSecurity ${JSON.stringify(levelVersionString(policy.audit))}: ${forbiddenDetail(audit)}`;
  if (!decision.refusal) {
    const warn = resultFor(policy.warn);
    if (!warn.allowed) decision.warnings.push(`would violate PodSecurity ${JSON.stringify(levelVersionString(policy.warn))}: ${forbiddenDetail(warn)}`);
  }
  return decision;
}

/** Go's field.ErrorList.ToAggregate().Error(): one message, or several in brackets. */
function aggregateMessage(errs: readonly FieldError[]): string {
  const parts = errs.map((e) => `${e.field}: ${fieldErrorMessage(e)}`);
  return parts.length === 1 ? parts[0]! : `[${parts.join(', ')}]`;
}

/**
 * The warnings for a namespace whose enforce level rises (Admission.EvaluatePodsInNamespace): one line
 * per distinct set of violations, naming the first pod (by name) and how many others share it. One pod
 * of each controller is checked before the others.
 */
export function existingPodWarnings(namespace: string, enforce: LevelVersion, pods: readonly Pod[], exemptRuntimeClass: (name: string | undefined) => boolean): string[] {
  const first: Pod[] = [];
  const replicated: Pod[] = [];
  const seenControllers = new Set<string>();
  for (const pod of pods) {
    if (exemptRuntimeClass(pod.spec?.runtimeClassName)) continue;
    const owner = pod.metadata?.ownerReferences?.find((r) => r.controller);
    if (!owner) first.push(pod);
    else if (seenControllers.has(owner.uid)) replicated.push(pod);
    else {
      seenControllers.add(owner.uid);
      first.push(pod);
    }
  }
  const prioritized = [...first, ...replicated];
  const checked = prioritized.slice(0, NAMESPACE_MAX_PODS_TO_CHECK);
  const byWarning = new Map<string, { podName: string; count: number }>();
  for (const pod of checked) {
    const r = evaluate(enforce, pod.metadata, pod.spec);
    if (r.allowed) continue;
    const warning = forbiddenReason(r);
    const name = pod.metadata?.name ?? '';
    const c = byWarning.get(warning);
    if (!c) byWarning.set(warning, { podName: name, count: 1 });
    else {
      if (name < c.podName) c.podName = name;
      c.count++;
    }
  }
  const warnings: string[] = [];
  if (checked.length < prioritized.length) warnings.push(`new PodSecurity enforce level only checked against the first ${checked.length} of ${prioritized.length} existing pods`);
  if (byWarning.size) warnings.push(`existing pods in namespace ${JSON.stringify(namespace)} violate the new PodSecurity enforce level ${JSON.stringify(levelVersionString(enforce))}`);
  const podWarnings = [...byWarning].map(([w, c]) => {
    if (c.count === 1) return `${c.podName}: ${w}`;
    if (c.count === 2) return `${c.podName} (and 1 other pod): ${w}`;
    return `${c.podName} (and ${c.count - 1} other pods): ${w}`;
  });
  podWarnings.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return [...warnings, ...podWarnings];
}

export class PodSecurity implements AdmissionPlugin {
  readonly name = 'PodSecurity';
  readonly #config: PodSecurityConfiguration;
  readonly #namespaces: WatchedCache<Namespace>;
  readonly #pods: Store;

  constructor(registry: Registry, config: PodSecurityConfiguration = DEFAULT_POD_SECURITY_CONFIGURATION) {
    this.#config = config;
    this.#namespaces = new WatchedCache<Namespace>(registry.store('namespaces'));
    this.#pods = registry.store('pods');
  }

  start(): Promise<void> {
    return this.#namespaces.start();
  }

  stop(): void {
    this.#namespaces.stop();
  }

  async validate(a: AdmissionAttributes, obj: KubeObject | undefined, old: KubeObject | undefined): Promise<void> {
    if ((a.operation !== 'CREATE' && a.operation !== 'UPDATE') || !obj) return;
    const gr = `${a.resource.group}/${a.resource.resource}`;
    if (gr === '/namespaces') return this.#validateNamespace(a, obj as Namespace, old as Namespace | undefined);
    if (gr === '/pods') return this.#validatePod(a, obj as Pod, old as Pod | undefined);
    const template = POD_TEMPLATES[gr];
    if (template) return this.#validatePodController(a, template(obj));
  }

  async #validateNamespace(a: AdmissionAttributes, ns: Namespace, old: Namespace | undefined): Promise<void> {
    if (a.subresource) return;
    const name = ns.metadata?.name ?? a.name;
    const next = policyToEvaluate(ns.metadata?.labels, this.#config.defaults);
    if (a.operation === 'CREATE' || !old) {
      if (next.errors.length) throw invalidError('Namespace', name, next.errors);
      return;
    }
    const prev = policyToEvaluate(old.metadata?.labels, this.#config.defaults);
    // Labels that were already as wrong before the update are let through (so the update can fix others).
    if (next.errors.length && (!prev.errors.length || JSON.stringify(next.errors) !== JSON.stringify(prev.errors))) {
      throw invalidError('Namespace', name, next.errors);
    }
    const enforce = next.policy.enforce;
    const before = prev.policy.enforce;
    if (sameLevelVersion(enforce, before) || enforce.level === 'privileged') return;
    if (versionString(enforce.version) === versionString(before.version) && compareLevels(enforce.level, before.level) < 1) return;
    if (this.#exemptNamespace(name)) {
      a.addAuditAnnotation(`${AUDIT_PREFIX}exempt`, 'namespace');
      return;
    }
    const pods = (await this.#pods.list({ namespace: name })).items as Pod[];
    for (const w of existingPodWarnings(name, enforce, pods, (rc) => this.#exemptRuntimeClass(rc))) a.warn(w);
  }

  async #validatePod(a: AdmissionAttributes, pod: Pod, old: Pod | undefined): Promise<void> {
    if (IGNORED_POD_SUBRESOURCES.has(a.subresource)) return;
    if (this.#exempt(a)) return;
    const ns = await this.#namespaces.get(undefined, a.namespace ?? '');
    if (!ns) {
      a.addAuditAnnotation(`${AUDIT_PREFIX}error`, `failed to lookup namespace ${a.namespace}`);
      throw new StatusError(500, 'InternalError', `Internal error occurred: failed to lookup namespace ${a.namespace}`);
    }
    const { policy, errors } = policyToEvaluate(ns.metadata?.labels, this.#config.defaults);
    if (!errors.length && policy.enforce.level === 'privileged' && policy.warn.level === 'privileged' && policy.audit.level === 'privileged') {
      a.addAuditAnnotation(`${AUDIT_PREFIX}enforce-policy`, 'privileged:latest');
      return;
    }
    if (a.operation === 'UPDATE' && old && !isSignificantPodUpdate(pod, old)) return;
    this.#evaluate(a, policy, errors, pod.metadata, pod.spec, true, pod.metadata?.name ?? a.name);
  }

  async #validatePodController(a: AdmissionAttributes, template: Template): Promise<void> {
    if (a.subresource) return;
    if (this.#exempt(a)) return;
    const ns = await this.#namespaces.get(undefined, a.namespace ?? '');
    if (!ns) {
      a.addAuditAnnotation(`${AUDIT_PREFIX}error`, `failed to lookup namespace ${a.namespace}: namespaces "${a.namespace}" not found`);
      return;
    }
    const { policy, errors } = policyToEvaluate(ns.metadata?.labels, this.#config.defaults);
    if (!errors.length && policy.warn.level === 'privileged' && policy.audit.level === 'privileged') return;
    if (!template) return;
    this.#evaluate(a, policy, errors, template.metadata, template.spec, false, '');
  }

  /** Evaluates and records the decision on the request: audit annotations, warnings, and the refusal (a pod's 403) when there is one. */
  #evaluate(a: AdmissionAttributes, policy: Policy, errors: readonly FieldError[], meta: ObjectMeta | undefined, podSpec: PodSpec | undefined, enforce: boolean, podName: string): void {
    if (this.#exemptRuntimeClass(podSpec?.runtimeClassName)) {
      a.addAuditAnnotation(`${AUDIT_PREFIX}exempt`, 'runtimeClass');
      return;
    }
    const d = evaluatePodSecurity(policy, errors, meta, podSpec, enforce);
    for (const [k, v] of Object.entries(d.auditAnnotations)) a.addAuditAnnotation(AUDIT_PREFIX + k, v);
    for (const w of d.warnings) a.warn(w);
    if (d.refusal) throw forbidden('pods', podName, d.refusal);
  }

  /** Namespace and user exemptions, recorded on the audit event as kube does. */
  #exempt(a: AdmissionAttributes): boolean {
    if (this.#exemptNamespace(a.namespace)) {
      a.addAuditAnnotation(`${AUDIT_PREFIX}exempt`, 'namespace');
      return true;
    }
    if (a.user.name && this.#config.exemptions.usernames.includes(a.user.name)) {
      a.addAuditAnnotation(`${AUDIT_PREFIX}exempt`, 'user');
      return true;
    }
    return false;
  }

  #exemptNamespace(ns: string | undefined): boolean {
    return !!ns && this.#config.exemptions.namespaces.includes(ns);
  }

  #exemptRuntimeClass(rc: string | undefined | null): boolean {
    return !!rc && this.#config.exemptions.runtimeClasses.includes(rc);
  }
}

/**
 * Whether a pod update can change what the checks see (isSignificantPodUpdate): most of a pod's spec
 * is immutable, so only images, the seccomp annotations and added ephemeral containers count.
 */
export function isSignificantPodUpdate(pod: Pod, old: Pod): boolean {
  const ann = pod.metadata?.annotations ?? {};
  const oldAnn = old.metadata?.annotations ?? {};
  if (ann['seccomp.security.alpha.kubernetes.io/pod'] !== oldAnn['seccomp.security.alpha.kubernetes.io/pod']) return true;
  const cs = pod.spec?.containers ?? [];
  const oldCs = old.spec?.containers ?? [];
  const ics = pod.spec?.initContainers ?? [];
  const oldIcs = old.spec?.initContainers ?? [];
  if (cs.length !== oldCs.length || ics.length !== oldIcs.length) return true;
  const significant = (c: { name: string; image?: string }, o: { image?: string }) => {
    const key = `container.seccomp.security.alpha.kubernetes.io/${c.name}`;
    return c.image !== o.image || ann[key] !== oldAnn[key];
  };
  if (cs.some((c, i) => significant(c, oldCs[i]!)) || ics.some((c, i) => significant(c, oldIcs[i]!))) return true;
  for (const e of pod.spec?.ephemeralContainers ?? []) {
    const o = (old.spec?.ephemeralContainers ?? []).find((x) => x.name === e.name);
    if (!o || significant(e, o)) return true;
  }
  return false;
}
