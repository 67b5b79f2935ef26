// The review kinds' answers, computed directly (the HTTP path is test/integration/auth-reviews.test.ts):
// what each returns or refuses for the cases kube's REST storages treat specially.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../api/types.ts';
import { StatusError } from '../../util/status.ts';
import type { KindDefinition } from '../kind.ts';
import type { ComputeContext } from '../review.ts';
import { tokenReviews } from '../authentication/tokenreviews/kind.ts';
import { localSubjectAccessReviews } from './localsubjectaccessreviews/kind.ts';
import { selfSubjectAccessReviews } from './selfsubjectaccessreviews/kind.ts';
import { selfSubjectRulesReviews } from './selfsubjectrulesreviews/kind.ts';

const me = { name: 'jane', groups: ['dev', 'system:authenticated'] };
const ctx = (more: Partial<ComputeContext> = {}): ComputeContext => ({ user: me, namespace: undefined, authorizer: { authorize: (a) => ({ decision: a.user.name === 'jane' ? 'allow' : 'noOpinion', reason: '' }) }, ...more });
const compute = async (k: KindDefinition, o: object, c: ComputeContext): Promise<KubeObject> => k.compute!(o as KubeObject, c);
const refusal = (code: number, message: string) => (e: unknown) => e instanceof StatusError && e.code === code && e.message === message;

describe('SelfSubjectAccessReview', () => {
  it("answers for the request's user, echoing the review", async () => {
    const out = await compute(selfSubjectAccessReviews, { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec: { resourceAttributes: { verb: 'get', resource: 'pods' } } }, ctx());
    assert.deepEqual(out, { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', metadata: { creationTimestamp: null }, spec: { resourceAttributes: { verb: 'get', resource: 'pods' } }, status: { allowed: true } });
  });
});

describe('LocalSubjectAccessReview', () => {
  const review = { metadata: { namespace: 'dev' }, spec: { user: 'jane', resourceAttributes: { verb: 'get', resource: 'pods', namespace: 'dev' } } };
  it("answers in the URL's namespace", async () => {
    assert.deepEqual(((await compute(localSubjectAccessReviews, review, ctx({ namespace: 'dev' }))) as { status: object }).status, { allowed: true });
  });
  it('refuses another namespace than the URL names, as kube (400)', async () => {
    await assert.rejects(compute(localSubjectAccessReviews, review, ctx({ namespace: 'prod' })), refusal(400, 'spec.resourceAttributes.namespace must match namespace: prod'));
    await assert.rejects(compute(localSubjectAccessReviews, review, ctx()), refusal(400, 'namespace is required on this type: '));
  });
});

describe('SelfSubjectRulesReview', () => {
  const review = { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectRulesReview', metadata: { name: 'ignored' }, spec: { namespace: 'dev' } };
  const cases: Array<{ name: string; c: ComputeContext; want: object }> = [
    { name: 'without a rule resolver: empty and incomplete', c: ctx(), want: { resourceRules: [], nonResourceRules: [], incomplete: true } },
    {
      name: "the resolver's rules, empty lists left out",
      c: ctx({ ruleResolver: { rulesFor: (u, ns) => Promise.resolve({ resourceRules: [{ verbs: ['get'], apiGroups: [''], resources: [`pods-of-${u.name}-in-${ns}`], resourceNames: [] }], nonResourceRules: [{ verbs: ['get'], nonResourceURLs: ['/logs'] }], incomplete: false }) } }),
      want: { resourceRules: [{ verbs: ['get'], apiGroups: [''], resources: ['pods-of-jane-in-dev'] }], nonResourceRules: [{ verbs: ['get'], nonResourceURLs: ['/logs'] }], incomplete: false },
    },
    {
      name: 'a resolver that fails: incomplete, with its error',
      c: ctx({ ruleResolver: { rulesFor: () => Promise.reject(new Error('role "gone" not found')) } }),
      want: { resourceRules: [], nonResourceRules: [], incomplete: true, evaluationError: 'role "gone" not found' },
    },
  ];
  for (const t of cases) {
    it(t.name, async () => {
      assert.deepEqual(await compute(selfSubjectRulesReviews, review, t.c), { kind: 'SelfSubjectRulesReview', apiVersion: 'authorization.k8s.io/v1', metadata: { creationTimestamp: null }, spec: {}, status: t.want });
    });
  }
  it('refuses a review without a namespace (400)', async () => {
    await assert.rejects(compute(selfSubjectRulesReviews, { spec: {} }, ctx()), refusal(400, 'no namespace on request'));
  });
});

describe('TokenReview', () => {
  const api = 'https://kubernetes.default.svc.cluster.local';
  const tokens = (audiences: string[]) => ({
    authenticator: { authenticateToken: (t: string) => Promise.resolve(t === 'good' ? { user: { name: 'app', uid: 'u1', groups: ['g'], extra: { 'authentication.kubernetes.io/pod-name': ['p'] } }, audiences } : null) },
    apiAudiences: [api],
  });
  const status = async (spec: object, c: ComputeContext) => ((await compute(tokenReviews, { spec }, c)) as { status?: object }).status;

  it('says who a token is, for the audiences asked or the API server’s own', async () => {
    assert.deepEqual(await status({ token: 'good' }, ctx({ tokens: tokens([api]) })), { authenticated: true, user: { username: 'app', uid: 'u1', groups: ['g'], extra: { 'authentication.kubernetes.io/pod-name': ['p'] } }, audiences: [api] });
  });
  it("a token nobody knows: not authenticated, with the bearer-token authenticator's error", async () => {
    assert.deepEqual(await status({ token: 'bad' }, ctx({ tokens: tokens([api]) })), { user: {}, error: 'invalid bearer token' });
  });
  it('a token an authenticator knows and refuses: its reason', async () => {
    const refusing = { authenticateToken: () => Promise.resolve(null), reviewToken: () => Promise.resolve({ error: 'service account token has expired' }) };
    assert.deepEqual(await status({ token: 'old' }, ctx({ tokens: { authenticator: refusing, apiAudiences: [api] } })), { user: {}, error: 'service account token has expired' });
  });
  it('an authenticator answering for none of the audiences asked is a 500, as kube', async () => {
    const quiet = console.error;
    console.error = () => {};
    try {
      await assert.rejects(compute(tokenReviews, { spec: { token: 'good', audiences: ['vault'] } }, ctx({ tokens: tokens(['other']) })), refusal(500, 'Internal error occurred: error validating audiences'));
    } finally {
      console.error = quiet;
    }
  });
  it('no token is a 400; no token authenticators leave the review unanswered', async () => {
    await assert.rejects(compute(tokenReviews, { spec: {} }, ctx({ tokens: tokens([]) })), refusal(400, 'token is required for TokenReview in authentication'));
    assert.equal(await status({ token: 'good' }, ctx()), undefined);
  });
});
