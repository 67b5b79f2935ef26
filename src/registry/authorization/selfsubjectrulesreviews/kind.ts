// SelfSubjectRulesReviews (authorization.k8s.io/v1): what may I do in a namespace, as rules
// (`kubectl auth can-i --list`). Answered by the server's rule resolver and never stored; without one
// the answer is empty and incomplete, as kube's authorizers that cannot list rules (webhooks) answer.

import type { KubeObject } from '../../../api/types.ts';
import { badRequest } from '../../../util/status.ts';
import { defineKind } from '../../kind.ts';
import type { AccessRules } from '../../review.ts';

interface RulesReview extends KubeObject {
  spec?: { namespace?: string };
}

export const selfSubjectRulesReviews = defineKind<RulesReview>({
  identity: { group: 'authorization.k8s.io', version: 'v1', resource: 'selfsubjectrulesreviews', singular: 'selfsubjectrulesreview', kind: 'SelfSubjectRulesReview', namespaced: false, verbs: ['create'] },
  // kube's ValidateSelfSubjectRulesReview accepts everything; a missing namespace is the REST storage's 400.
  strategy: { validate: () => [], validateUpdate: () => [] },
  async compute(o, { user, ruleResolver }) {
    const namespace = o.spec?.namespace ?? '';
    if (!namespace) throw badRequest('no namespace on request');
    let rules: AccessRules = { resourceRules: [], nonResourceRules: [], incomplete: true };
    if (ruleResolver) {
      try {
        rules = await ruleResolver.rulesFor(user, namespace);
      } catch (err) {
        rules = { resourceRules: [], nonResourceRules: [], incomplete: true, evaluationError: err instanceof Error ? err.message : String(err) };
      }
    }
    // A new object with only the status, as kube answers (its spec is empty).
    const status: Record<string, unknown> = {
      resourceRules: rules.resourceRules.map((r) => ({ verbs: r.verbs ?? [], ...only('apiGroups', r.apiGroups), ...only('resources', r.resources), ...only('resourceNames', r.resourceNames) })),
      nonResourceRules: rules.nonResourceRules.map((r) => ({ verbs: r.verbs ?? [], ...only('nonResourceURLs', r.nonResourceURLs) })),
      incomplete: rules.incomplete,
    };
    if (rules.evaluationError) status.evaluationError = rules.evaluationError;
    return { kind: 'SelfSubjectRulesReview', apiVersion: 'authorization.k8s.io/v1', metadata: { creationTimestamp: null } as unknown as KubeObject['metadata'], spec: {}, status };
  },
});

// Go's omitempty: an empty list is left out.
function only(key: string, v: string[] | undefined): Record<string, string[]> {
  return v?.length ? { [key]: v } : {};
}
