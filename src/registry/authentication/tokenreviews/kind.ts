// TokenReviews (authentication.k8s.io/v1): who does this bearer token authenticate as, and for which
// audiences? Answered by the server's token authenticators and never stored, as kube's
// pkg/registry/authentication/tokenreview does: a review naming no audiences is checked against the
// API server's own; an authenticator that answers for none of the audiences asked is a 500; a token
// not authenticated gets status.error, the reason kube-apiserver's authenticators give.

import type { KubeObject } from '../../../api/types.ts';
import { badRequest, internalError } from '../../../util/status.ts';
import { defineKind } from '../../kind.ts';

interface TokenReview extends KubeObject {
  spec?: { token?: string; audiences?: string[] };
  status?: Record<string, unknown>;
}

export const tokenReviews = defineKind<TokenReview>({
  identity: { group: 'authentication.k8s.io', version: 'v1', resource: 'tokenreviews', singular: 'tokenreview', kind: 'TokenReview', namespaced: false, verbs: ['create'] },
  strategy: { validate: () => [], validateUpdate: () => [] },
  async compute(o, { tokens }) {
    const spec = o.spec ?? {};
    if (!spec.token) throw badRequest('token is required for TokenReview in authentication');
    const review: TokenReview = { ...o, metadata: { ...o.metadata, creationTimestamp: null } as unknown as KubeObject['metadata'], spec };
    if (!tokens) return review;
    const asked = spec.audiences?.length ? spec.audiences : tokens.apiAudiences;
    const reviewed = tokens.authenticator.reviewToken ? await tokens.authenticator.reviewToken(spec.token, asked) : await tokens.authenticator.authenticateToken(spec.token, asked);
    const result = reviewed && 'user' in reviewed ? reviewed : null;
    if (result && asked.length && !result.audiences.some((a) => asked.includes(a))) {
      // kube logs the audiences it wanted and got, and tells the caller only this.
      console.error(`tinykube: TokenReview: error validating audience. want=${JSON.stringify(asked)} got=${JSON.stringify(result.audiences)}`);
      throw internalError(new Error('error validating audiences'));
    }
    // Go's omitempty: authenticated only when true; user is a struct, so always there.
    const status: Record<string, unknown> = {};
    if (result) status.authenticated = true;
    const user: Record<string, unknown> = {};
    if (result) {
      if (result.user.name) user.username = result.user.name;
      if (result.user.uid) user.uid = result.user.uid;
      if (result.user.groups.length) user.groups = result.user.groups;
      if (result.user.extra && Object.keys(result.user.extra).length) user.extra = result.user.extra;
    }
    status.user = user;
    if (result?.audiences.length) status.audiences = result.audiences;
    // kube's bearer-token authenticator: the reason an authenticator gave, or, when none recognised
    // the token, its own "invalid bearer token".
    if (!result) status.error = reviewed && 'error' in reviewed ? reviewed.error : 'invalid bearer token';
    return { ...review, status };
  },
});
