// What a kind computed per request (a review) is given besides the request's user: the API server's
// own access checks. The shapes are those of src/apiserver/auth/ (authorizer.ts, user.ts), restated
// here because the registry sits below the API server; the server passes its Authorizer, RuleResolver
// and TokenAuthenticator, and the compiler checks there that they fit.
//
// Called by: the API server, once per create of a computed kind, concurrently for many requests.

import type { RequestUser } from './kind.ts';

/** Kubernetes' authorizer attributes (authorizer.AttributesRecord). */
export interface AccessAttributes {
  user: RequestUser;
  verb: string;
  isResourceRequest: boolean;
  apiGroup: string;
  apiVersion: string;
  resource: string;
  subresource: string;
  namespace: string;
  name: string;
  path: string;
}

export interface AccessDecision {
  decision: 'allow' | 'deny' | 'noOpinion';
  reason: string;
}

export interface AccessAuthorizer {
  authorize(a: AccessAttributes): AccessDecision | Promise<AccessDecision>;
}

export interface AccessRules {
  resourceRules: Array<{ verbs: string[]; apiGroups?: string[]; resources?: string[]; resourceNames?: string[] }>;
  nonResourceRules: Array<{ verbs: string[]; nonResourceURLs?: string[] }>;
  incomplete: boolean;
  evaluationError?: string;
}

export interface AccessRuleResolver {
  rulesFor(user: RequestUser, namespace: string): Promise<AccessRules>;
}

export interface BearerTokenAuthenticator {
  authenticateToken(token: string, audiences: readonly string[]): Promise<{ user: RequestUser; audiences: string[] } | null>;
  /** With why a recognised token was refused (status.error); null when no authenticator recognised it. */
  reviewToken?(token: string, audiences: readonly string[]): Promise<{ user: RequestUser; audiences: string[] } | { error: string } | null>;
}

export interface ComputeContext {
  user: RequestUser;
  /** The request's namespace (from its URL) for a namespaced kind; undefined otherwise. */
  namespace: string | undefined;
  /** The server's authorizer: the same decisions its requests get. */
  authorizer: AccessAuthorizer;
  /** What a user may do, as rules; absent when the server's authorizer cannot list them. */
  ruleResolver?: AccessRuleResolver;
  /** Bearer tokens and the audiences the API server itself accepts (TokenReview); absent = none configured. */
  tokens?: { authenticator: BearerTokenAuthenticator; apiAudiences: readonly string[] };
}
