// SubjectAccessReviews (authorization.k8s.io/v1): may this user or group do this, anywhere? Asked of
// the server's authorizer and never stored (kube's pkg/registry/authorization/subjectaccessreview).

import { defineKind } from '../../kind.ts';
import { answered, attributesOf, reviewStatus, subjectOf, validateClusterAccessReview, type AccessReview } from '../access.ts';

export const subjectAccessReviews = defineKind<AccessReview>({
  identity: { group: 'authorization.k8s.io', version: 'v1', resource: 'subjectaccessreviews', singular: 'subjectaccessreview', kind: 'SubjectAccessReview', namespaced: false, verbs: ['create'] },
  strategy: { validate: (o) => validateClusterAccessReview(o, true), validateUpdate: () => [] },
  async compute(o, { authorizer }) {
    const spec = o.spec ?? {};
    return answered(o, await reviewStatus(authorizer, attributesOf(subjectOf(spec), spec), spec));
  },
});
