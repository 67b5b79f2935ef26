// SelfSubjectReviews (authentication.k8s.io/v1): "who am I", answered from the request's user and
// never stored (`kubectl auth whoami`).

import type { KubeObject } from '../../../api/types.ts';
import { validateObjectMeta } from '../../../api/validation/meta.ts';
import { defineKind } from '../../kind.ts';
import { subdomainName } from '../../rules.ts';

export const selfSubjectReviews = defineKind<KubeObject>({
  identity: { group: 'authentication.k8s.io', version: 'v1', resource: 'selfsubjectreviews', singular: 'selfsubjectreview', kind: 'SelfSubjectReview', namespaced: false, verbs: ['create'] },
  strategy: {
    // The review's name is optional (kubectl sends none); validation is ObjectMeta's on what is sent.
    validate: (o) => validateObjectMeta({ name: 'x', ...o.metadata }, { namespaced: false, nameFn: subdomainName, kubeFinalizers: false }),
    validateUpdate: () => [],
  },
  compute(_obj, { user }) {
    const userInfo: Record<string, unknown> = { username: user.name };
    if (user.uid) userInfo.uid = user.uid;
    userInfo.groups = user.groups;
    if (user.extra && Object.keys(user.extra).length) userInfo.extra = user.extra;
    return { kind: 'SelfSubjectReview', apiVersion: 'authentication.k8s.io/v1', metadata: { creationTimestamp: null }, status: { userInfo } } as unknown as KubeObject;
  },
});
