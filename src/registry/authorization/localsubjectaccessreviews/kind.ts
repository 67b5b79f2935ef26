// LocalSubjectAccessReviews (authorization.k8s.io/v1): a SubjectAccessReview about one namespace,
// asked in that namespace, so that permission to ask can be granted per namespace. Never stored
// (kube's pkg/registry/authorization/localsubjectaccessreview).

import { badRequest } from '../../../util/status.ts';
import { defineKind } from '../../kind.ts';
import { answered, attributesOf, reviewStatus, subjectOf, validateLocalAccessReview, type AccessReview } from '../access.ts';

export const localSubjectAccessReviews = defineKind<AccessReview>({
  identity: { group: 'authorization.k8s.io', version: 'v1', resource: 'localsubjectaccessreviews', singular: 'localsubjectaccessreview', kind: 'LocalSubjectAccessReview', namespaced: true, verbs: ['create'] },
  strategy: { validate: validateLocalAccessReview, validateUpdate: () => [] },
  async compute(o, { authorizer, namespace }) {
    // Unreachable through the API server, which gives the review the URL's namespace; kept as kube's REST storage answers.
    if (!namespace) throw badRequest(`namespace is required on this type: ${namespace ?? ''}`);
    if (namespace !== o.metadata?.namespace) throw badRequest(`spec.resourceAttributes.namespace must match namespace: ${namespace}`);
    const spec = o.spec ?? {};
    return answered(o, await reviewStatus(authorizer, attributesOf(subjectOf(spec), spec), spec));
  },
});
