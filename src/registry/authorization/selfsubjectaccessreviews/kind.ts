// SelfSubjectAccessReviews (authorization.k8s.io/v1): may I do this? Asked of the server's authorizer
// for the request's own user (`kubectl auth can-i`) and never stored.

import { defineKind } from '../../kind.ts';
import { answered, attributesOf, reviewStatus, validateClusterAccessReview, type AccessReview } from '../access.ts';

export const selfSubjectAccessReviews = defineKind<AccessReview>({
  identity: { group: 'authorization.k8s.io', version: 'v1', resource: 'selfsubjectaccessreviews', singular: 'selfsubjectaccessreview', kind: 'SelfSubjectAccessReview', namespaced: false, verbs: ['create'] },
  strategy: { validate: (o) => validateClusterAccessReview(o, false), validateUpdate: () => [] },
  async compute(o, { authorizer, user }) {
    const spec = o.spec ?? {};
    return answered(o, await reviewStatus(authorizer, attributesOf(user, spec), spec));
  },
});
