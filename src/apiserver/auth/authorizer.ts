// The authorization seam: Kubernetes' request attributes in, allow / deny / no opinion out, with a
// reason. Called by the API server once per request, after authentication and before routing,
// concurrently for many requests; an authorizer must not change anything.
//
// Until RBAC lands the server's default is AlwaysAllow: every authenticated user may do everything.

import type { FieldRequirement } from '../../api/fields.ts';
import type { User } from './user.ts';

export interface AuthorizationAttributes {
  user: User;
  /** get, list, watch, create, update, patch, delete, deletecollection (resource requests); the lower-case HTTP method for paths. */
  verb: string;
  isResourceRequest: boolean;
  /** Resource requests: */
  apiGroup: string;
  apiVersion: string;
  resource: string;
  subresource: string;
  namespace: string;
  name: string;
  /** Non-resource requests (/healthz, /openapi/v3...): the path. */
  path: string;
  /** list, watch, deletecollection: the fieldSelector's requirements (kube's AuthorizeWithSelectors); absent when none or unparsable. */
  fieldSelector?: readonly FieldRequirement[];
}

export type Decision = 'allow' | 'deny' | 'noOpinion';

export interface AuthorizationResult {
  decision: Decision;
  /** Why: shown to the caller after the 403 message when not empty. */
  reason: string;
}

export interface Authorizer {
  authorize(a: AuthorizationAttributes): AuthorizationResult | Promise<AuthorizationResult>;
}

export const alwaysAllow: Authorizer = { authorize: () => ({ decision: 'allow', reason: '' }) };

/** Asks each authorizer in turn; the first allow or deny decides (kube-apiserver's union authorizer). */
export function unionAuthorizer(...authorizers: Authorizer[]): Authorizer {
  return {
    async authorize(a) {
      const reasons: string[] = [];
      for (const z of authorizers) {
        const r = await z.authorize(a);
        if (r.decision !== 'noOpinion') return r;
        if (r.reason) reasons.push(r.reason);
      }
      return { decision: 'noOpinion', reason: reasons.join('\n') };
    },
  };
}

/** The 403 message kube-apiserver writes for a request that is not allowed. */
export function forbiddenMessage(a: AuthorizationAttributes, reason: string): string {
  const who = `User ${JSON.stringify(a.user.name)}`;
  let msg: string;
  if (!a.isResourceRequest) {
    msg = `forbidden: ${who} cannot ${a.verb} path ${JSON.stringify(a.path)}`;
  } else {
    const resource = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
    const scope = a.namespace ? `in the namespace ${JSON.stringify(a.namespace)}` : 'at the cluster scope';
    const qualified = a.apiGroup ? `${a.resource}.${a.apiGroup}` : a.resource;
    const what = a.name ? `${qualified} ${JSON.stringify(a.name)}` : qualified;
    msg = `${what} is forbidden: ${who} cannot ${a.verb} resource ${JSON.stringify(resource)} in API group ${JSON.stringify(a.apiGroup)} ${scope}`;
  }
  return reason ? `${msg}: ${reason}` : msg;
}

/** A rule as SelfSubjectRulesReview reports it (authorization.k8s.io/v1 ResourceRule). */
export interface ResourceRuleInfo {
  verbs: string[];
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
}

/** authorization.k8s.io/v1 NonResourceRule. */
export interface NonResourceRuleInfo {
  verbs: string[];
  nonResourceURLs?: string[];
}

/**
 * What a user may do in a namespace, as rules (RBAC's rule resolver; SelfSubjectRulesReview and
 * `kubectl auth can-i --list`). `incomplete` is true when an authorizer could not list its rules
 * (or some bindings named roles that do not exist: then `evaluationError` says which).
 */
export interface RuleResolver {
  rulesFor(user: User, namespace: string): Promise<{ resourceRules: ResourceRuleInfo[]; nonResourceRules: NonResourceRuleInfo[]; incomplete: boolean; evaluationError?: string }>;
}
