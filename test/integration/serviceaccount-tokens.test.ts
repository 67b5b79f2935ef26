// Service-account tokens against an in-process API server, through HTTPS: `kubectl create token`
// (TokenRequest), the tokens it gives used as bearer tokens, the issuer's discovery document and key
// set verified with a standard JWT library (jose), tokens bound to a pod refused once the pod is
// gone, and every kind of bad token refused with 401: tampered, alg none, HMAC signed with the
// public key, wrong issuer, wrong audience, expired, of a deleted or recreated account.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createPrivateKey } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createLocalJWKSet, jwtVerify, SignJWT, decodeJwt } from 'jose';
import { startControlPlane, type ControlPlane } from '../../src/cmd/controlplane.ts';
import { FakeClock } from '../../src/util/clock.ts';

const kubectlBin = process.env.KUBECTL ?? '/usr/bin/kubectl';
const ISSUER = 'https://kubernetes.default.svc.cluster.local';
let dir: string;
let cp: ControlPlane;
const clock = new FakeClock(Date.parse('2026-12-01T10:00:00Z'));

function kubectl(args: string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(kubectlBin, ['--kubeconfig', cp.kubeconfigPath, '--cache-dir', join(dir, 'kube-cache'), ...args], { timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}

async function ok(args: string[], input?: string): Promise<string> {
  const r = await kubectl(args, input);
  assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** A request with only a bearer token (no client certificate), as a program in a pod makes it. */
/** A TokenReview's status, as the admin creates it. */
async function reviewStatus(token: string): Promise<unknown> {
  const r = await call('/apis/authentication.k8s.io/v1/tokenreviews', cp.pki.adminToken, 'POST', { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token } });
  assert.equal(r.status, 201, JSON.stringify(r.json));
  return r.json.status;
}

function call(path: string, token?: string, method = 'GET', body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const u = new URL(cp.url);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: u.hostname, port: u.port, path, method, ca: cp.pki.caCertPem, headers: { ...(token ? { Authorization: `Bearer ${token}` } : {}), ...(body ? { 'Content-Type': 'application/json' } : {}) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          let json: Record<string, unknown> = {};
          try {
            json = JSON.parse(text) as Record<string, unknown>;
          } catch {
            json = { text };
          }
          resolve({ status: res.statusCode ?? 0, json });
        });
      },
    );
    req.on('error', reject);
    req.end(body ? JSON.stringify(body) : undefined);
  });
}

const whoami = (token: string) => call('/apis/authentication.k8s.io/v1/selfsubjectreviews', token, 'POST', { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' });

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tk-satokens-'));
  cp = await startControlPlane({ dataDir: join(dir, 'data'), listen: '127.0.0.1:0', clock });
  await ok(['create', 'namespace', 'team']);
  await ok(['-n', 'team', 'create', 'serviceaccount', 'robot']);
  // No controllers run here: the namespace's default account is made by hand.
  await ok(['-n', 'team', 'create', 'serviceaccount', 'default']);
});

