// The time claims of bound service-account tokens against injected clocks: kube-apiserver allows a
// minute of clock skew on nbf, exp and iat (go-jose's default leeway in its validator), so a token a
// little past its expiry, or from an issuer whose clock runs a little ahead, still works, and one
// further out is refused with kube's reason.

import assert from 'node:assert/strict';
import { generateKeyPairSync, createPrivateKey } from 'node:crypto';
import { before, describe, it } from 'node:test';
import { SignJWT } from 'jose';
import type { KubeObject } from '../../../api/types.ts';
import { FakeClock } from '../../../util/clock.ts';
import { ServiceAccountTokens, type BoundObjectGetter } from './tokens.ts';

const T0 = Date.parse('2026-06-01T12:00:00Z');
const account: KubeObject = { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'robot', namespace: 'team', uid: 'sa-1' } };
const objects: BoundObjectGetter = {
  get: (resource, namespace, name) => Promise.resolve(resource === 'serviceaccounts' && namespace === 'team' && name === 'robot' ? account : null),
};
let keyPem: string;

before(() => {
  keyPem = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
});

function tokens(clock: FakeClock): ServiceAccountTokens {
  return new ServiceAccountTokens({ keyPem, objects, clock });
}

async function issue(clock: FakeClock, expirationSeconds = 600): Promise<string> {
  const r = await tokens(clock).issue({ namespace: 'team', serviceAccount: { name: 'robot', uid: 'sa-1' }, audiences: [], expirationSeconds });
  return r.token;
}

/** The TokenReview outcome: the user's name, or kube's reason. */
async function review(verifier: ServiceAccountTokens, token: string): Promise<string> {
  const r = await verifier.reviewToken(token, []);
  assert.ok(r, 'the token is recognised as ours');
  return 'user' in r ? r.user.name : `error: ${r.error}`;
}

const USER = 'system:serviceaccount:team:robot';

describe('bound token times (kube: a minute of leeway)', () => {
  it('accepts a token 30 s past its exp and refuses it 90 s past', async () => {
    const clock = new FakeClock(T0);
    const verifier = tokens(clock);
    const token = await issue(clock, 600);
    clock.advance(600_000 + 30_000);
    assert.equal(await review(verifier, token), USER);
    clock.advance(60_000);
    assert.equal(await review(verifier, token), 'error: service account token has expired');
  });

  it('accepts a token from an issuer whose clock is 30 s ahead and refuses one 90 s ahead (nbf)', async () => {
    const verifierClock = new FakeClock(T0);
    const verifier = tokens(verifierClock);
    assert.equal(await review(verifier, await issue(new FakeClock(T0 + 30_000))), USER);
    // nbf and iat are both the issue time: nbf is checked first, as go-jose does.
    assert.equal(await review(verifier, await issue(new FakeClock(T0 + 90_000))), 'error: service account token is not valid yet');
  });

  it('refuses a token issued more than a minute in the future (iat) with kube words, and takes one without exp', async () => {
    const clock = new FakeClock(T0);
    const verifier = tokens(clock);
    const now = Math.floor(T0 / 1000);
    const sign = (claims: Record<string, unknown>) =>
      new SignJWT({ 'kubernetes.io': { namespace: 'team', serviceaccount: { name: 'robot', uid: 'sa-1' } }, ...claims })
        .setProtectedHeader({ alg: 'RS256', kid: verifier.keyId })
        .setIssuer(verifier.issuer)
        .setSubject(USER)
        .setAudience([...verifier.apiAudiences])
        .sign(createPrivateKey(keyPem));
    assert.equal(await review(verifier, await sign({ iat: now + 30, exp: now + 600 })), USER);
    assert.equal(await review(verifier, await sign({ iat: now + 90, exp: now + 600 })), 'error: service account token is issued in the future');
    // go-jose checks only the claims a token has; kube's generator always sets exp, the check does not demand it.
    assert.equal(await review(verifier, await sign({ iat: now })), USER);
  });
});
