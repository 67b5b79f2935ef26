// kube-apiserver's RBAC authorizer (plugin/pkg/auth/authorizer/rbac): a request is allowed when a
// rule of a role bound to its user, one of its groups or its service account allows it; otherwise
// RBAC has no opinion, and says why only when some binding named a role that does not exist
// ("RBAC: clusterrole.rbac.authorization.k8s.io \"x\" not found"). It is also the rule resolver
// SelfSubjectRulesReview and `kubectl auth can-i --list` read.
//
// Called concurrently for every request; it reads the shared watched cache and changes nothing.
// start() must be awaited (or authorize awaits the first sync itself); stop() releases the cache.

import { ruleAllows } from '../../../api/rbac/rules.ts';
import type { Registry } from '../../../registry/registry.ts';
import type { AuthorizationAttributes, AuthorizationResult, Authorizer, NonResourceRuleInfo, ResourceRuleInfo, RuleResolver } from '../authorizer.ts';
import type { User } from '../user.ts';
import { aggregateErrors, sharedRbacCache, type RbacCache } from './cache.ts';

export class RBACAuthorizer implements Authorizer, RuleResolver {
  readonly #cache: RbacCache;
  #ready: Promise<void> | undefined;

  constructor(registry: Registry) {
    this.#cache = sharedRbacCache(registry);
  }

  start(): Promise<void> {
    this.#ready ??= this.#cache.acquire();
    return this.#ready;
  }

  stop(): void {
    if (this.#ready) this.#cache.release();
    this.#ready = undefined;
  }

  authorize(a: AuthorizationAttributes): AuthorizationResult | Promise<AuthorizationResult> {
    if (this.#cache.synced) return this.#decide(a);
    return this.start().then(() => this.#decide(a));
  }

  #decide(a: AuthorizationAttributes): AuthorizationResult {
    let allowedBy = '';
    const errors: string[] = [];
    this.#cache.visitRulesFor(a.user, a.namespace, (v) => {
      if ('error' in v) {
        errors.push(v.error);
        return true;
      }
      if (!ruleAllows(a, v.rule)) return true;
      allowedBy = v.source();
      return false;
    });
    if (allowedBy) return { decision: 'allow', reason: `RBAC: allowed by ${allowedBy}` };
    return { decision: 'noOpinion', reason: errors.length ? `RBAC: ${aggregateErrors(errors)}` : '' };
  }

  async rulesFor(user: User, namespace: string): Promise<{ resourceRules: ResourceRuleInfo[]; nonResourceRules: NonResourceRuleInfo[]; incomplete: boolean; evaluationError?: string }> {
    await this.start();
    const { rules, errors } = this.#cache.rulesFor(user, namespace);
    const resourceRules: ResourceRuleInfo[] = [];
    const nonResourceRules: NonResourceRuleInfo[] = [];
    for (const r of rules) {
      if ((r.resources ?? []).length) resourceRules.push({ verbs: r.verbs ?? [], apiGroups: r.apiGroups, resources: r.resources, resourceNames: r.resourceNames });
      if ((r.nonResourceURLs ?? []).length) nonResourceRules.push({ verbs: r.verbs ?? [], nonResourceURLs: r.nonResourceURLs });
    }
    return { resourceRules, nonResourceRules, incomplete: false, ...(errors.length ? { evaluationError: aggregateErrors(errors) } : {}) };
  }
}

/**
 * kube-apiserver's privileged-group authorizer: members of these groups (system:masters) may do
 * everything, whatever RBAC says; the API server's own loopback identity relies on it.
 */
export function privilegedGroups(...groups: string[]): Authorizer {
  return {
    authorize: (a) => (a.user.groups.some((g) => groups.includes(g)) ? { decision: 'allow', reason: '' } : { decision: 'noOpinion', reason: '' }),
  };
}