after(async () => {
  await cp?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('TokenRequest and service-account tokens', () => {
  it('kubectl create token gives a token that authenticates as the account', async () => {
    const token = (await ok(['-n', 'team', 'create', 'token', 'robot'])).trim();
    const claims = decodeJwt(token);
    assert.equal(claims.iss, ISSUER);
    assert.equal(claims.sub, 'system:serviceaccount:team:robot');
    assert.deepEqual(claims.aud, [ISSUER]);
    assert.equal((claims.exp ?? 0) - (claims.iat ?? 0), 3600);
    const me = await whoami(token);
    assert.equal(me.status, 201, JSON.stringify(me.json));
    const info = (me.json.status as { userInfo: Record<string, unknown> }).userInfo;
    const sa = await cp.registry.store('serviceaccounts').get('team', 'robot');
    assert.deepEqual(info, {
      username: 'system:serviceaccount:team:robot',
      uid: sa.metadata?.uid,
      groups: ['system:serviceaccounts', 'system:serviceaccounts:team', 'system:authenticated'],
      extra: { 'authentication.kubernetes.io/credential-id': [`JTI=${claims.jti}`] },
    });
  });

  it('a TokenReview of a token from kubectl create token names the account, its groups and audiences', async () => {
    const token = (await ok(['-n', 'team', 'create', 'token', 'robot', '--audience', 'vault', '--audience', 'api'])).trim();
    const review = (audiences?: string[]) => call('/apis/authentication.k8s.io/v1/tokenreviews', cp.pki.adminToken, 'POST', { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token, ...(audiences ? { audiences } : {}) } });
    const r = await review(['vault']);
    assert.equal(r.status, 201, JSON.stringify(r.json));
    const status = r.json.status as { authenticated: boolean; user: { username: string; uid: string; groups: string[] }; audiences: string[] };
    const sa = await cp.registry.store('serviceaccounts').get('team', 'robot');
    assert.equal(status.authenticated, true);
    assert.equal(status.user.username, 'system:serviceaccount:team:robot');
    assert.equal(status.user.uid, sa.metadata?.uid);
    assert.deepEqual(status.user.groups, ['system:serviceaccounts', 'system:serviceaccounts:team', 'system:authenticated']);
    assert.deepEqual(status.audiences, ['vault']);
    // Not for the API server's own audience (the review's default), nor for an audience it lacks.
    assert.equal(((await review()).json.status as { authenticated?: boolean }).authenticated ?? false, false);
    assert.equal(((await review(['other'])).json.status as { authenticated?: boolean }).authenticated ?? false, false);
  });

  it('the discovery document and key set verify tokens with a standard JWT library', async () => {
    const disco = await call('/.well-known/openid-configuration');
    assert.equal(disco.status, 200);
    assert.equal(disco.json.issuer, ISSUER);
    assert.deepEqual(disco.json.id_token_signing_alg_values_supported, ['RS256']);
    assert.match(String(disco.json.jwks_uri), /\/openid\/v1\/jwks$/);
    const jwks = await call('/openid/v1/jwks');
    assert.equal(jwks.status, 200);
    const token = (await ok(['-n', 'team', 'create', 'token', 'robot', '--audience', 'vault', '--duration', '20m'])).trim();
    const { payload, protectedHeader } = await jwtVerify(token, createLocalJWKSet(jwks.json as { keys: [] }), { issuer: ISSUER, audience: 'vault', currentDate: new Date(clock.now()) });
    assert.equal(protectedHeader.alg, 'RS256');
    assert.equal(payload.exp! - payload.iat!, 1200);
    // A token for another audience is not one for the API server.
    assert.equal((await whoami(token)).status, 401);
  });

  it('a token bound to a pod works while the pod exists and is refused once it is gone', async () => {
    await ok(['-n', 'team', 'apply', '-f', '-'], 'apiVersion: v1\nkind: Pod\nmetadata: {name: worker}\nspec:\n  serviceAccountName: robot\n  containers: [{name: c, image: busybox}]\n');
    const token = (await ok(['-n', 'team', 'create', 'token', 'robot', '--bound-object-kind', 'Pod', '--bound-object-name', 'worker'])).trim();
    const pod = await cp.registry.store('pods').get('team', 'worker');
    const claims = decodeJwt(token);
    assert.deepEqual((claims['kubernetes.io'] as { pod: unknown }).pod, { name: 'worker', uid: pod.metadata?.uid });
    const me = await whoami(token);
    assert.equal(me.status, 201);
    const extra = ((me.json.status as { userInfo: { extra: Record<string, string[]> } }).userInfo).extra;
    assert.deepEqual(extra['authentication.kubernetes.io/pod-name'], ['worker']);
    assert.deepEqual(extra['authentication.kubernetes.io/pod-uid'], [pod.metadata?.uid]);
    await ok(['-n', 'team', 'delete', 'pod', 'worker', '--wait=false']);
    assert.equal((await whoami(token)).status, 401);
  });

  it('refuses what kube-apiserver refuses, with its messages', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['create', 'token', 'robot', '--duration', '5m'], /TokenRequest\.authentication\.k8s\.io "robot" is invalid: spec\.expirationSeconds: Invalid value: 300: may not specify a duration less than 10 minutes/],
      [['create', 'token', 'ghost'], /serviceaccounts "ghost" not found/],
      [['create', 'token', 'robot', '--bound-object-kind', 'Pod', '--bound-object-name', 'nope'], /pods "nope" not found/],
    ];
    for (const [args, want] of cases) {
      const r = await kubectl(['-n', 'team', ...args]);
      assert.notEqual(r.code, 0, args.join(' '));
      assert.match(r.stderr, want, args.join(' '));
    }
    await ok(['-n', 'team', 'apply', '-f', '-'], 'apiVersion: v1\nkind: Pod\nmetadata: {name: other}\nspec:\n  containers: [{name: c, image: busybox}]\n');
    const r = await call('/api/v1/namespaces/team/serviceaccounts/robot/token', cp.pki.adminToken, 'POST', { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'other' } } });
    assert.equal(r.status, 400);
    assert.equal(r.json.message, 'cannot bind token for serviceaccount "robot" to pod running with serviceaccount "default"');
    const wrongUid = await call('/api/v1/namespaces/team/serviceaccounts/default/token', cp.pki.adminToken, 'POST', { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'other', uid: 'u-1' } } });
    assert.equal(wrongUid.status, 409);
    assert.match(String(wrongUid.json.message), /the UID in the bound object reference \(u-1\) does not match the UID in record/);
    const cm = await call('/api/v1/namespaces/team/serviceaccounts/robot/token', cp.pki.adminToken, 'POST', { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { boundObjectRef: { kind: 'ConfigMap', apiVersion: 'v1', name: 'x' } } });
    assert.equal(cm.status, 400);
    assert.equal(cm.json.message, 'cannot bind token to object of type /v1, Kind=ConfigMap');
  });

  it('refuses forged, tampered, expired and misdirected tokens with 401', async () => {
    const good = (await ok(['-n', 'team', 'create', 'token', 'robot'])).trim();
    assert.equal((await whoami(good)).status, 201);
    const [h, p, s] = good.split('.') as [string, string, string];
    const claims = decodeJwt(good);
    const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const key = createPrivateKey(cp.pki.serviceAccountKeyPem);
    const sign = (c: Record<string, unknown>) => new SignJWT(c).setProtectedHeader({ alg: 'RS256', kid: cp.serviceAccountTokens.keyId }).sign(key);
    const publicPem = (await import('node:crypto')).createPublicKey(key).export({ type: 'spki', format: 'pem' }).toString();
    const robotUid = (await cp.registry.store('serviceaccounts').get('team', 'robot')).metadata?.uid;
    // Each with the status.error a TokenReview of it gets from kube-apiserver: the service-account
    // authenticator's reason for a token of its issuer, the bearer-token authenticator's "invalid
    // bearer token" for one no authenticator takes as its own.
    const forged: Array<[string, string, string]> = [
      ['tampered payload', `${h}.${b64({ ...claims, sub: 'system:serviceaccount:kube-system:default' })}.${s}`, 'go-jose/go-jose: error in cryptographic primitive'],
      ['another key id', await new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: 'not-ours' }).sign(key), 'invalid signature, no keys found'],
      ['alg none', `${b64({ alg: 'none' })}.${p}.`, 'invalid bearer token'],
      ['HMAC with the public key', await new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(publicPem)), 'invalid bearer token'],
      ['wrong issuer', await sign({ ...claims, iss: 'https://evil.example' }), 'invalid bearer token'],
      ['wrong audience', await sign({ ...claims, aud: ['someone-else', 'vault'] }), `token audiences ["someone-else" "vault"] is invalid for the target audiences ["${ISSUER}"]`],
      // Past kube's minute of leeway for skewed clocks.
      ['expired', await sign({ ...claims, exp: Math.floor(clock.now() / 1000) - 90 }), 'service account token has expired'],
      ['not yet valid', await sign({ ...claims, nbf: Math.floor(clock.now() / 1000) + 600 }), 'service account token is not valid yet'],
      ['issued in the future', await sign({ ...claims, nbf: undefined, iat: Math.floor(clock.now() / 1000) + 600 }), 'service account token is issued in the future'],
      ['another account uid', await sign({ ...claims, 'kubernetes.io': { namespace: 'team', serviceaccount: { name: 'robot', uid: 'recreated' } } }), `service account UID (${robotUid}) does not match claim (recreated)`],
      ['bound to a pod that is gone', await sign({ ...claims, 'kubernetes.io': { namespace: 'team', serviceaccount: { name: 'robot', uid: robotUid }, pod: { name: 'gone', uid: 'p-1' } } }), 'service account token has been invalidated'],
      ['garbage', 'a.b.c', 'invalid bearer token'],
      ['opaque', 'not-a-jwt', 'invalid bearer token'],
    ];
    for (const [what, token, error] of forged) {
      const r = await whoami(token);
      assert.equal(r.status, 401, what);
      assert.equal(r.json.reason, 'Unauthorized', what);
      assert.deepEqual(await reviewStatus(token), { user: {}, error }, what);
    }
    // The clock moving past its expiry (and kube's minute of leeway) ends a token.
    clock.advance(3600_000 + 90_000);
    assert.equal((await whoami(good)).status, 401);
  });

  it('a deleted service account takes its tokens with it', async () => {
    await ok(['-n', 'team', 'create', 'serviceaccount', 'temp']);
    const token = (await ok(['-n', 'team', 'create', 'token', 'temp'])).trim();
    assert.equal((await whoami(token)).status, 201);
    await ok(['-n', 'team', 'delete', 'serviceaccount', 'temp']);
    assert.equal((await whoami(token)).status, 401);
    assert.deepEqual(await reviewStatus(token), { user: {}, error: 'serviceaccounts "temp" not found' });
    await ok(['-n', 'team', 'create', 'serviceaccount', 'temp']);
    assert.equal((await whoami(token)).status, 401, 'a recreated account is another account');
  });
});
