// Static tokens as a TokenAuthenticator (TokenReview) and the union that puts other authenticators
// after them: audiences as kube's audience-agnostic wrapper treats a token file.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TokenAuthenticators, TokenCertAuthenticator } from './authn.ts';
import type { TokenAuthenticator } from './user.ts';

const API = 'https://kubernetes.default.svc.cluster.local';
const statics = new TokenCertAuthenticator({ adminToken: 'admin-secret', nodeToken: 'node-secret' }, { apiAudiences: [API, 'tinykube'] });

describe('static tokens reviewed', () => {
  const cases: Array<{ name: string; token: string; audiences: string[]; want: { name: string; groups: string[]; audiences: string[] } | null }> = [
    { name: 'admin, no audiences asked', token: 'admin-secret', audiences: [], want: { name: 'admin', groups: ['system:masters', 'system:authenticated'], audiences: [] } },
    { name: 'node join token', token: 'node-secret', audiences: [], want: { name: 'system:bootstrap:node', groups: ['system:bootstrappers', 'system:authenticated'], audiences: [] } },
    { name: "the API server's own audience", token: 'admin-secret', audiences: ['other', API], want: { name: 'admin', groups: ['system:masters', 'system:authenticated'], audiences: [API] } },
    { name: 'only other audiences', token: 'admin-secret', audiences: ['vault'], want: null },
    { name: 'unknown token', token: 'nope', audiences: [], want: null },
    { name: 'empty token', token: '', audiences: [], want: null },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const r = await statics.authenticateToken(c.token, c.audiences);
      assert.deepEqual(r && { name: r.user.name, groups: r.user.groups, audiences: r.audiences }, c.want);
    });
  }
});

describe('TokenAuthenticators', () => {
  const jwt: TokenAuthenticator = {
    authenticateToken: (token) => Promise.resolve(token === 'eyJ.jwt' ? { user: { name: 'system:serviceaccount:default:app', groups: ['system:serviceaccounts'] }, audiences: ['x'] } : null),
  };

  it('asks the static tokens first, then those added, and answers null when none knows the token', async () => {
    const union = new TokenAuthenticators(statics);
    assert.equal(await union.authenticateToken('eyJ.jwt', []), null);
    union.add(jwt);
    assert.equal((await union.authenticateToken('admin-secret', []))?.user.name, 'admin');
    assert.equal((await union.authenticateToken('eyJ.jwt', []))?.user.name, 'system:serviceaccount:default:app');
    assert.equal(await union.authenticateToken('forged', []), null);
  });

  it("reviews carry the refusing authenticators' reasons, aggregated as kube's union does", async () => {
    const refusing = (reason: string): TokenAuthenticator => ({
      authenticateToken: () => Promise.resolve(null),
      reviewToken: (token) => Promise.resolve(token.startsWith('eyJ') ? { error: reason } : null),
    });
    const one = new TokenAuthenticators(statics, refusing('service account token has expired'));
    assert.deepEqual(await one.reviewToken('eyJ.old', []), { error: 'service account token has expired' });
    assert.equal(await one.reviewToken('opaque', []), null, 'nobody recognised it: no reason');
    assert.equal((await one.reviewToken('admin-secret', []) as { user: { name: string } }).user.name, 'admin');
    const two = new TokenAuthenticators(statics, refusing('a'), refusing('b'), jwt);
    assert.equal((await two.reviewToken('eyJ.jwt', []) as { user: { name: string } }).user.name, 'system:serviceaccount:default:app', 'a later success wins over earlier refusals');
    assert.deepEqual(await two.reviewToken('eyJ.other', []), { error: '[a, b]' });
  });
});
